"""004 store-notice: the notice itself as a flat JSON body with its event (PUBLISH/UPDATE/DELETE/VERIFY) and the
receiver's token at the top level; Basic auth from the URL; several webhooks; a history of requests and responses."""
from __future__ import annotations

import base64

import pytest

from deliveries.models import Attempt
from hooks import services
from tests.support.receiver import always

from .conftest import emit, settle

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
TOKEN = "tok-5f2b9c"
NOTICE = {"noticeId": 42, "dispId": "N-0042", "title": "Fire drill", "priority": 4, "keywords": ["safety"],
          "recvStores": ["S001", "S002"], "text": "Friday 10:00", "data": {"10001": "yes"}}


def test_store_notice_posts_the_notice_with_event_and_token(worker, receiver, organisation, event_type):
    # given: two webhooks, one behind Basic auth given in the URL
    for key in ("notice.published", "notice.updated", "notice.deleted"):
        event_type(key)
    contract = {"preset": "store-notice", "body": {"constants": {"token": TOKEN}}}
    secured, _ = services.create_webhook(
        url=receiver.on("/receive-hook", always(200)).replace("http://", "http://UserID:PassWord@"),
        organisation=organisation, name="Store hook", event_types=["notice.*"], contract=contract)
    chat, _ = services.create_webhook(url=receiver.on("/chat", always(200)), organisation=organisation,
                                      name="Chat", event_types=["notice.published"], contract=contract)

    # when: a notice is published, then updated
    emit("notice.published", {**NOTICE, "event": "PUBLISH"}, organisation)
    emit("notice.updated", {**NOTICE, "event": "UPDATE", "title": "Fire drill (moved)"}, organisation)

    # then: each POST is the notice with event and token at the top level, Basic auth on the secured one
    settle(secured, 2), settle(chat, 1)
    published, updated = sorted(receiver.at("/receive-hook"), key=lambda r: r.json["event"])  # sent concurrently
    assert published.json == {**NOTICE, "event": "PUBLISH", "token": TOKEN}
    assert updated.json["event"] == "UPDATE" and updated.json["title"] == "Fire drill (moved)"
    assert published.headers["content-type"] == "application/json; charset=utf-8"
    assert published.headers["authorization"] == "Basic " + base64.b64encode(b"UserID:PassWord").decode()
    assert [r.json["event"] for r in receiver.at("/chat")] == ["PUBLISH"]
    # and: the history keeps time, status code, URL (password masked), request and response
    attempt = Attempt.objects.get(delivery__webhook=secured, request_body=published.body.decode())
    assert attempt.response_status == 200 and "UserID:***@" in attempt.request_url and attempt.created_at
    assert "PassWord" not in str(attempt.request_headers) and attempt.response_body
