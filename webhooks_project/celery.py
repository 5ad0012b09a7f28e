"""The Celery app (`celery -A webhooks_project worker`), configured for at-least-once delivery."""

import os

from celery import Celery

import hookline.celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webhooks_project.settings")

app = Celery("webhooks_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
hookline.celery.configure(app)  # late acks, prefetch 1, persistent DB connections, Redis options, the sweeper
app.autodiscover_tasks()
