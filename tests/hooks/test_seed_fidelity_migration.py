"""hooks 0011: endpoints saved with the ricloud or bugyo-cloud preset get the fixed presets' values, and a wildcard
over the reserved hookline.* types becomes the names it selected."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

migration = importlib.import_module("hooks.migrations.0012_fix_presets_and_name_reserved_types")
BEFORE, AFTER = ("hooks", "0011_add_body_token"), ("hooks", "0012_fix_presets_and_name_reserved_types")


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ({"preset": "ricloud"}, {"preset": "ricloud", "policy": {"gone_deactivates": False}}),
        ({"preset": "ricloud", "policy": {"gone_deactivates": True}}, None),  # its own choice is kept
        (
            {"preset": "bugyo-cloud", "policy": {"attempts": 18}},
            {
                "preset": "bugyo-cloud",
                "policy": {"attempts": 18},
                "request": {"headers": {"Accept": "application/json", "Accept-Charset": "utf-8"}},
            },
        ),
        (
            {"preset": "bugyo-cloud", "request": {"headers": {"accept": "text/json"}}},
            {"preset": "bugyo-cloud", "request": {"headers": {"Accept-Charset": "utf-8", "accept": "text/json"}}},
        ),
        ({"preset": "apigee", "policy": {"attempts": 4}}, None),
        ({}, None),
    ],
)
def test_a_stored_contract_gets_the_fixed_presets_values_and_keeps_its_own(stored, expected):
    assert migration.fixed(stored) == expected


RESERVED = ["hookline.breaker.opened", "hookline.endpoint.deactivated", "hookline.endpoint.invalid"]


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        (
            ["hookline.endpoint.*", "invoice.*"],
            ["hookline.endpoint.deactivated", "hookline.endpoint.invalid", "invoice.*"],
        ),
        (["hookline.*.*", "hookline.endpoint.invalid"], RESERVED),
        (["hookline.*"], RESERVED),  # it selected them as sub-keys of hookline.<x>
        (["hookline.nothing.*"], None),  # it selected nothing before either
        (["*", "hookline.endpoint.invalid"], None),  # no wildcard over reserved types: unchanged
        (["user.*"], None),
    ],
)
def test_a_wildcard_over_reserved_types_becomes_the_names_it_selected(patterns, expected):
    assert migration.named(patterns, RESERVED) == expected


@pytest.mark.django_db(transaction=True)
def test_the_migration_updates_the_stored_rows():
    # given: the schema before the fix, with endpoints saved under the old presets
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate([BEFORE])
    try:
        Webhook = executor.loader.project_state([BEFORE]).apps.get_model("hooks", "Webhook")
        ricloud = Webhook.objects.create(name="r", url="https://a.example/", contract={"preset": "ricloud"})
        plain = Webhook.objects.create(name="p", url="https://b.example/", contract={})
        operations = Webhook.objects.create(name="o", url="https://c.example/", event_types=["hookline.endpoint.*"])
        # when
        executor = MigrationExecutor(connection)
        executor.migrate([AFTER])
        # then
        ricloud.refresh_from_db(), plain.refresh_from_db(), operations.refresh_from_db()
        assert ricloud.contract == {"preset": "ricloud", "policy": {"gone_deactivates": False}} and plain.contract == {}
        # every reserved hookline.endpoint.* type the site knows (its catalog rows; operational alerts add some)
        EventType = executor.loader.project_state([AFTER]).apps.get_model("events", "EventType")
        known = {
            *migration.KNOWN_RESERVED,
            *EventType.objects.filter(key__startswith="hookline.endpoint.").values_list("key", flat=True),
        }
        assert operations.event_types == sorted(known)
        assert {"hookline.endpoint.deactivated", "hookline.endpoint.invalid"} <= known
        assert plain.event_types == ["*"]
    finally:  # the next tests need the whole schema back
        MigrationExecutor(connection).migrate(latest)
