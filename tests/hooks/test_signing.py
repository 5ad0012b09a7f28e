"""Signatures, checked by independent verifiers: the standardwebhooks and svix packages."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError
from svix.webhooks import Webhook as SvixWebhook

from hooks import signing

BODY = json.dumps({"type": "invoice.paid", "timestamp": "2026-11-23T00:00:00Z", "data": {"invoice": 42}}).encode()


def _headers(secrets, msg_id="msg_1", timestamp=None):
    timestamp = timestamp or int(time.time())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.signature_header(secrets, msg_id, timestamp, BODY),
    }


def test_generated_secret_has_the_standard_shape():
    secret = signing.generate_secret()
    assert secret.startswith("whsec_")
    assert len(signing.secret_key_bytes(secret)) == 32
    assert signing.generate_secret() != secret


@pytest.mark.parametrize("verifier_class", [StandardWebhook, SvixWebhook])
def test_independent_verifiers_accept_our_signature(verifier_class):
    # given
    secret = signing.generate_secret()
    # when
    headers = _headers([secret])
    # then: verify() raises on a bad signature (svix returns nothing, standardwebhooks the payload)
    verifier_class(secret).verify(BODY, headers)


@pytest.mark.parametrize("verifier_class", [StandardWebhook, SvixWebhook])
def test_during_rotation_either_secret_verifies(verifier_class):
    old, new = signing.generate_secret(), signing.generate_secret()
    headers = _headers([new, old])
    assert len(headers["webhook-signature"].split()) == 2
    for secret in (old, new):
        verifier_class(secret).verify(BODY, headers)


def test_a_tampered_body_or_wrong_secret_is_rejected():
    secret = signing.generate_secret()
    headers = _headers([secret])
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(secret).verify(BODY + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(signing.generate_secret()).verify(BODY, headers)


def test_signature_is_hmac_of_id_timestamp_body_with_the_decoded_key():
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    expected = base64.b64encode(hmac.new(b"k" * 32, b"msg_1.1700000000." + BODY, hashlib.sha256).digest()).decode()
    assert signing.sign(secret, "msg_1", 1700000000, BODY) == f"v1,{expected}"


def test_github_signature_is_hex_hmac_of_the_body():
    secret = signing.generate_secret()
    expected = hmac.new(secret.encode(), BODY, hashlib.sha256).hexdigest()
    assert signing.github_signature(secret, BODY) == f"sha256={expected}"


def test_verify_accepts_any_listed_secret():
    old, new = signing.generate_secret(), signing.generate_secret()
    header = signing.signature_header([old], "msg_1", 1, BODY)
    assert signing.verify([new, old], "msg_1", 1, BODY, header)
    assert not signing.verify([new], "msg_1", 1, BODY, header)
