"""A client generated with openapi-python-client from the live /api/schema/ runs the README walkthrough and parses every
answer."""

from __future__ import annotations

import importlib
import io
import sys

import httpx
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from standardwebhooks.webhooks import Webhook as StandardWebhook

from tests.conftest import IN_CI
from tests.support.generated_client import generate, generator
from tests.support.receiver import always
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def hookline_client(client, tmp_path):
    if generator() is None:
        message = "needs openapi-python-client (scripts/test.sh installs it in var/venv-openapi)"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    package = generate(schema, tmp_path)
    yield package
    for name in [name for name in sys.modules if name == package.__name__ or name.startswith(package.__name__ + ".")]:
        del sys.modules[name]


def _parsed(response, status: int):
    """The answer as the generated model: the status the schema promised and a body it could parse."""
    assert response.status_code == status, response.content
    assert response.parsed is not None
    return response.parsed


def test_a_generated_client_runs_the_walkthrough(hookline_client, receiver, worker, operator):
    # given: the README's token for a staff member of an organisation, and a worker
    token = io.StringIO()
    call_command("create_api_token", operator.username, stdout=token)
    api = hookline_client.AuthenticatedClient(
        base_url="http://127.0.0.1", token=token.getvalue().strip(), prefix="Token", raise_on_unexpected_status=True
    )
    # The site in-process (WSGI): no server thread holding a database connection.
    api.set_httpx_client(
        httpx.Client(
            base_url="http://127.0.0.1",
            transport=httpx.WSGITransport(app=WSGIHandler()),
            headers={"Authorization": f"Token {api.token}"},
        )
    )

    def op(tag: str, name: str):
        return importlib.import_module(f"{hookline_client.__name__}.api.{tag}.{name}")

    models = importlib.import_module(f"{hookline_client.__name__}.models")

    # 1. an event type, and an endpoint subscribing to it
    _parsed(
        op("event_types", "event_types_create").sync_detailed(
            client=api, body=models.EventTypeRequest(key="invoice.paid", description="An invoice was paid.")
        ),
        201,
    )
    endpoint = _parsed(
        op("webhooks", "webhooks_create").sync_detailed(
            client=api,
            body=models.WebhookRequest(
                url=receiver.on("/hook", always(200)), name="My receiver", event_types=["invoice.*"]
            ),
        ),
        201,
    )
    assert endpoint.secret.startswith("whsec_") and endpoint.organisation == "acme"

    # 2. emit
    emit_body = models.EmitRequest(type_="invoice.paid", payload=models.EmitRequestPayload.from_dict({"invoice": 42}))
    event = _parsed(op("events", "events_create").sync_detailed(client=api, body=emit_body), 202)

    # 3. watch the delivery, then inspect it
    def delivered():
        page = _parsed(
            op("deliveries", "deliveries_list").sync_detailed(client=api, event=event.id, webhook=endpoint.id), 200
        )
        return page.results if page.results and page.results[0].status == models.StatusEnum.SUCCEEDED else None

    [delivery] = wait_until(delivered, timeout=60, message="the delivery")
    detail = _parsed(op("deliveries", "deliveries_retrieve").sync_detailed(delivery.id, client=api), 200)
    assert [attempt.response_status for attempt in detail.attempt_log] == [200]
    StandardWebhook(endpoint.secret).verify(receiver.at("/hook")[0].body, receiver.at("/hook")[0].headers)

    # 4. redeliver
    _parsed(op("deliveries", "deliveries_redeliver_create").sync_detailed(delivery.id, client=api), 202)
    wait_until(
        lambda: (
            len(
                _parsed(op("deliveries", "deliveries_retrieve").sync_detailed(delivery.id, client=api), 200).attempt_log
            )
            == 2
        ),
        timeout=30,
        message="the second attempt",
    )

    # 5. rotate the secret; a receiver checks a signature through the API
    rotated = _parsed(op("webhooks", "webhooks_rotate_secret_create").sync_detailed(endpoint.id, client=api), 200)
    assert rotated.secret != endpoint.secret
    latest = receiver.at("/hook")[-1]
    check = _parsed(
        op("tokens", "tokens_validate_create").sync_detailed(
            client=api,
            body=models.TokenValidationRequestType0(
                webhook_id=latest.webhook_id, signature=latest.headers["webhook-signature"]
            ),
        ),
        200,
    )
    assert check.valid and check.webhook == endpoint.id

    # 6. a test ping, a refused state, then delete
    tested = _parsed(op("webhooks", "webhooks_test_create").sync_detailed(endpoint.id, client=api), 200)
    assert tested.state == models.StateEnum.VALID and tested.succeeded
    refused = op("webhooks", "webhooks_partial_update").sync_detailed(
        endpoint.id,
        client=api,
        body=models.PatchedWebhookRequest(
            headers=models.PatchedWebhookRequestHeaders.from_dict({"Content-Type": "text/plain"})
        ),
    )
    assert (
        refused.status_code == 400 and refused.parsed.code == "headers" and "headers" in refused.parsed.fields.to_dict()
    )
    assert op("webhooks", "webhooks_destroy").sync_detailed(endpoint.id, client=api, force=False).status_code == 204
