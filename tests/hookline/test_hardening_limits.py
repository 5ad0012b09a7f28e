"""Issue 22's smaller limits: condition operands, crontab steps, the control limits as announced, JSON log keys."""

from __future__ import annotations

import json
import logging

import pytest

from events import scheduling
from hookline.jsonlog import JsonFormatter
from hooks import conditions

# --- bounded conditions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "condition, where, says",
    [
        ({"path": "tier", "in": list(range(101))}, "condition.in", "at most 100 values"),
        ({"path": "tier", "eq": "x" * 1001}, "condition.eq", "at most 1000 characters"),
        ({"path": "tier", "in": ["ok", "x" * 1001]}, "condition.in[1]", "at most 1000 characters"),
        ({"or": [{"path": f"p{n}", "eq": "v" * 900} for n in range(20)]}, "condition", "at most 16384"),
        ({"and": [{"path": "a", "eq": 1}] * 200}, "condition.and[199]", "at most 200 parts"),
        ({"path": "a", "eq": float("nan")}, "condition.eq", "not a finite number"),
        ({"path": "a", "in": [float("inf")]}, "condition.in[0]", "not a finite number"),
    ],
)
def test_a_condition_over_its_bounds_is_refused_naming_the_place(condition, where, says):
    with pytest.raises(conditions.ConditionError) as refused:
        conditions.validate(condition)
    assert refused.value.where == where and says in refused.value.reason


def test_a_condition_at_its_bounds_is_accepted():
    conditions.validate({"and": [{"path": "tier", "in": list(range(100))}, {"path": "note", "contains": "x" * 1000}]})


def test_the_issues_unbounded_operands_are_refused():
    # A 100,000-item ``in`` list and a 500 KB string were accepted, and scanned per event at fan-out.
    for condition in ({"path": "a", "in": list(range(100_000))}, {"path": "a", "eq": "x" * 500_000}):
        with pytest.raises(conditions.ConditionError):
            conditions.validate(condition)


# --- crontab steps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression, says",
    [
        ("*/99999999999999999999 * * * *", "step /99999999999999999999 of minute"),
        ("*/60 * * * *", "a step is at most 59"),
        ("0 */24 * * *", "step /24 of hour"),
        ("0 0 */31 * *", "day-of-month"),
        ("0 0 1 */12 *", "month"),
        ("0 0 * * 1-5/7", "day-of-week"),
    ],
)
def test_a_crontab_step_beyond_its_fields_range_is_refused(expression, says):
    with pytest.raises(ValueError, match=says.replace("/", "/").replace("*", r"\*")):
        scheduling.parse_cron(expression)


@pytest.mark.parametrize("expression", ["*/59 * * * *", "*/15 */23 */30 */11 */6", "5-50/5 * * * *"])
def test_crontab_steps_within_range_are_accepted(expression):
    scheduling.parse_cron(expression)


@pytest.mark.django_db
def test_the_api_refuses_the_step_with_a_400(api, event_type):
    event_type("invoice.paid")
    response = api.post(
        "/api/scheduled-events/",
        {"name": "n", "event_type": "invoice.paid", "cron": "*/9999999999 * * * *"},
        format="json",
    )
    assert response.status_code == 400 and "cron" in response.json()["detail"]


# --- the control limits as the API and the admin announce them -----------------------------------


@pytest.mark.django_db
@pytest.mark.postgres  # PostgreSQL's integer column made the serializer announce 2147483647
@pytest.mark.parametrize("value", [200_000, 3_000_000_000])
def test_the_rate_limit_error_says_the_real_limit(api, make_webhook, public_dns, value):
    webhook, _ = make_webhook("https://example.com/in")
    response = api.patch(f"/api/webhooks/{webhook.pk}/", {"rate_limit": value}, format="json")
    assert response.status_code == 400
    assert "100000" in response.json()["detail"] and "2147483647" not in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.postgres
def test_the_schema_and_the_admin_form_announce_the_real_limit(api, admin_client, organisation, make_webhook):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert schema["components"]["schemas"]["Webhook"]["properties"]["rate_limit"]["maximum"] == 100_000
    webhook, _ = make_webhook("http://127.0.0.1:9/in")
    page = admin_client.post(
        f"/admin/hooks/webhook/{webhook.pk}/change/",
        {
            "organisation": organisation.pk,
            "name": "n",
            "url": "http://127.0.0.1:9/in",
            "event_types": "*",
            "headers": "{}",
            "contract": "{}",
            "rate_limit": "3000000000",
        },
    )
    errors = " ".join(page.context["adminform"].form.errors["rate_limit"])
    assert "100000" in errors and "2147483647" not in errors


# --- JSON log lines -----------------------------------------------------------------------------


def test_a_delivery_line_keeps_its_null_fields():
    # given: a delivery line with no answer (a connection error): status null, error set; and one with no error
    record = logging.LogRecord("hookline.delivery", logging.INFO, __file__, 1, "m", (), None)
    for name, value in {
        "webhook_id": "msg_1",
        "delivery": 1,
        "endpoint": 2,
        "attempt": 1,
        "tenant": None,
        "outcome": "retrying",
        "status": None,
        "duration_ms": None,
        "error": None,
    }.items():
        setattr(record, name, value)
    # when
    line = json.loads(JsonFormatter().format(record))
    # then: every key, null included (the README's promise)
    assert {"status", "error", "tenant", "duration_ms"} <= set(line)
    assert line["status"] is None and line["error"] is None


def test_other_lines_carry_only_their_own_keys():
    record = logging.LogRecord("django", logging.INFO, __file__, 1, "hello", (), None)
    assert set(json.loads(JsonFormatter().format(record))) == {"time", "level", "logger", "message"}
