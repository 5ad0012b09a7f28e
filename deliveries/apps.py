"""App config: connects the outbox to the wake-ups, starts the workers' periodic check, schedules the sweeper."""
from django.apps import AppConfig


class DeliveriesConfig(AppConfig):
    name = "deliveries"
    verbose_name = "Hookline deliveries"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery import current_app
        from celery.signals import worker_ready, worker_shutdown

        from events import outbox
        from hookline.conf import hookline_settings

        from hooks.signals import endpoint_needs_test

        from . import heartbeat, tasks, wakeup

        # In eager mode a wake-up runs the work inline: it must run in the caller's thread.
        outbox.set_dispatcher(wakeup.wake, background=not current_app.conf.task_always_eager)
        endpoint_needs_test.connect(tasks.request_test, dispatch_uid="hookline-test-on-save")
        worker_ready.connect(lambda **kwargs: heartbeat.start(), weak=False, dispatch_uid="hookline-heartbeat")
        worker_shutdown.connect(lambda **kwargs: heartbeat.stop(), weak=False, dispatch_uid="hookline-heartbeat-stop")
        current_app.conf.beat_schedule.setdefault(
            "hookline-sweep", {"task": "hookline.sweep", "schedule": hookline_settings.SWEEP_INTERVAL}
        )
