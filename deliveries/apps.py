"""App config: connects the outbox to the fan-out task and schedules the sweeper on beat."""
from django.apps import AppConfig


class DeliveriesConfig(AppConfig):
    name = "deliveries"
    verbose_name = "Hookline deliveries"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery import current_app

        from events import outbox
        from hookline.conf import hookline_settings

        from .tasks import enqueue_fan_out

        outbox.set_dispatcher(enqueue_fan_out)
        current_app.conf.beat_schedule.setdefault(
            "hookline-sweep", {"task": "hookline.sweep", "schedule": hookline_settings.SWEEP_INTERVAL}
        )
