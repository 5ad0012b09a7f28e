"""manage.py hookline_demo: a demo admin, organisation and endpoint pointing at the built-in echo receiver."""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from events.models import Organisation
from hooks import services
from hooks.models import Webhook


class Command(BaseCommand):
    help = "Create (once) a demo superuser, an organisation and an endpoint at the project's echo receiver."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default="admin")
        parser.add_argument("--receiver", default="http://127.0.0.1:8000/demo/echo/")

    def handle(self, *args, username, password, receiver, **options):
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True, "email": f"{username}@example.com"}
        )
        if created:
            user.set_password(password)
            user.save()
        org, _ = Organisation.objects.get_or_create(slug="demo", defaults={"name": "Demo organisation"})
        org.members.add(user)
        if not Webhook.objects.filter(organisation=org, url=receiver).exists():
            services.create_webhook(url=receiver, name="Demo echo receiver", organisation=org, user=user)
        self.stdout.write(
            self.style.SUCCESS(f"Demo admin: {username} / {password if created else '(unchanged)'}") + "\n"
            f"Demo endpoint: {receiver} (organisation 'demo')\n"
            f"Try: python manage.py emit webhook.test '{{\"hello\": \"world\"}}' --organisation demo"
        )
