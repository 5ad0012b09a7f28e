"""Portal fixtures: a client inside a portal session opened by a magic link."""

from __future__ import annotations

import pytest
from django.test import Client

from portal import links


@pytest.fixture
def portal_client(organisation):
    """``portal_client(read_only=False)``: a Django test client in a portal session of ``organisation``."""

    def open_session(organisation_=None, **options) -> Client:
        client = Client()
        link = links.mint(organisation_ or organisation, **options)
        assert client.get(link.path).status_code == 200  # the page with the button
        response = client.post(link.path)
        assert response.status_code == 302
        return client

    return open_session
