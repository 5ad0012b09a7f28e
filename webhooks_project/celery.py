"""The Celery app (`celery -A webhooks_project worker`), configured for at-least-once delivery."""
import os

from celery import Celery
from celery.signals import task_failure, task_retry

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webhooks_project.settings")

app = Celery("webhooks_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # A message is acknowledged only after its task ran; a lost worker's messages come back.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    # Keep persistent DB connections: Celery's Django fixup would otherwise close them after
    # every task (measured: connection set-up took ~40 % of CPU). Stale ones are dropped below.
    CELERY_DB_REUSE_MAX=10**9,
)
app.autodiscover_tasks()


@task_failure.connect
@task_retry.connect
def _drop_broken_db_connections(**kwargs):
    # Only after a failure: a health check before every task cost two statements per message, and a
    # connection that broke fails its task, which is retried (claims make that safe) on a new one.
    from django.db import close_old_connections

    close_old_connections()
