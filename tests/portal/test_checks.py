"""HOOKLINE_PORTAL is checked at start-up."""

from __future__ import annotations

import pytest

from portal.checks import check_portal_settings


@pytest.mark.parametrize(
    "portal, codes",
    [
        ({}, []),
        ({"ORGANISATION": "tests.portal.hosts.organisation_of", "TEST_SEND_RATE": "5/s"}, []),
        ({"ORGANISATON": "x"}, ["portal.E001"]),
        ({"ORGANISATION": "shop.nowhere.organisation_of"}, ["portal.E002"]),
        ({"TEST_SEND_RATE": "fast"}, ["portal.E003"]),
        ({"TEST_SEND_RATE": "10/w"}, ["portal.E003"]),
        ({"LINK_TTL": 0}, ["portal.E004"]),
        ({"HOME_URL": "https://shop.example.com/account/"}, []),
        ({"HOME_URL": "javascript:alert(1)"}, ["portal.E005"]),
    ],
)
def test_bad_settings_fail_the_check(settings, portal, codes):
    settings.HOOKLINE_PORTAL = portal

    assert [error.id for error in check_portal_settings()] == codes
