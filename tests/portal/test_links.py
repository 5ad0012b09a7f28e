"""Magic links: signed, expiring, single use; opening one starts a session of that organisation only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from portal import links
from portal.access import SESSION_KEY
from portal.models import PortalLink

pytestmark = pytest.mark.django_db


def test_a_link_opens_once(organisation):
    # given
    link = links.mint(organisation, read_only=True, event_types=["invoice.*"])

    # when
    redeemed = links.redeem(link.token)

    # then
    assert redeemed.organisation == organisation and redeemed.read_only and redeemed.event_types == ["invoice.*"]
    with pytest.raises(links.LinkRefused) as refused:
        links.redeem(link.token)
    assert refused.value.code == "used"


def test_an_expired_link_is_refused(organisation):
    # given
    link = links.mint(organisation, ttl=60)
    PortalLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    # then
    with pytest.raises(links.LinkRefused) as refused:
        links.redeem(link.token)
    assert refused.value.code == "expired"


# Fixed ids: a signed token carries the time it was made, and xdist's workers must collect the same names.
@pytest.mark.parametrize(
    "token",
    ["nonsense", signing.dumps(1, salt="another.salt"), signing.dumps(999, salt=links.SALT)],
    ids=["nonsense", "another-salt", "unknown-link"],
)
def test_a_forged_or_unknown_link_is_invalid(organisation, token):
    links.mint(organisation)

    with pytest.raises(links.LinkRefused) as refused:
        links.redeem(token)

    assert refused.value.code == "invalid"


def test_the_ttl_default_comes_from_the_setting(organisation, settings):
    settings.HOOKLINE_PORTAL = {"LINK_TTL": 120}

    link = links.mint(organisation)

    assert timedelta(seconds=110) < link.expires_at - timezone.now() <= timedelta(seconds=120)


def test_opening_a_link_starts_a_session_with_a_new_key(client, organisation):
    # given
    client.get("/webhooks/")  # an earlier anonymous session
    before = client.session.session_key

    # when
    response = client.get(links.mint(organisation).path)

    # then
    assert response.status_code == 302 and response["Location"] == "/webhooks/"
    assert client.session[SESSION_KEY]["organisation"] == organisation.pk
    assert client.session.session_key != before


@pytest.mark.parametrize(
    "case, status, words",
    [
        ("used", 410, "already used"),
        ("expired", 410, "expired"),
        ("invalid", 404, "not valid"),
    ],
)
def test_a_refused_link_gets_a_page_saying_why(client, organisation, case, status, words):
    # given
    link = links.mint(organisation)
    if case == "used":
        client.get(link.path)
        client = type(client)()
    elif case == "expired":
        PortalLink.objects.update(expires_at=timezone.now())
    path = link.path if case != "invalid" else link.path.replace(link.token, link.token[:-2] + "xx")

    # when
    response = client.get(path)

    # then
    assert response.status_code == status
    assert words in response.content.decode()
    assert SESSION_KEY not in client.session


def test_a_session_ends_after_its_age(portal_client, settings):
    settings.HOOKLINE_PORTAL = {"SESSION_AGE": -1}
    client = portal_client()

    assert client.get("/webhooks/").status_code == 403


def test_signing_out_ends_the_session(portal_client):
    client = portal_client()

    assert client.post("/webhooks/sign-out/").status_code == 200
    assert client.get("/webhooks/").status_code == 403
