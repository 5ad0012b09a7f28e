"""App config: wires the outbox to fan-out, puts the sweeper and the pruner on beat, and wires metrics and log formats."""
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
        current_app.conf.beat_schedule.setdefault(
            "hookline-prune", {"task": "hookline.prune", "schedule": hookline_settings.PRUNE_INTERVAL}
        )
        _wire_operations()


def _wire_operations() -> None:
    """A finished worker child drops its live metrics; Celery's own log handlers get the JSON format too."""
    from celery.signals import after_setup_logger, after_setup_task_logger, worker_process_shutdown

    from hookline import jsonlog

    from . import metrics

    worker_process_shutdown.connect(lambda pid=None, **kwargs: metrics.mark_process_dead(pid), weak=False)
    after_setup_logger.connect(jsonlog.format_celery_handlers, weak=False)
    after_setup_task_logger.connect(jsonlog.format_celery_handlers, weak=False)
