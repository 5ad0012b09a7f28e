"""The host's own login: a setting names request -> Organisation | None, another the permission check."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

pytestmark = pytest.mark.django_db

HOST = {"ORGANISATION": "tests.portal.hosts.organisation_of", "PERMISSION": "tests.portal.hosts.may_use_portal"}


def test_a_logged_in_customer_sees_their_organisation(client, settings, member, make_webhook, other_organisation):
    # given
    settings.HOOKLINE_PORTAL = HOST
    member.user_permissions.add(Permission.objects.get(codename="change_webhook"))
    make_webhook("http://127.0.0.1:9/acme", name="Acme hooks")
    make_webhook("http://127.0.0.1:9/globex", name="Globex hooks", organisation=other_organisation)
    client.force_login(member)

    # when
    page = client.get("/webhooks/")

    # then
    assert page.status_code == 200
    assert "Acme hooks" in page.content.decode() and "Globex hooks" not in page.content.decode()


def test_the_permission_check_refuses(client, settings, member):
    settings.HOOKLINE_PORTAL = HOST
    client.force_login(member)

    assert client.get("/webhooks/").status_code == 403


def test_no_host_login_setting_means_links_only(client, member):
    client.force_login(member)

    assert client.get("/webhooks/").status_code == 403


@pytest.mark.parametrize(
    "home, link",
    [
        ("https://shop.example.com/account/", "Back to shop.example.com"),
        ("/account/", "Back to testserver"),  # a path: this site, named by its host
    ],
)
def test_home_url_puts_a_back_link_in_the_header(client, settings, member, home, link):
    # given
    settings.HOOKLINE_PORTAL = {**HOST, "HOME_URL": home}
    member.user_permissions.add(Permission.objects.get(codename="change_webhook"))
    client.force_login(member)

    # when
    html = client.get("/webhooks/").content.decode()

    # then: it leaves an iframe too (target _top)
    assert f'<a class="home" href="{home}" target="_top">{link}</a>' in html


def test_no_home_url_no_back_link(client, settings, member):
    settings.HOOKLINE_PORTAL = HOST
    member.user_permissions.add(Permission.objects.get(codename="change_webhook"))
    client.force_login(member)

    assert 'class="home"' not in client.get("/webhooks/").content.decode()
