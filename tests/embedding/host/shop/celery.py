"""The shop's Celery app (`celery -A shop worker`), with Hookline's configuration in one call."""

import os

from celery import Celery

import hookline.celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
hookline.celery.configure(app)
app.autodiscover_tasks()
