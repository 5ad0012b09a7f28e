"""Payload conditions: the language (hooks.conditions), refusal at save, and filtering at fan-out."""

import pytest
from django.core.exceptions import ValidationError

import events
from deliveries import fanout
from deliveries.models import Delivery
from hooks import conditions, services


@pytest.mark.parametrize(
    ("condition", "payload", "expected"),
    [
        ({"path": "usage.percent", "gte": 80}, {"usage": {"percent": 80}}, True),
        ({"path": "usage.percent", "gte": 80}, {"usage": {"percent": 79.9}}, False),
        ({"path": "data.usage.percent", "gt": 80}, {"usage": {"percent": 81}}, True),
        ({"path": "usage.percent", "lt": 80}, {"usage": {"percent": "70"}}, False),  # no number/string mixing
        ({"path": "usage.percent", "lte": 80}, {}, False),
        ({"path": "tier", "eq": "gold"}, {"tier": "gold"}, True),
        ({"path": "flag", "eq": 1}, {"flag": True}, False),  # JSON: true is not 1
        ({"path": "tier", "ne": "gold"}, {}, True),
        ({"path": "tier", "in": ["gold", "silver"]}, {"tier": "silver"}, True),
        ({"path": "tags", "contains": "vip"}, {"tags": ["a", "vip"]}, True),
        ({"path": "title", "contains": "sale"}, {"title": "big sale today"}, True),
        ({"path": "items.1.sku", "eq": "B"}, {"items": [{"sku": "A"}, {"sku": "B"}]}, True),
        ({"path": "items.5.sku", "exists": True}, {"items": [{"sku": "A"}]}, False),
        ({"path": "notice.id", "exists": False}, {"notice": {}}, True),
        ({"and": [{"path": "p", "gte": 80}, {"path": "q", "lt": 80}]}, {"p": 85, "q": 75}, True),
        ({"and": [{"path": "p", "gte": 80}, {"path": "q", "lt": 80}]}, {"p": 95, "q": 85}, False),
        ({"or": [{"path": "p", "eq": 1}, {"path": "p", "eq": 2}]}, {"p": 2}, True),
        ({"not": {"path": "p", "exists": True}}, {"p": None}, False),
    ],
)
def test_conditions_evaluate(condition, payload, expected):
    assert conditions.compile_condition(conditions.validate(condition))(payload) is expected


@pytest.mark.parametrize(
    ("condition", "where", "reason"),
    [
        ({"path": "a", "gte": [1]}, "condition.gte", "compares with a number or a string"),
        ({"and": [{"path": "a", "eq": 1}, {"path": "", "eq": 1}]}, "condition.and[1].path", "non-empty"),
        ({"or": []}, "condition.or", "non-empty list"),
        ({"not": {"path": "a", "matches": "x"}}, "condition.not.matches", "unknown operator"),
        ({"path": "a", "eq": 1, "ne": 2}, "condition", "exactly one operator"),
        ({"path": "a", "in": "abc"}, "condition.in", "takes a list"),
        ({"path": "a", "exists": "yes"}, "condition.exists", "true or false"),
        ({"and": [{"path": "a", "eq": 1}], "path": "b"}, "condition", "stands alone"),
        ("usage > 80", "condition", "expected an object"),
        ({"path": "a..b", "eq": 1}, "condition.path", "empty segment"),
    ],
)
def test_bad_conditions_are_refused_with_place_and_reason(condition, where, reason):
    with pytest.raises(conditions.ConditionError) as caught:
        conditions.validate(condition)
    assert caught.value.where == where
    assert reason in caught.value.reason


def test_deep_conditions_are_refused():
    condition = {"path": "a", "eq": 1}
    for _ in range(conditions.MAX_DEPTH + 1):
        condition = {"not": condition}
    with pytest.raises(conditions.ConditionError, match="nested at most"):
        conditions.validate(condition)


@pytest.mark.django_db
def test_services_refuse_a_bad_condition_on_its_field(organisation):
    with pytest.raises(ValidationError) as caught:
        services.create_webhook(
            url="http://127.0.0.1:9/a", organisation=organisation, condition={"and": [{"path": "a", "between": [1, 2]}]}
        )
    assert "condition.and[0].between: unknown operator" in caught.value.message_dict["condition"][0]


@pytest.mark.django_db
def test_fan_out_skips_endpoints_whose_condition_filters_the_event(event_type, organisation, make_webhook):
    # given
    event_type("usage.updated")
    crossing = {"and": [{"path": "percent", "gte": 80}, {"path": "previous", "lt": 80}]}
    at_80, _ = make_webhook("http://127.0.0.1:9/a", condition=crossing)
    everything, _ = make_webhook("http://127.0.0.1:9/b")
    below = events.emit("usage.updated", {"percent": 70, "previous": 60}, organisation=organisation)
    across = events.emit("usage.updated", {"percent": 85, "previous": 75}, organisation=organisation)
    # when
    fanout.fan_out([below.id, across.id])
    # then
    assert set(Delivery.objects.values_list("event_id", "webhook_id")) == {
        (below.id, everything.id),
        (across.id, everything.id),
        (across.id, at_80.id),
    }


@pytest.mark.django_db
def test_a_condition_stored_around_the_services_filters_everything_rather_than_breaking_fan_out(
    event_type, organisation, make_webhook
):
    from hooks.models import Webhook

    event_type("usage.updated")
    broken, _ = make_webhook("http://127.0.0.1:9/a")
    fine, _ = make_webhook("http://127.0.0.1:9/b", condition={"path": "percent", "gte": 80})
    Webhook.objects.filter(id=broken.id).update(condition={"path": "percent", "between": [1, 2]})
    event = events.emit("usage.updated", {"percent": 85}, organisation=organisation)
    fanout.fan_out([event.id])
    assert list(Delivery.objects.values_list("webhook_id", flat=True)) == [fine.id]


def test_stored_conditions_compile_once_per_distinct_text():
    text = '{"path": "percent", "gte": 80}'
    assert conditions.compiled(text) is conditions.compiled(text)
    assert conditions.compiled(None) is None and conditions.compiled("null") is None


@pytest.mark.django_db
def test_api_refuses_a_bad_condition_and_shows_a_good_one(api):
    bad = api.post(
        "/api/webhooks/", {"url": "http://127.0.0.1:9/a", "condition": {"path": "a", "exists": "yes"}}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["detail"] == "condition.exists: 'exists' takes true or false, got a string"
    good = api.post(
        "/api/webhooks/", {"url": "http://127.0.0.1:9/a", "condition": {"path": "a", "exists": True}}, format="json"
    )
    assert good.status_code == 201, good.content
    assert api.get(f"/api/webhooks/{good.json()['id']}/").json()["condition"] == {"path": "a", "exists": True}
