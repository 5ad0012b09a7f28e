"""The generated reference pages: every setting, API operation, command and metric appears; nothing remote loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hookline.conf import DEFAULTS
from scripts import docs_reference as reference

ROOT = Path(__file__).resolve().parents[2]


# --- settings ----------------------------------------------------------------------------------------
def test_every_setting_appears_with_its_default_and_its_comment():
    # when
    page = reference.settings_markdown()

    # then: in conf.py's order, each key with an anchor of its own
    keys = re.findall(r'<span id="([A-Z_]+)"></span>`\1`', page)
    assert keys == list(DEFAULTS)
    assert '| <span id="MAX_ATTEMPTS"></span>`MAX_ATTEMPTS` | `18` | Attempts per delivery, the first included.' in page
    # a group: the keys under one comment share its row; 12 * 3600.0 is folded
    assert (
        '| <span id="RETRY_BASE_DELAY"></span>`RETRY_BASE_DELAY`<br><span id="RETRY_MAX_DELAY"></span>'
        "`RETRY_MAX_DELAY` | `10`<br>`43200` | Exponential countdown"
    ) in page
    assert "`LOG_FORMAT` | `text` |" in page


def test_a_key_without_a_comment_of_its_own_shares_its_groups():
    # given
    source = """
DEFAULTS = {
    # Seconds: connect and read.
    "CONNECT": 3.0,
    "READ": 10.0,
    # Bytes.
    "CAP": 64 * 1024,
}
"""
    # when
    settings = reference.settings_from_conf(source)

    # then
    assert [(s.key, s.default, s.comment) for s in settings] == [
        ("CONNECT", 3.0, "Seconds: connect and read."),
        ("READ", 10.0, "Seconds: connect and read."),
        ("CAP", 65536, "Bytes."),
    ]


def test_every_default_in_conf_has_a_comment():
    assert [s.key for s in reference.settings_from_conf() if not s.comment] == []


# --- API ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def schema():
    return reference.openapi_schema()


def test_the_schema_is_found_through_the_url_conf_and_matches_the_served_one(schema, client):
    # when: the document the running site serves
    served = client.get("/api/schema/", {"format": "json"}, HTTP_HOST="localhost").json()

    # then
    assert schema["paths"] == served["paths"]
    assert schema["info"]["version"] == __import__("hookline").__version__


def test_every_path_and_operation_of_the_schema_appears(schema):
    # when
    page = reference.api_markdown(schema)

    # then
    operations = reference.operations(schema)
    assert len(operations) > 20
    for path, method, op in operations:
        assert f"### `{method.upper()} {path}` {{ #{reference.anchor(method, path)} }}" in page
        assert op["summary"] in page
    for name in schema["components"]["schemas"]:
        assert f"### {name} {{ #{reference.anchor('schema', name)} }}" in page
    assert "| `force` | query |" in page


def test_schema_types_read_as_words():
    assert reference.schema_type({"$ref": "#/components/schemas/Webhook"}) == "[Webhook](#schema-webhook)"
    assert (
        reference.schema_type({"type": "array", "items": {"type": "string", "format": "date-time"}})
        == "array of string (date-time)"
    )
    assert (
        reference.schema_type({"enum": ["new", "deactivated"], "type": "string"}) == 'one of `"new"`, `"deactivated"`'
    )
    assert reference.schema_type({"oneOf": [{"type": "integer"}, {"type": "null"}]}) == "integer or null"
    assert reference.schema_type({"type": "string", "nullable": True}) == "string, nullable"


# --- commands ----------------------------------------------------------------------------------------
def test_every_command_of_hookline_and_only_those_appears():
    # given
    expected = {path.stem for path in ROOT.glob("*/management/commands/[!_]*.py") if path.parts[-4] != "tests"}

    # when
    page = reference.commands_markdown()

    # then
    listed = set(re.findall(r"^## `([a-z_]+)`", page, re.MULTILINE))
    assert listed == expected
    assert "`--organisation`" in page and "slug of the tenant whose endpoints receive it" in page  # emit's parser
    assert "manage.py prune [--batch BATCH] [--budget BUDGET] [--pause PAUSE]" in page
    assert "--settings" not in page.split("## `", 1)[1]  # Django's common options are left out


# --- metrics -----------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_every_hookline_metric_of_metrics_appears_with_its_labels():
    # given: what /metrics exposes
    from prometheus_client.parser import text_string_to_metric_families

    from deliveries import metrics

    exposed = {
        family.name
        for family in text_string_to_metric_families(metrics.exposition().decode())
        if family.name.startswith("hookline_") and not family.name.endswith("_created")  # client-made timestamps
    }

    # when
    docs = reference.metric_docs()
    page = reference.metrics_markdown(docs)

    # then: the text parser names counters without _total
    assert {doc.name.removesuffix("_total") for doc in docs} == exposed
    assert "`hookline_deliveries_total{outcome}` | counter |" in page
    assert "`hookline_sweeper_recovered_total{kind}` | counter |" in page  # labelled, no sample yet
    assert "`hookline_endpoint_retrying_deliveries{endpoint,name}` | gauge |" in page
    assert "`hookline_attempt_duration_seconds` | histogram |" in page


# --- offline -----------------------------------------------------------------------------------------
def test_assets_from_other_hosts_are_found_and_links_are_not():
    html = """<html><head>
      <link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">
      <link rel="preconnect" href="//fonts.gstatic.com">
      <link rel="stylesheet" href="assets/main.css"><link rel="canonical" href="https://hookline.example/">
      <script src="https://unpkg.com/iframe-worker/shim"></script><script src="assets/app.js"></script>
    </head><body><a href="https://keepachangelog.com/">link</a><img src="inspector.png">
      <img src="http://example.com/a.png"><div style="background: url('https://cdn.example/b.png')"></div>
    </body></html>"""
    assert reference.remote_assets(html) == [
        "https://fonts.googleapis.com/css?family=Roboto",
        "//fonts.gstatic.com",
        "https://unpkg.com/iframe-worker/shim",
        "http://example.com/a.png",
        "https://cdn.example/b.png",
    ]
    assert reference.remote_css_urls("@import 'https://x.example/y.css'; a{background:url(img/z.png)}") == [
        "https://x.example/y.css"
    ]


# --- the manual's sources ----------------------------------------------------------------------------
def test_every_page_of_docs_is_in_the_navigation_and_every_nav_entry_exists():
    # given
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())

    def entries(nav):
        for item in nav:
            for value in item.values() if isinstance(item, dict) else [item]:
                yield from entries(value) if isinstance(value, list) else [value]

    # when
    in_nav = set(entries(config["nav"]))

    # then
    pages = {str(path.relative_to(ROOT / "docs")) for path in (ROOT / "docs").rglob("*.md")}
    assert pages | set(reference.GENERATED) == in_nav


def test_the_readme_links_only_to_files_that_exist():
    readme = (ROOT / "README.md").read_text()
    targets = [target for target in re.findall(r"\]\(([^)#\s]+)", readme) if "://" not in target]
    assert targets
    assert [target for target in targets if not (ROOT / target).exists()] == []
    assert len(readme.splitlines()) <= 250
