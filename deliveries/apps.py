"""App config: connects the outbox to the fan-out task and schedules the sweeper on beat."""
from django.apps import AppConfig

from hookline.packages import ensure_own_packages

ensure_own_packages()  # a host app named events/hooks/deliveries: a clear error, not an ImportError


class DeliveriesConfig(AppConfig):
    name = "deliveries"
    verbose_name = "Hookline deliveries"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery import current_app

        from events import outbox
        from hookline.celery import SWEEPER_ENTRY, sweeper_entry

        from .tasks import enqueue_fan_out

        outbox.set_dispatcher(enqueue_fan_out)
        # Also for apps that were not given hookline.celery.configure() (which schedules it too).
        current_app.conf.beat_schedule.setdefault(SWEEPER_ENTRY, sweeper_entry())
