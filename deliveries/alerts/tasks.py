"""Celery tasks of the alerts: thin wrappers over mail.send and beat's periodic check."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import DatabaseError

from . import mail, moments
from .notify import EMAIL_TASK

logger = logging.getLogger(__name__)

CHECK_ENTRY = "hookline-alerts"
CHECK_TASK = "hookline.alerts"


@shared_task(name=EMAIL_TASK, autoretry_for=(DatabaseError,), retry_backoff=1, max_retries=8)
def send_email_task(notification_id: int) -> bool:
    return mail.send(notification_id)


@shared_task(name=CHECK_TASK)
def check_task() -> int:
    """Beat: warn about expiring secrets, and send alert emails a broker outage stranded."""
    told = moments.check_secrets()
    stranded = moments.stranded_emails()
    for notification_id in stranded:
        mail.send(notification_id)
    if told or stranded:
        logger.info("Alerts check: %d expiring secret(s) told, %d stranded email(s) sent", len(told), len(stranded))
    return len(told) + len(stranded)
