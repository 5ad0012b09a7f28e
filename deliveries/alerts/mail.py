"""The alert email: rendered from templates the host can override, sent with Django's email backend."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string, select_template
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from hookline import contacts
from hookline.conf import hookline_settings

from . import links
from .kinds import DISABLED, KINDS
from .models import Notification

logger = logging.getLogger(__name__)

TEMPLATES = "hookline/alerts/"


def send(notification_id: int) -> bool:
    """Send a queued notification's email once (a conditional UPDATE claims it); returns whether it went out."""
    claimed = Notification.objects.filter(pk=notification_id, email_status=Notification.EmailStatus.QUEUED).update(
        email_status=Notification.EmailStatus.SENDING,
    )
    if not claimed:
        return False
    notification = Notification.objects.select_related("webhook", "organisation").get(pk=notification_id)
    try:
        compose(notification).send()
    except Exception as exc:  # any backend's failure: recorded on the notification, shown in the admin
        logger.warning("Alert email of notification %s failed", notification_id, exc_info=True)
        Notification.objects.filter(pk=notification_id).update(
            email_status=Notification.EmailStatus.FAILED,
            email_error=str(exc)[:500] or type(exc).__name__,
        )
        return False
    Notification.objects.filter(pk=notification_id).update(
        email_status=Notification.EmailStatus.SENT,
        email_sent_at=timezone.now(),
        email_error="",
    )
    return True


def context(notification: Notification) -> dict[str, Any]:
    """What the templates get: the notification, its endpoint, the moment's words and facts, the links."""
    kind, webhook, payload = KINDS[notification.kind], notification.webhook, notification.payload
    disabled = kind is DISABLED or not webhook.enabled
    return {
        "notification": notification,
        "webhook": webhook,
        "organisation": notification.organisation,
        "kind": kind,
        "payload": payload,
        "headline": f"Endpoint “{webhook.name}” {kind.headline}",
        "failing_since": parse_datetime(payload.get("failing_since") or "") if payload.get("failing_since") else None,
        "last_error": payload.get("last_error") or "",
        "reason": payload.get("reason") or "",
        "health_url": links.health_url(webhook.pk),
        "history_url": links.history_url(webhook.pk),
        "reenable_url": links.reenable_url(webhook.pk, notification.pk) if disabled else "",
        "link_days": round(hookline_settings.ALERT_LINK_MAX_AGE / 86400, 1),
    }


def compose(notification: Notification) -> EmailMultiAlternatives:
    """Plain text and HTML; a template per kind (hookline/alerts/failing.txt) wins over the shared one."""
    values = context(notification)

    def names(suffix: str) -> list[str]:
        return [f"{TEMPLATES}{notification.kind}{suffix}", f"{TEMPLATES}email{suffix}"]

    subject = " ".join(select_template(names("_subject.txt")).render(values).split())
    text = select_template(names(".txt")).render(values)
    html = select_template(names(".html")).render(values)
    sender = hookline_settings.ALERT_FROM_EMAIL or settings.DEFAULT_FROM_EMAIL
    message = EmailMultiAlternatives(subject, text, sender, contacts.split(notification.emailed_to))
    message.attach_alternative(html, "text/html")
    return message


def render_html(notification: Notification) -> str:
    """The HTML body alone (previews, the screenshot in docs/)."""
    return render_to_string(f"{TEMPLATES}email.html", context(notification))
