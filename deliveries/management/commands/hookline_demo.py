"""manage.py hookline_demo: a demo admin, organisation and endpoint pointing at the built-in echo receiver."""

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from deliveries import endpoint_actions
from events.models import Organisation
from hookline import limits
from hooks.models import Webhook

DEMO_NAME = "Demo echo receiver"


class Command(BaseCommand):
    help = "Create (once) a demo superuser, an organisation and an endpoint at the project's echo receiver."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", type=limits.text_argument, default="admin")
        parser.add_argument("--password", default="admin")
        parser.add_argument("--receiver", default="http://127.0.0.1:8000/demo/echo/")

    def handle(self, *args: Any, username: str, password: str, receiver: str, **options: Any) -> None:
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True, "email": f"{username}@example.com"}
        )
        if created:
            user.set_password(password)
            user.save()
        org, _ = Organisation.objects.get_or_create(slug="demo", defaults={"name": "Demo organisation"})
        org.members.add(user)
        # One demo endpoint: a run on another port (PORT=8001 make run) moves it rather than adding a second
        # one that would retry forever against the old port.
        demo = Webhook.objects.filter(organisation=org, name=DEMO_NAME).order_by("pk").first()
        if demo is None:
            endpoint_actions.create(url=receiver, name=DEMO_NAME, organisation=org, user=user)
        elif demo.url != receiver:
            endpoint_actions.update(demo, url=receiver, user=user)
        self.stdout.write(
            self.style.SUCCESS(f"Demo admin: {username} / {password if created else '(unchanged)'}") + "\n"
            f"Demo endpoint: {receiver} (organisation 'demo')\n"
            f'Try: {_python()} manage.py emit webhook.test \'{{"hello": "world"}}\' --organisation demo'
        )


def _python() -> str:
    """The interpreter that runs this, as the hint should spell it (.venv/bin/python from the checkout)."""
    try:
        return str(Path(sys.executable).relative_to(Path.cwd()))
    except ValueError:
        return sys.executable
