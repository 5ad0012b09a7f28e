"""Magic links: signed, expiring, single use; opening one starts a session of that organisation only."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core import signing
from django.core.management import call_command
from django.test import Client
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
    ["nonsense", signing.dumps(1, salt="another.salt"), "MQ:1vSxyz:forged-signature"],
    ids=["nonsense", "another-salt", "forged-signature"],
)
def test_a_forged_or_unknown_link_is_invalid(organisation, token):
    links.mint(organisation)

    with pytest.raises(links.LinkRefused) as refused:
        links.redeem(token)

    assert refused.value.code == "invalid"


def test_checking_a_link_uses_nothing(organisation):
    link = links.mint(organisation)

    assert links.check(link.token).organisation == organisation
    assert links.redeem(link.token).used_at is not None
    with pytest.raises(links.LinkRefused) as refused:
        links.check(link.token)
    assert refused.value.code == "used"


def test_the_ttl_default_comes_from_the_setting(organisation, settings):
    settings.HOOKLINE_PORTAL = {"LINK_TTL": 120}

    link = links.mint(organisation)

    assert timedelta(seconds=110) < link.expires_at - timezone.now() <= timedelta(seconds=120)


def test_opening_a_link_asks_then_starts_a_session_with_a_new_key(client, organisation):
    # given
    client.get("/webhooks/")  # an earlier anonymous session
    before = client.session.session_key
    link = links.mint(organisation)

    # when: the customer opens the link, then presses the button
    shown = client.get(link.path)
    response = client.post(link.path)

    # then
    assert shown.status_code == 200 and "Continue to the portal" in shown.content.decode()
    assert response.status_code == 302 and response["Location"] == "/webhooks/"
    assert client.session[SESSION_KEY]["organisation"] == organisation.pk
    assert client.session.session_key != before


def test_a_get_alone_never_uses_the_link(client, organisation):
    """Mail scanners and chat unfurlers GET every link: the customer's own click must still work after them."""
    # given
    link = links.mint(organisation)

    # when: a prefetcher GETs the link twice (and HEADs it)
    prefetcher = type(client)()
    answers = [prefetcher.get(link.path).status_code, prefetcher.head(link.path).status_code]
    answers.append(prefetcher.get(link.path).status_code)

    # then: nothing was used and nobody is signed in; the customer's button still opens the portal once
    assert answers == [200, 200, 200]
    assert PortalLink.objects.get().used_at is None
    assert prefetcher.get("/webhooks/").status_code == 403
    assert client.post(link.path).status_code == 302
    assert type(client)().post(link.path).status_code == 410


def test_the_button_needs_the_pages_csrf_token(organisation):
    # given: a browser-like client, and a page of another site that posts to the link
    link = links.mint(organisation)
    browser = Client(enforce_csrf_checks=True)

    # then: a bare POST is refused and uses nothing; the page's own form works
    assert browser.post(link.path).status_code == 403
    page = browser.get(link.path).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert browser.post(link.path, {"csrfmiddlewaretoken": token}).status_code == 302


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(
    "case, status, words",
    [
        ("used", 410, "already used"),
        ("expired", 410, "expired"),
        ("invalid", 404, "not valid"),
    ],
)
def test_a_refused_link_gets_a_page_saying_why(client, organisation, method, case, status, words):
    # given
    link = links.mint(organisation)
    if case == "used":
        client.post(link.path)
        client = type(client)()
    elif case == "expired":
        PortalLink.objects.update(expires_at=timezone.now())
    path = link.path if case != "invalid" else link.path.replace(link.token, link.token[:-2] + "xx")

    # when
    response = getattr(client, method)(path)

    # then
    assert response.status_code == status
    assert words in response.content.decode()
    assert SESSION_KEY not in client.session


def test_prune_deletes_spent_links(organisation, client):
    # given: links used or expired more than a day ago, and links still in use or spent moments ago
    long_ago = timezone.now() - timedelta(days=2)
    old_used, old_expired, fresh, just_used = (links.mint(organisation) for _ in range(4))
    PortalLink.objects.filter(pk=_pk(old_used)).update(used_at=long_ago)
    PortalLink.objects.filter(pk=_pk(old_expired)).update(expires_at=long_ago)
    client.post(just_used.path)

    # when: the retention command every site runs on beat
    out = StringIO()
    call_command("prune", stdout=out)

    # then
    assert set(PortalLink.objects.values_list("pk", flat=True)) == {_pk(fresh), _pk(just_used)}
    assert "2 portal links" in out.getvalue()
    assert type(client)().get(old_used.path).status_code == 410  # a pruned link reads as expired, not as forged
    assert "expired" in type(client)().get(old_used.path).content.decode()


def _pk(link: links.MagicLink) -> int:
    return signing.loads(link.token, salt=links.SALT)


def test_a_session_ends_after_its_age(portal_client, settings):
    settings.HOOKLINE_PORTAL = {"SESSION_AGE": -1}
    client = portal_client()

    assert client.get("/webhooks/").status_code == 403


def test_signing_out_ends_the_session(portal_client):
    client = portal_client()

    assert client.post("/webhooks/sign-out/").status_code == 200
    assert client.get("/webhooks/").status_code == 403
