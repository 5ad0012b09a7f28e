"""App config: connects the outbox to the wake-ups, starts the workers' periodic check, puts the sweeper,
the pruner and the scheduled events' check on beat, and wires metrics and log formats."""

from django.apps import AppConfig

from hookline.packages import ensure_own_packages

ensure_own_packages()  # a host app named events/hooks/deliveries: a clear error, not an ImportError


class DeliveriesConfig(AppConfig):
    name = "deliveries"
    verbose_name = "Hookline deliveries"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery import current_app
        from celery.signals import worker_ready, worker_shutdown

        from events import outbox
        from hookline.celery import SWEEPER_ENTRY, sweeper_entry
        from hookline.conf import hookline_settings
        from hooks.signals import endpoint_needs_test

        from . import heartbeat, tasks, wakeup

        # In eager mode a wake-up runs the work inline: it must run in the caller's thread.
        outbox.set_dispatcher(wakeup.wake, background=not current_app.conf.task_always_eager)
        endpoint_needs_test.connect(tasks.request_test, dispatch_uid="hookline-test-on-save")
        worker_ready.connect(lambda **kwargs: heartbeat.start(), weak=False, dispatch_uid="hookline-heartbeat")
        worker_shutdown.connect(lambda **kwargs: heartbeat.stop(), weak=False, dispatch_uid="hookline-heartbeat-stop")
        # Also for apps that were not given hookline.celery.configure() (which schedules it too).
        current_app.conf.beat_schedule.setdefault(SWEEPER_ENTRY, sweeper_entry())
        current_app.conf.beat_schedule.setdefault(
            "hookline-prune", {"task": "hookline.prune", "schedule": hookline_settings.PRUNE_INTERVAL}
        )
        current_app.conf.beat_schedule.setdefault(
            "hookline-schedules", {"task": "hookline.schedules", "schedule": hookline_settings.SCHEDULE_INTERVAL}
        )
        _wire_operations()
        _wire_alerts()


def _wire_operations() -> None:
    """A finished worker child drops its live metrics; Celery's own log handlers get the JSON format too."""
    from celery.signals import after_setup_logger, after_setup_task_logger, worker_process_shutdown

    from hookline import jsonlog

    from . import metrics

    worker_process_shutdown.connect(lambda pid=None, **kwargs: metrics.mark_process_dead(pid), weak=False)
    after_setup_logger.connect(jsonlog.format_celery_handlers, weak=False)
    after_setup_task_logger.connect(jsonlog.format_celery_handlers, weak=False)


def _wire_alerts() -> None:
    """Operational alerts (issue 25): disabled endpoints reach them, and beat checks secrets and stranded emails."""
    from celery import current_app

    from hookline.conf import hookline_settings
    from hooks.signals import endpoint_state_changed

    from .alerts import moments, tasks

    endpoint_state_changed.connect(moments.endpoint_state_changed, dispatch_uid="hookline-alerts")
    current_app.conf.beat_schedule.setdefault(
        tasks.CHECK_ENTRY,
        {"task": tasks.CHECK_TASK, "schedule": hookline_settings.ALERT_CHECK_INTERVAL},
    )
