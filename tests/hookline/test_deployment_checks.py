"""The Celery configuration in one call and its checks, the package-name guard, the deploy checks and key rotation."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from celery import Celery
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError

import hookline.celery
from hookline import packages
from hookline.checks import check_deployment
from hooks import crypto
from hooks.models import Webhook
from hooks.rekey import reencrypt_secrets

ROOT = Path(__file__).resolve().parents[2]


def _ids(messages) -> set[str]:
    return {message.id for message in messages}


def test_configure_gives_an_app_everything_at_least_once_delivery_needs(monkeypatch):
    # given (Celery's broker_url prefers the CELERY_BROKER_URL environment variable)
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    app = Celery("shop", set_as_current=False)
    app.conf.broker_url = "redis://127.0.0.1:6379/0"
    app.conf.broker_transport_options = {"visibility_timeout": 600}

    # when
    hookline.celery.configure(app)
    app.finalize()

    # then
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.task_ignore_result
    assert conf.worker_prefetch_multiplier == 1 and conf.broker_connection_retry_on_startup
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.get("CELERY_DB_REUSE_MAX") == 10**9
    assert conf.broker_transport_options == {"max_retries": 0, "visibility_timeout": 600}  # the host's value kept
    assert conf.beat_schedule["hookline-sweep"]["task"] == "hookline.sweep"


def test_connections_are_closed_after_a_failed_or_retried_task_only():
    from celery.signals import task_failure, task_postrun, task_prerun, task_retry

    # given
    hookline.celery.configure(Celery("shop", set_as_current=False))
    handler = hookline.celery._drop_old_db_connections

    # then
    def receivers(signal):
        return [ref() for _, ref in signal.receivers]

    assert handler in receivers(task_failure) and handler in receivers(task_retry)
    assert handler not in receivers(task_prerun) and handler not in receivers(task_postrun)


def test_an_unsafe_celery_configuration_is_warned_about(monkeypatch):
    # given: a Celery app as an unconfigured host would have it
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    app = Celery("shop", set_as_current=False)
    app.conf.broker_url = "redis://127.0.0.1:6379/0"
    app.conf.worker_prefetch_multiplier = 4
    monkeypatch.setattr(hookline.celery, "current_app", app)

    # when
    warnings = hookline.celery.check_celery_configuration()

    # then
    assert _ids(warnings) == {"hookline.W020", "hookline.W021", "hookline.W022", "hookline.W023"}
    assert all("hookline.celery.configure(app)" in warning.hint for warning in warnings)

    # when: the one call
    hookline.celery.configure(app)
    app.finalize()

    # then
    assert hookline.celery.check_celery_configuration() == []


def test_the_project_app_is_configured_with_the_one_call():
    from webhooks_project.celery import app

    assert app.conf.task_acks_late and app.conf.worker_prefetch_multiplier == 1
    assert any(entry["task"] == "hookline.sweep" for entry in app.conf.beat_schedule.values())


def test_hookline_own_packages_pass_the_guard():
    packages.ensure_own_packages()


def test_a_host_package_named_events_is_a_clear_start_up_error(tmp_path):
    # given: a host project with its own app "events"
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "__init__.py").write_text("")
    code = (
        "import django; from django.conf import settings; "
        "settings.configure(INSTALLED_APPS=['events', 'hooks', 'deliveries']); django.setup()"
    )

    # when
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"},
    )

    # then
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: Hookline needs the top-level package 'events'")
    assert str(tmp_path / "events") in last and "Rename your package" in last


def test_the_guard_names_the_clash(monkeypatch, tmp_path):
    # given
    (tmp_path / "deliveries").mkdir()
    (tmp_path / "deliveries" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "deliveries")

    # when
    with pytest.raises(ImproperlyConfigured, match="'deliveries' -> 'shop_deliveries'"):
        packages.ensure_own_packages()


@pytest.mark.parametrize(
    "debug, allow_private, warned", [(False, True, True), (True, True, False), (False, False, False)]
)
def test_deploy_check_warns_about_private_addresses_without_debug(settings, debug, allow_private, warned):
    # given
    settings.DEBUG = debug
    settings.HOOKLINE = {**settings.HOOKLINE, "ALLOW_PRIVATE_ADDRESSES": allow_private, "ENCRYPTION_KEY": "own-key"}

    # then
    assert ("hookline.W030" in _ids(check_deployment())) is warned


def test_deploy_check_warns_when_secrets_depend_on_the_secret_key(settings):
    settings.HOOKLINE = {**settings.HOOKLINE, "ENCRYPTION_KEY": ""}
    [warning] = [w for w in check_deployment() if w.id == "hookline.W031"]
    assert "reencrypt_secrets" in warning.hint

    settings.HOOKLINE = {**settings.HOOKLINE, "ENCRYPTION_KEY": "own-key"}
    assert "hookline.W031" not in _ids(check_deployment())


def test_check_deploy_runs_the_hookline_deploy_checks(settings, capsys):
    settings.HOOKLINE = {**settings.HOOKLINE, "ENCRYPTION_KEY": ""}
    call_command("check", "--deploy", "--tag", "security")
    assert "hookline.W031" in capsys.readouterr().err


def test_reencrypt_moves_every_secret_to_the_new_key(settings, make_webhook):
    # given: two endpoints, one mid-rotation with Basic auth, encrypted under SECRET_KEY
    settings.HOOKLINE = {**settings.HOOKLINE, "ENCRYPTION_KEY": ""}
    old_key = settings.SECRET_KEY
    plain, secret = make_webhook("http://ada:pw@127.0.0.1:9/in")
    from hooks import services

    new_secret = services.rotate_secret(plain)
    other, other_secret = make_webhook(
        "http://127.0.0.1:9/other",
        shared_secret_header="X-OBC-Secret",
        shared_secret="obc-shared-0123456789",
        asymmetric_signature=True,
        contract={"preset": "store-notice"},
    )
    signing_key, old_token = other.signing_key, other.body_token
    new_token = services.rotate_body_token(other)

    # when: the operator sets an ENCRYPTION_KEY of its own and re-encrypts
    settings.HOOKLINE = {**settings.HOOKLINE, "ENCRYPTION_KEY": "a-key-of-its-own"}
    call_command("reencrypt_secrets", "--old-key", old_key, stdout=io.StringIO())

    # then: everything reads under the new key
    plain, other = Webhook.objects.get(pk=plain.pk), Webhook.objects.get(pk=other.pk)
    assert plain.secret == new_secret and crypto.decrypt(plain.previous_secret_encrypted) == secret
    assert plain.auth_password == "pw" and other.secret == other_secret
    assert other.shared_secret_value == "obc-shared-0123456789" and other.signing_key == signing_key
    assert other.body_tokens() == [new_token, old_token]
    # and a second run changes nothing
    assert reencrypt_secrets(old_key) == 0


def test_reencrypt_changes_nothing_when_a_value_opens_with_neither_key(settings, make_webhook):
    # given
    settings.HOOKLINE = {**settings.HOOKLINE, "ENCRYPTION_KEY": "old"}
    _first, _first_secret = make_webhook("http://127.0.0.1:9/a")
    settings.HOOKLINE = {**settings.HOOKLINE, "ENCRYPTION_KEY": "unrelated"}
    make_webhook("http://127.0.0.1:9/b")  # encrypted under a third key
    before = list(Webhook.objects.order_by("pk").values_list("secret_encrypted", flat=True))

    # when
    settings.HOOKLINE = {**settings.HOOKLINE, "ENCRYPTION_KEY": "new"}
    with pytest.raises(CommandError, match="neither the old nor the new key"):
        call_command("reencrypt_secrets", "--old-key", "old")

    # then
    assert list(Webhook.objects.order_by("pk").values_list("secret_encrypted", flat=True)) == before


def test_reencrypt_needs_the_old_key(monkeypatch):
    monkeypatch.delenv("HOOKLINE_OLD_ENCRYPTION_KEY", raising=False)
    with pytest.raises(CommandError, match="HOOKLINE_OLD_ENCRYPTION_KEY"):
        call_command("reencrypt_secrets")
