"""POST /api/portal-sessions/: staff and tokens of an organisation mint a link to its portal."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from portal.access import SESSION_KEY
from portal.models import PortalLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def may_manage(member):
    member.user_permissions.add(Permission.objects.get(codename="change_webhook"))
    return member


def test_a_token_mints_a_link_that_opens_its_organisation(client_for, may_manage, organisation):
    # when
    answer = client_for(may_manage).post(
        "/api/portal-sessions/",
        {"organisation": "acme", "read_only": True, "event_types": ["invoice.*"], "ttl": 600},
        format="json",
    )

    # then
    assert answer.status_code == 201, answer.content
    url = answer.json()["url"]
    assert url.startswith("http://testserver/webhooks/open/")
    link = PortalLink.objects.get()
    assert link.read_only and link.event_types == ["invoice.*"] and link.created_by == may_manage
    browser = Client()
    assert browser.get(url.removeprefix("http://testserver")).status_code == 200  # the button
    assert browser.post(url.removeprefix("http://testserver")).status_code == 302
    assert browser.session[SESSION_KEY]["organisation"] == organisation.pk


def test_the_organisation_may_be_left_out_by_a_member_of_one(client_for, may_manage):
    answer = client_for(may_manage).post("/api/portal-sessions/", {}, format="json")

    assert answer.status_code == 201 and PortalLink.objects.get().read_only is False


def test_another_organisations_link_is_refused(client_for, may_manage, other_organisation):
    answer = client_for(may_manage).post("/api/portal-sessions/", {"organisation": "globex"}, format="json")

    assert answer.status_code == 400 and not PortalLink.objects.exists()


def test_minting_needs_the_endpoint_permission(api):
    answer = api.post("/api/portal-sessions/", {"organisation": "acme"}, format="json")

    assert answer.status_code == 403 and not PortalLink.objects.exists()


def test_anonymous_callers_get_401(client):
    assert client.post("/api/portal-sessions/", {}, content_type="application/json").status_code == 401


def test_the_route_is_in_the_api_schema(api):
    assert "/api/portal-sessions/" in api.get("/api/schema/").content.decode()
