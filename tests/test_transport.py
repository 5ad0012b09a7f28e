"""The HTTP transport against real loopback receivers: timeouts, no redirects, bounded reads."""
import pytest
import responses

from deliveries import transport
from deliveries.transport import OutgoingRequest
from tests.support.receiver import Reply
from tests.support.overrides import hookline




def request(url: str) -> OutgoingRequest:
    return OutgoingRequest(url=url, headers={"content-type": "application/json"}, body=b'{"a":1}')


def test_a_2xx_answer_is_returned_as_data(receiver):
    url = receiver.on("/ok", lambda r, n: Reply(201, b'{"thanks":true}'))
    result = transport.post(request(url))
    assert (result.ok, result.status, result.body, result.error) == (True, 201, '{"thanks":true}', "")
    assert receiver.at("/ok")[0].body == b'{"a":1}'


def test_keep_alive_reuses_one_connection(receiver):
    url = receiver.on("/ok", lambda r, n: Reply(200))
    for _ in range(5):
        assert transport.post(request(url)).ok
    # the per-thread session keeps one pooled connection: every request came from the same client port
    assert len({r.client_port for r in receiver.at("/ok")}) == 1


def test_redirects_are_not_followed(receiver):
    url = receiver.on("/moved", lambda r, n: Reply(301, b"", {"Location": "http://169.254.169.254/latest/meta-data/"}))
    result = transport.post(request(url))
    assert result.status == 301 and not result.ok
    assert len(receiver.requests) == 1


def test_a_receiver_that_hangs_hits_the_read_timeout(receiver):
    url = receiver.on("/hang", lambda r, n: Reply(200, delay=2))
    with hookline(READ_TIMEOUT=0.3):
        result = transport.post(request(url))
    assert result.status is None and "read timeout" in result.error
    assert result.duration_ms < 1500


def test_a_refused_connection_is_a_failed_attempt_not_an_exception():
    result = transport.post(request("http://127.0.0.1:1/"))
    assert result.status is None and result.error.startswith("Connection failed")


def test_a_huge_answer_is_read_only_up_to_the_cap(receiver):
    url = receiver.on("/huge", lambda r, n: Reply(200, b"x" * (5 * 1024 * 1024)))
    with hookline(MAX_RESPONSE_BYTES=1024):
        result = transport.post(request(url))
    assert result.ok and result.truncated and len(result.body) == 1024


def test_private_targets_are_refused_at_send_time_unless_allowed(receiver):
    url = receiver.on("/ok", lambda r, n: Reply(200))
    with hookline(ALLOW_PRIVATE_ADDRESSES=False):
        result = transport.post(request(url))
    assert result.status is None and "Refused by the URL guard" in result.error
    assert receiver.requests == []


@responses.activate
def test_headers_auth_and_body_are_sent_as_given():
    responses.post("https://receiver.example/hook", status=204)
    with hookline(ALLOW_PRIVATE_ADDRESSES=True):
        result = transport.post(
            OutgoingRequest("https://receiver.example/hook", {"x-a": "1"}, b"{}", auth=("user", "pw"))
        )
    sent = responses.calls[0].request
    assert result.status == 204
    assert sent.headers["x-a"] == "1" and sent.headers["Authorization"].startswith("Basic ")
    assert sent.body == b"{}"


@pytest.mark.parametrize("status", [500, 404, 429])
@responses.activate
def test_non_2xx_answers_are_failures_with_their_body(status):
    responses.post("https://receiver.example/hook", status=status, body="nope", headers={"Retry-After": "7"})
    with hookline(ALLOW_PRIVATE_ADDRESSES=True):
        result = transport.post(request("https://receiver.example/hook"))
    assert (result.ok, result.status, result.body, result.headers["Retry-After"]) == (False, status, "nope", "7")
