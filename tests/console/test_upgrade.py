"""Upgrading a host to the console app: the old API include keeps working for a release, with a warning; checks say what
is missing."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

import console.api.urls
import console.metrics.views
from hookline import checks


def test_the_old_api_include_warns_and_routes_the_consoles_api():
    # when
    with pytest.warns(DeprecationWarning, match=r"deliveries.api.urls is deprecated.*console.api.urls") as caught:
        patterns = importlib.import_module("deliveries.api.urls").urlpatterns

    # then
    assert len(caught) == 1
    assert patterns is console.api.urls.urlpatterns


def test_the_old_metrics_view_import_warns_and_is_the_consoles():
    # when
    with pytest.warns(DeprecationWarning, match="use console.metrics.views"):
        from deliveries.edges.metrics.views import metrics_view

    # then
    assert metrics_view is console.metrics.views.metrics_view


def test_without_the_console_app_the_old_include_says_what_to_change(monkeypatch):
    # given: a site that kept its old INSTALLED_APPS: nothing registered the alias
    monkeypatch.delitem(sys.modules, "deliveries.api.urls")

    # when
    with pytest.raises(ImproperlyConfigured, match=r"add 'console' to INSTALLED_APPS.*include\('console.api.urls'\)"):
        importlib.import_module("deliveries.api.urls")

    # then: nothing of the failed import stays behind
    assert "deliveries.api.urls" not in sys.modules


@pytest.mark.urls("tests.console.upgrade_urls")
@pytest.mark.filterwarnings("ignore:deliveries.api.urls is deprecated:DeprecationWarning")  # the test above checks it
def test_a_host_still_including_the_old_module_serves_the_api_and_its_docs(api, make_webhook):
    # given
    webhook, _secret = make_webhook("http://127.0.0.1:9/hook")

    # when
    listed = api.get("/internal/webhooks/api/webhooks/")
    schema = api.get(reverse("hookline-schema"))

    # then
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [webhook.pk]
    assert reverse("hookline-schema") == "/internal/webhooks/api/schema/"
    assert schema.status_code == 200 and "/internal/webhooks/api/webhooks/" in schema.content.decode()


def _console_check_ids() -> list[str]:
    return [message.id for message in checks.check_console_installed()]


def test_the_installed_console_passes_the_check():
    assert _console_check_ids() == []


def test_a_site_without_the_console_is_told_to_add_it(settings):
    # given: an upgraded host that kept its old INSTALLED_APPS
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "console"]

    # then
    assert not apps.is_installed("console")
    assert _console_check_ids() == ["hookline.W040"]


def test_a_host_app_named_console_is_named_in_the_warning(monkeypatch):
    # given: the installed "console" is a host's own package
    console_config = apps.get_app_config("console")
    monkeypatch.setattr(console_config, "path", str(Path("/srv/shop/console")))

    # when
    messages = checks.check_console_installed()

    # then
    assert [message.id for message in messages] == ["hookline.W041"]
    assert "/srv/shop/console" in messages[0].msg


def test_a_site_without_hooklines_delivery_app_gets_no_console_warning(settings):
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app not in {"deliveries", "console"}]
    assert _console_check_ids() == []
