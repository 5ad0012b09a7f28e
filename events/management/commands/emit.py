"""manage.py emit <key> '<json>' [--organisation <slug>] [--idempotency-key K]"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

import events
from events.models import Organisation
from hookline import limits
from hookline.exceptions import HooklineError


class Command(BaseCommand):
    help = "Emit an event, as domain code would with events.emit()."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key", help="event type key, e.g. invoice.paid")
        parser.add_argument("payload", help="JSON object, e.g. '{\"invoice\": 42}'")
        parser.add_argument("--organisation", help="slug of the tenant whose endpoints receive it")
        parser.add_argument("--idempotency-key", dest="idempotency_key")

    def handle(
        self,
        *args: Any,
        key: str,
        payload: str,
        organisation: str | None = None,
        idempotency_key: str | None = None,
        **options: Any,
    ) -> None:
        try:
            limits.check_text(key, where="key", max_length=limits.KEY_MAX_LENGTH)
            limits.check_text(organisation or "", where="--organisation", max_length=limits.NAME_MAX_LENGTH)
            data = limits.loads(payload, where="payload")  # depth-checked before json recurses
        except limits.LimitExceeded as exc:
            raise CommandError(f"Refused: {exc}") from None
        except json.JSONDecodeError as exc:
            raise CommandError(f"The payload is not valid JSON: {exc}") from exc
        org = None
        if organisation:
            org = Organisation.objects.filter(slug=organisation).first()
            if org is None:
                raise CommandError(f"No organisation with slug {organisation!r}.")
        try:
            with transaction.atomic():
                event = events.emit(key, data, organisation=org, idempotency_key=idempotency_key)
        except HooklineError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(event.id)
