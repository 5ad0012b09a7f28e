"""manage.py create_api_token <username> [--organisation <slug>] [--reset]: print a REST API token."""

from typing import Any, cast

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Field
from django.utils.text import slugify
from rest_framework.authtoken.models import Token

from events.models import Organisation
from hookline import limits


class Command(BaseCommand):
    help = (
        "Print the API token of a user (created with no password if missing, for API-only service accounts), "
        "adding the user to an organisation (created if missing) when one is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--organisation", help="slug of the organisation whose endpoints the token may manage")
        parser.add_argument("--reset", action="store_true", help="replace the user's token with a new one")

    @transaction.atomic
    def handle(
        self, *args: Any, username: str, organisation: str | None = None, reset: bool = False, **options: Any
    ) -> None:
        User = get_user_model()
        try:  # argv decodes undecodable bytes to lone surrogates, which no database column takes
            username_field = cast("Field[Any, Any]", User._meta.get_field(User.USERNAME_FIELD))  # a column
            limits.check_text(username, where="username", max_length=cast(int, username_field.max_length))
            limits.check_text(organisation or "", where="--organisation", max_length=limits.NAME_MAX_LENGTH)
        except limits.LimitExceeded as exc:
            raise CommandError(f"Refused: {exc}") from None
        lookup: dict[str, Any] = {User.USERNAME_FIELD: username}
        user, created = User.objects.get_or_create(**lookup)
        if created:
            user.set_unusable_password()
            user.save()
            self.stderr.write(f"Created user {username!r} (no password: API access only).")
        if organisation:
            if slugify(organisation) != organisation:
                raise CommandError(f"{organisation!r} is not a slug (lower-case letters, digits, - and _).")
            org, org_created = Organisation.objects.get_or_create(slug=organisation, defaults={"name": organisation})
            if org_created:
                self.stderr.write(f"Created organisation {organisation!r}.")
            org.members.add(user)
        if reset:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        # Only the token goes to stdout, so that TOKEN=$(manage.py create_api_token …) works.
        self.stdout.write(token.key)
