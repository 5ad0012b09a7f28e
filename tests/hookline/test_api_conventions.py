"""What every API route shares: authentication, the error shape, write throttling, the schema and its docs."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from hookline.checks import check_api_rates

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("public_dns")]

ROUTES = [
    ("get", "/api/webhooks/"),
    ("post", "/api/webhooks/"),
    ("get", "/api/webhooks/1/"),
    ("patch", "/api/webhooks/1/"),
    ("put", "/api/webhooks/1/"),
    ("delete", "/api/webhooks/1/"),
    ("post", "/api/webhooks/1/test/"),
    ("post", "/api/webhooks/1/rotate-secret/"),
    ("post", "/api/webhooks/1/recover/"),
    ("get", "/api/deliveries/"),
    ("get", "/api/deliveries/1/"),
    ("post", "/api/deliveries/1/redeliver/"),
    ("get", "/api/event-types/"),
    ("get", "/api/event-types/webhook.test/"),
    ("post", "/api/events/"),
    ("post", "/api/tokens/validate/"),
]


@pytest.fixture
def fresh_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("method, path", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_every_route_needs_authentication(method, path):
    # when
    response = getattr(APIClient(), method)(path, {}, format="json")

    # then
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided.", "code": "not_authenticated"}
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_is_401():
    # given
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    # when
    response = client.get("/api/webhooks/")

    # then
    assert response.status_code == 401 and response.json()["code"] == "authentication_failed"


def test_a_session_works_too_with_csrf_protection(member):
    # given
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(member)

    # when
    read = browser.get("/api/webhooks/")
    write = browser.post("/api/webhooks/", {"url": "https://example.com/h"}, format="json")

    # then
    assert read.status_code == 200
    assert write.status_code == 403 and "CSRF" in write.json()["detail"]


def test_writes_are_throttled_per_user_and_reads_are_not(api, client_for, outsider, settings, fresh_throttles):
    # given
    settings.HOOKLINE = {**settings.HOOKLINE, "API_WRITE_RATE": "2/minute"}
    body = {"url": "https://example.com/h"}

    # when
    writes = [api.post("/api/webhooks/", body, format="json").status_code for _ in range(3)]
    reads = [api.get("/api/webhooks/").status_code for _ in range(3)]
    someone_else = client_for(outsider).post("/api/webhooks/", body, format="json")

    # then
    assert writes == [201, 201, 429]
    assert reads == [200, 200, 200]
    assert someone_else.status_code == 201


def test_a_throttled_answer_says_when_to_retry(api, settings, fresh_throttles):
    # given
    settings.HOOKLINE = {**settings.HOOKLINE, "API_WRITE_RATE": "1/hour"}
    api.post("/api/tokens/validate/", {"webhook_id": "msg_1", "signature": "v1,x"}, format="json")

    # when
    response = api.post("/api/tokens/validate/", {"webhook_id": "msg_1", "signature": "v1,x"}, format="json")

    # then
    assert response.status_code == 429
    assert response.json()["code"] == "throttled" and "Expected available in" in response.json()["detail"]
    assert 0 < int(response["Retry-After"]) <= 3600


@pytest.mark.parametrize(
    "rate, ok", [("120/minute", True), ("", True), ("5/s", True), ("fast", False), ("10/week", False)]
)
def test_a_bad_rate_setting_fails_the_system_check(settings, rate, ok):
    # given
    settings.HOOKLINE = {**settings.HOOKLINE, "API_WRITE_RATE": rate}

    # when
    errors = check_api_rates()

    # then
    assert (errors == []) is ok


def test_the_schema_documents_every_route_and_its_errors(client):
    # when
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    # then
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    assert set(paths) == {
        "/api/webhooks/",
        "/api/webhooks/{id}/",
        "/api/webhooks/{id}/test/",
        "/api/webhooks/{id}/rotate-secret/",
        "/api/webhooks/{id}/rotate-body-token/",
        "/api/webhooks/{id}/recover/",
        "/api/webhooks/{id}/pause/",
        "/api/webhooks/{id}/resume/",
        "/api/webhooks/{id}/reset-breaker/",
        "/api/webhooks/{id}/skip-head/",
        "/api/deliveries/",
        "/api/deliveries/{id}/",
        "/api/deliveries/{id}/redeliver/",
        "/api/event-types/",
        "/api/event-types/{key}/",
        "/api/events/",
        "/api/tokens/validate/",
        "/api/scheduled-events/",
        "/api/scheduled-events/{id}/",
        "/api/portal-sessions/",  # registered by the portal app (portal/apps.py)
    }
    assert {p["name"] for p in paths["/api/events/"]["get"]["parameters"]} >= {"type", "payload"}
    assert {p["name"] for p in paths["/api/webhooks/"]["get"]["parameters"]} >= {
        "state",
        "created_after",
        "created_before",
        "search",
        "page",
        "page_size",
    }
    assert {p["name"] for p in paths["/api/deliveries/"]["get"]["parameters"]} >= {
        "webhook",
        "status",
        "event_type",
        "payload",
    }
    assert "409" in paths["/api/webhooks/{id}/"]["delete"]["responses"]
    assert {"400", "401", "404", "429"} <= set(paths["/api/webhooks/{id}/"]["patch"]["responses"])
    assert "secret" in schema["components"]["schemas"]["WebhookCreated"]["properties"]
    assert "secret" not in schema["components"]["schemas"]["Webhook"]["properties"]


def test_the_docs_page_is_served_without_a_cdn(client):
    # when
    response = client.get("/api/docs/")

    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page and "cdn." not in page


def test_the_schema_is_valid_openapi(tmp_path):
    # when
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    # then
    assert "/api/webhooks/{id}/rotate-secret/" in (tmp_path / "schema.yaml").read_text()


def test_the_schema_is_exact_enough_for_generated_clients(client):
    # when
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    components, paths = schema["components"]["schemas"], schema["paths"]

    # then: answers mark every field they always carry as required, and say what may be null
    webhook = components["Webhook"]
    assert set(webhook["required"]) == set(webhook["properties"])
    assert (
        webhook["properties"]["organisation"]["nullable"]
        and components["Event"]["properties"]["organisation"]["nullable"]
    )
    assert components["Error"]["required"] == ["code", "detail"]
    # ids in paths are integers
    assert paths["/api/webhooks/{id}/"]["get"]["parameters"][0]["schema"] == {"type": "integer"}
    # states: all four in answers (the test result too), only new/deactivated in writes
    assert components["StateEnum"]["enum"] == ["new", "valid", "invalid", "deactivated"]
    assert components["TestResult"]["properties"]["state"]["allOf"] == [{"$ref": "#/components/schemas/StateEnum"}]
    assert components["WritableStateEnum"]["enum"] == ["new", "deactivated"]
    assert components["PatchedWebhookRequest"]["properties"]["state"]["allOf"] == [
        {"$ref": "#/components/schemas/WritableStateEnum"}
    ]
    # a signature or a token
    assert [branch["required"] for branch in components["TokenValidationRequest"]["anyOf"]] == [
        ["webhook_id", "signature"],
        ["webhook_id", "token"],
    ]
    assert components["WebhookRequest"]["properties"]["event_types"]["minItems"] == 1
    assert components["EventTypeReplaceRequest"]["required"] == ["description"]


def test_a_put_to_an_event_type_replaces_it_and_needs_a_body(client_for, member, event_type):
    # given
    event_type("order.shipped", description="Old.")
    member.is_staff = True
    member.save()
    staff = client_for(member)

    # when
    empty = staff.put("/api/event-types/order.shipped/", format="json")
    replaced = staff.put("/api/event-types/order.shipped/", {"description": "Shipped."}, format="json")

    # then
    assert empty.status_code == 400 and "description" in empty.json()["fields"]
    assert replaced.status_code == 200 and replaced.json()["key"] == "order.shipped"
    assert replaced.json()["description"] == "Shipped."


@pytest.mark.parametrize(
    "body, code",
    [
        ({"headers": {"Content-Type": "text/plain"}}, "headers"),
        ({"state": "valid"}, "state"),
    ],
)
def test_refused_values_name_their_field(api, body, code):
    # given
    webhook = api.post("/api/webhooks/", {"url": "http://127.0.0.1:9/in"}, format="json").json()

    # when
    response = api.patch(f"/api/webhooks/{webhook['id']}/", body, format="json")

    # then
    assert response.status_code == 400
    answer = response.json()
    assert answer["code"] == code and answer["fields"] == {code: [answer["detail"]]}


def test_redoc_is_served_offline(client):
    # when
    response = client.get("/api/redoc/")

    # then: its script from this site's static files, no web fonts, and nothing fetched from elsewhere
    page = response.content.decode()
    assert response.status_code == 200 and "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in page
    assert "https://" not in page and "googleapis" not in page
    assert "img-src 'self'" in response["Content-Security-Policy"]
