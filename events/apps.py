"""App config: registers Hookline's system checks and the catalog's signals, and syncs code-declared event types on
migrate."""

from importlib import import_module

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate

from hookline.packages import ensure_own_packages

ensure_own_packages()  # a host app named events/hooks/deliveries: a clear error, not an ImportError


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Hookline events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hookline import celery, checks  # noqa: F401  (registers Hookline's system checks)

        from . import catalog

        # Each installed app may declare its event types in a hookline_events module.
        for config in apps.get_app_configs():
            try:
                import_module(f"{config.name}.hookline_events")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.hookline_events":
                    raise
        catalog.connect_signals()
        post_migrate.connect(catalog.sync_declared, sender=self, dispatch_uid="hookline_sync_catalog")
