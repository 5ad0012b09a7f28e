"""manage.py create_api_token: a token for a user, the user and organisation created if missing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from events.models import Organisation

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_creates_a_service_account_in_an_organisation_and_prints_only_the_token():
    # when
    token, notes = run("billing-bot", "--organisation", "acme")

    # then
    user = get_user_model().objects.get(username="billing-bot")
    assert Token.objects.get(user=user).key == token
    assert not user.has_usable_password()
    assert list(Organisation.objects.get(slug="acme").members.all()) == [user]
    assert "Created user 'billing-bot'" in notes and "Created organisation 'acme'" in notes


def test_an_existing_user_keeps_their_token_unless_reset(member, organisation):
    # when
    first, notes = run("alice", "--organisation", "acme")
    again, _ = run("alice")
    reset, _ = run("alice", "--reset")

    # then
    assert first == again != reset
    assert notes == "" and member.has_usable_password()
    assert Token.objects.filter(user=member).count() == 1


def test_the_token_works_on_the_api(client):
    # given
    token, _ = run("carol", "--organisation", "acme")

    # when
    response = client.get("/api/webhooks/", HTTP_AUTHORIZATION=f"Token {token}")

    # then
    assert response.status_code == 200


def test_refuses_an_organisation_that_is_not_a_slug():
    # when / then
    with pytest.raises(CommandError, match="not a slug"):
        run("dave", "--organisation", "Acme Inc")


@pytest.mark.parametrize("args", [["bad\udcff"], ["ok", "--organisation", "acme\udcff"], ["u" * 151]])
def test_names_that_cannot_be_stored_are_refused(args):
    # given: argv decodes bytes that are not UTF-8 to lone surrogates
    # when / then
    with pytest.raises(CommandError, match="Refused: "):
        call_command("create_api_token", *args)
    assert not get_user_model().objects.exists()
