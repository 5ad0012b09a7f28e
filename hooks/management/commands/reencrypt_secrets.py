"""manage.py reencrypt_secrets: after changing HOOKLINE["ENCRYPTION_KEY"] (or SECRET_KEY), re-encrypt stored secrets."""

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hooks.rekey import reencrypt_secrets


class Command(BaseCommand):
    help = (
        "Re-encrypt every endpoint secret and Basic-auth password from the old key to the current one "
        "(HOOKLINE['ENCRYPTION_KEY'], or SECRET_KEY when it is empty), in one transaction. Give the old key "
        "material in the environment variable HOOKLINE_OLD_ENCRYPTION_KEY (kept out of the shell history) "
        "or with --old-key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--old-key", help="the previous ENCRYPTION_KEY (or SECRET_KEY, if secrets were derived from it)"
        )
        parser.add_argument("--new-key", help="default: the key the running settings use")

    def handle(self, *args: Any, old_key: str | None = None, new_key: str | None = None, **options: Any) -> None:
        old_key = old_key or os.environ.get("HOOKLINE_OLD_ENCRYPTION_KEY", "")
        if not old_key:
            raise CommandError("Give the old key: HOOKLINE_OLD_ENCRYPTION_KEY=… manage.py reencrypt_secrets")
        try:
            count = reencrypt_secrets(old_key, new_key or None)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Re-encrypted the secrets of {count} endpoint(s).")
