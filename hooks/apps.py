"""App config for webhook endpoints."""
from django.apps import AppConfig


class HooksConfig(AppConfig):
    name = "hooks"
    verbose_name = "Endpoints"
    default_auto_field = "django.db.models.BigAutoField"
