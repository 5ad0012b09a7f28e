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
        # reserved operational types: only a pattern without * that names them (DESIGN.md)
        ("*", "hookline.endpoint.failing", False),
        ("hookline.*", "hookline.endpoint.failing", False),
        ("hookline.endpoint.*", "hookline.endpoint.failing", False),
        ("*.endpoint.failing", "hookline.endpoint.failing", False),
        ("hookline.endpoint.failing", "hookline.endpoint.failing", True),
        ("hookline.endpoint.failing", "hookline.endpoint.recovered", False),
    ],
)
def test_matches(pattern, key, expected):
    assert matches(pattern, key) is expected


def test_matches_any():
    assert matches_any(["invoice.paid", "user.*"], "user.created")
    assert not matches_any([], "user.created")


@pytest.mark.parametrize("bad", ["", "  ", "user..created", "user.cre*", ".user", "user."])
def test_invalid_patterns_are_refused_with_a_reason(bad):
    with pytest.raises(ValueError):
        validate_pattern(bad)


def test_valid_pattern_is_stripped():
    assert validate_pattern("  user.* ") == "user.*"
