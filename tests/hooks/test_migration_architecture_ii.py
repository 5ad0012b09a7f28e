"""hooks 0010/0011 and deliveries 0007: every option column moves into the contract, the runtime state into
EndpointRuntime."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from hooks import contracts

BEFORE = [("hooks", "0009_add_delivery_control"), ("deliveries", "0006_attempt_request_truncated")]
AFTER = [("hooks", "0014_remove_runtime_fields"), ("deliveries", "0008_endpoint_runtime")]
PRESET_CONTRACT = {  # an apigee contract as 0005 stored it: the preset expanded, one value overridden
    "preset": "apigee",
    "policy": {
        "attempts": 5,
        "delays": [300, 300, 300],
        "retry_on": "5xx",
        "on_exhaustion": "delivery",
        "gone_deactivates": False,
        "honour_retry_after": False,
        "connect_timeout": 3,
        "read_timeout": 3,
    },
    "body": {"shape": "payload"},
}


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def at_the_state_before():
    apps = migrate(BEFORE)
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())  # the other tests' schema


@pytest.mark.django_db(transaction=True)
def test_every_option_and_the_runtime_state_survive_the_migration(at_the_state_before):
    # given: an endpoint with every option and every runtime field set, and one with none
    Webhook = at_the_state_before.get_model("hooks", "Webhook")
    now = timezone.now().replace(microsecond=0)
    full = Webhook.objects.create(
        name="full",
        url="https://example.com/in",
        secret_encrypted="x",
        contract=PRESET_CONTRACT,
        headers={"X-Tenant": "acme", "X-Empty": ""},
        proxy_url="http://127.0.0.1:3128",
        payload_version="v1",
        test_on_save=True,
        standard_signature=False,
        github_signature=True,
        asymmetric_signature=True,
        shared_secret_header="X-OBC-Secret",
        rate_limit=5,
        rate_limit_burst=10,
        ordered=True,
        breaker_threshold=0,
        breaker_cooldown=30,
        paused=True,
        paused_at=now,
        breaker_state="half-open",
        breaker_failures=4,
        breaker_changed_at=now,
        breaker_until=now + timedelta(seconds=60),
        breaker_reason="the probe decides",
        rate_tokens=1.5,
        rate_checked_at=now,
    )
    plain = Webhook.objects.create(name="plain", url="https://example.com/plain", secret_encrypted="y")

    # when
    apps = migrate(AFTER)

    # then: the options are in their sections (breaker_threshold 0, "off", is a value, not a default)
    Webhook, EndpointRuntime = apps.get_model("hooks", "Webhook"), apps.get_model("deliveries", "EndpointRuntime")
    moved = Webhook.objects.get(pk=full.pk)
    assert moved.contract == {
        **PRESET_CONTRACT,
        "policy": {**PRESET_CONTRACT["policy"], "test_on_save": True},
        "body": {"shape": "payload", "payload_version": "v1"},
        "request": {"headers": {"X-Tenant": "acme", "X-Empty": ""}, "proxy_url": "http://127.0.0.1:3128"},
        "signature": {"standard": False, "github": True, "asymmetric": True, "shared_secret_header": "X-OBC-Secret"},
        "control": {
            "rate_limit": 5,
            "rate_limit_burst": 10,
            "ordered": True,
            "breaker_threshold": 0,
            "breaker_cooldown": 30,
        },
    }
    assert contracts.validate_contract(moved.contract) == moved.contract  # valid as it stands
    effective = contracts.parse(moved.contract).effective()
    assert (effective.control.breaker_threshold, effective.control.rate_limit_burst, effective.policy.attempts) == (
        0,
        10,
        5,
    )
    # the runtime state is the deliveries app's now, and the row people edit no longer has it
    state = EndpointRuntime.objects.get(webhook_id=full.pk)
    assert (
        state.paused,
        state.paused_at,
        state.breaker_state,
        state.breaker_failures,
        state.breaker_changed_at,
        state.breaker_until,
        state.breaker_reason,
        state.rate_tokens,
        state.rate_checked_at,
    ) == (True, now, "half-open", 4, now, now + timedelta(seconds=60), "the probe decides", 1.5, now)
    assert not {"paused", "breaker_state", "rate_limit", "headers"} & {f.name for f in Webhook._meta.get_fields()}
    # an endpoint with nothing set keeps {} (the defaults) and gets no runtime row until a worker writes one
    assert Webhook.objects.get(pk=plain.pk).contract == {}
    assert not EndpointRuntime.objects.filter(webhook_id=plain.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_runs_backwards_without_loss(at_the_state_before):
    # given
    Webhook = at_the_state_before.get_model("hooks", "Webhook")
    full = Webhook.objects.create(
        name="full",
        url="https://example.com/in",
        secret_encrypted="x",
        headers={"X-A": "1"},
        rate_limit=5,
        ordered=True,
        github_signature=True,
        paused=True,
        breaker_state="open",
        breaker_failures=2,
    )
    migrate(AFTER)
    # when
    apps = migrate(BEFORE)
    # then
    back = apps.get_model("hooks", "Webhook").objects.get(pk=full.pk)
    assert (back.headers, back.rate_limit, back.ordered, back.github_signature, back.standard_signature) == (
        {"X-A": "1"},
        5,
        True,
        True,
        True,
    )
    assert (back.paused, back.breaker_state, back.breaker_failures, back.contract) == (True, "open", 2, {})
