"""004 store-notice: the notice itself as a flat JSON body with its event (PUBLISH/UPDATE/DELETE/VERIFY) and a
token at the top level — a per-endpoint secret, not a constant — which the receiver validates while it handles the
request (validateWebhookToken: POST /api/tokens/validate/); Basic auth from the URL; several webhooks; a history
of requests and responses. Configured by the published recipes, as written."""

from __future__ import annotations

import base64
import json
import threading
from urllib.parse import urlsplit

import pytest
from rest_framework.authtoken.models import Token

from deliveries.models import Attempt
from hooks import services
from tests.support.receiver import Reply

from .conftest import emit, settle
from .recipes import run_python

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
NOTICE = {
    "noticeId": 42,
    "dispId": "N-0042",
    "event": "PUBLISH",
    "title": "Fire drill",
    "priority": 4,
    "recvStores": ["S001", "S002"],
}  # what the 004-store-notice-emit recipe publishes


def validating_receiver(genuine, verdicts: list):
    """A receiver that checks each notice's token with the published ``genuine()`` before it answers."""
    lock = threading.Lock()

    def behaviour(request, count: int) -> Reply:
        valid = genuine(request.headers, request.json)
        with lock:
            verdicts.append((request.webhook_id, request.json["token"], valid))
        return Reply(200 if valid else 401)

    return behaviour


def test_store_notice_posts_the_notice_with_a_token_the_receiver_validates(
    start_worker, receiver, organisation, member, event_type, live_server, recipe
):
    # given: the store-notice webhook of the recipe, and a second one side by side
    for key in ("notice.published", "notice.updated", "notice.deleted"):
        event_type(key)
    hook = recipe("004-store-notice")["hook"]
    chat, _ = services.create_webhook(
        url=receiver.url("/chat"),
        organisation=organisation,
        name="Chat",
        event_types=["notice.published"],
        contract={"preset": "store-notice"},
    )
    # and: receivers that validate each token as the published receiver code does, while the request is open
    genuine = run_python(
        "004-store-notice-receiver",
        {"HOOKLINE": live_server.url, "API_TOKEN": Token.objects.get_or_create(user=member)[0].key},
    )["genuine"]
    path, verdicts = urlsplit(hook.url).path, []
    receiver.on(path, validating_receiver(genuine, verdicts))
    receiver.on("/chat", validating_receiver(genuine, verdicts))
    start_worker()

    # when: a notice is published, as the recipe emits it, then updated
    recipe("004-store-notice-emit")
    updated_id = emit("notice.updated", {**NOTICE, "event": "UPDATE", "title": "Fire drill (moved)"}, organisation)

    # then: each POST is the notice with its event and the endpoint's own token at the top level
    settle(hook, 2), settle(chat, 1)
    published, updated = sorted(receiver.at(path), key=lambda r: r.json["event"])  # sent concurrently
    assert published.json == {**NOTICE, "token": hook.body_token}
    assert updated.json["event"] == "UPDATE" and updated.webhook_id == updated_id
    assert published.headers["content-type"] == "application/json; charset=utf-8"
    assert published.headers["authorization"] == "Basic " + base64.b64encode(b"UserID:PassWord").decode()
    (to_chat,) = receiver.at("/chat")
    assert to_chat.json == {**NOTICE, "token": chat.body_token} and chat.body_token != hook.body_token
    # and: the receiver found every token genuine while handling its request, so each answered 200
    assert sorted(verdicts) == sorted([(r.webhook_id, r.json["token"], True) for r in [*receiver.at(path), to_chat]])
    # and: a token is genuine only with a message sent with it
    assert not genuine(published.headers, {"token": "tok-forged-0123456789"})
    assert not genuine(updated.headers, {"token": chat.body_token})  # a real token, but chat never got that notice
    # and: the token is a secret of the endpoint, encrypted, never in the contract or the history
    assert hook.body_token not in json.dumps(hook.contract) + hook.body_token_encrypted
    attempt = Attempt.objects.get(delivery__webhook=hook, delivery__event_id=published.webhook_id)
    assert attempt.response_status == 200 and "UserID:***@" in attempt.request_url and attempt.created_at
    assert json.loads(attempt.request_body) == {**NOTICE, "token": "***"} and attempt.response_body
    assert "PassWord" not in str(attempt.request_headers) and hook.body_token not in attempt.request_body

    # when: the token is rotated
    old, new = hook.body_token, services.rotate_body_token(hook)
    emit("notice.deleted", {**NOTICE, "event": "DELETE"}, organisation)

    # then: the next notice carries the new token, which the receiver validates too
    settle(hook, 3)
    deleted = next(r for r in receiver.at(path) if r.json["event"] == "DELETE")
    assert deleted.json["token"] == new != old and verdicts[-1] == (deleted.webhook_id, new, True)
