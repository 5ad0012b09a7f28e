"""Subscription patterns."""

import pytest

from hooks.patterns import matches, matches_any, validate_pattern


@pytest.mark.parametrize(
    "pattern, key, expected",
    [
        ("*", "invoice.paid", True),
        ("*", "HM_EmployeeHistoryDivision_Created.1001", True),
        ("invoice.paid", "invoice.paid", True),
        ("invoice.paid", "invoice.created", False),
        ("user.*", "user.created", True),
        ("user.*", "user.deleted", True),
        ("user.*", "users.created", False),
        ("user.*", "user", False),
        ("*.created", "user.created", True),
        ("*.created", "user.deleted", False),
        ("HM_EmployeeHistoryDivision_Created.*", "HM_EmployeeHistoryDivision_Created.1001", True),
        ("HM_EmployeeHistoryDivision_Created.1001", "HM_EmployeeHistoryDivision_Created.1001", True),
        ("HM_EmployeeHistoryDivision_Created.1001", "HM_EmployeeHistoryDivision_Created.1002", False),
        # a pattern naming a type also selects its sub-keyed events
        ("HM_EmployeeHistoryDivision_Created", "HM_EmployeeHistoryDivision_Created.1001", True),
        ("subscription.create", "subscription.create", True),
        ("subscription.create", "subscription.created", False),
    ],
)
def test_matches(pattern, key, expected):
    assert matches(pattern, key) is expected


@pytest.mark.parametrize(
    "pattern",
    ["*", "hookline.*", "hookline.endpoint.*", "*.endpoint.invalid", "hookline.endpoint", "hookline", "*.*.*"],
)
def test_reserved_hookline_types_are_never_selected_by_a_wildcard_or_a_parent(pattern):
    assert not matches(pattern, "hookline.endpoint.invalid")


def test_reserved_hookline_types_are_selected_by_their_exact_name():
    assert matches("hookline.endpoint.invalid", "hookline.endpoint.invalid")
    assert matches_any(["*", "hookline.endpoint.invalid"], "hookline.endpoint.invalid")
    assert not matches("hookline.endpoint.invalid", "hookline.endpoint.deactivated")
    # a type that only starts like one is an ordinary type
    assert matches("*", "hooklines.created") and matches("*", "webhook.test")


def test_matches_any():
    assert matches_any(["invoice.paid", "user.*"], "user.created")
    assert not matches_any([], "user.created")


@pytest.mark.parametrize("bad", ["", "  ", "user..created", "user.cre*", ".user", "user."])
def test_invalid_patterns_are_refused_with_a_reason(bad):
    with pytest.raises(ValueError):
        validate_pattern(bad)


@pytest.mark.parametrize("wildcard", ["hookline.*", "hookline.endpoint.*", "hookline.*.invalid"])
def test_a_wildcard_over_reserved_types_is_refused_with_the_exact_names_to_use(wildcard):
    with pytest.raises(ValueError, match="exact names"):
        validate_pattern(wildcard)


def test_valid_pattern_is_stripped():
    assert validate_pattern("  user.* ") == "user.*"
