"""Endpoint pages: list, create (the secret shown once), edit, and each action a customer may take."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from deliveries import endpoint_actions as actions
from deliveries.exceptions import EndpointNotReceiving
from deliveries.models import Delivery
from events.models import EventType
from hooks.models import Webhook

from .. import examples, snippets, throttle
from ..access import portal_view
from ..conf import portal_settings
from ..forms import EndpointForm, RecoverForm, default_recover_since


def organisation_endpoints(request: HttpRequest):
    """The only way the portal finds endpoints: this session's organisation's."""
    return actions.for_listing(Webhook.objects.filter(organisation=request.portal.organisation))


def get_endpoint(request: HttpRequest, pk) -> Webhook:
    return get_object_or_404(organisation_endpoints(request), pk=pk)


@portal_view
def endpoint_list(request: HttpRequest):
    # Health at a glance: the last day's deliveries per endpoint, in one query.
    since = deliveries_window()
    shown = (
        organisation_endpoints(request)
        .order_by("name")
        .annotate(
            day_total=Count("deliveries", filter=Q(deliveries__created_at__gte=since)),
            day_failed=Count(
                "deliveries", filter=Q(deliveries__created_at__gte=since, deliveries__status=Delivery.Status.FAILED)
            ),
            day_succeeded=Count(
                "deliveries", filter=Q(deliveries__created_at__gte=since, deliveries__status=Delivery.Status.SUCCEEDED)
            ),
        )
    )
    return render(request, "portal/endpoint_list.html", {"endpoints": shown})


def deliveries_window():
    return timezone.now() - timedelta(days=1)


@portal_view
def endpoint_create(request: HttpRequest):
    form = EndpointForm(request.POST or None, access=request.portal)
    if request.method == "POST" and form.is_valid():
        try:
            webhook, secret = actions.create(organisation=request.portal.organisation, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            # The secret is in this answer only: it is not stored in the session, and no page shows it again.
            return render(
                request, "portal/endpoint_secret.html", {"endpoint": webhook, "secret": secret, "created": True}
            )
    return render(request, "portal/endpoint_form.html", {"form": form, "catalog": catalog_with_examples(request)})


@portal_view
def endpoint_edit(request: HttpRequest, pk):
    webhook = get_endpoint(request, pk)
    initial = {
        "url": webhook.url,
        "name": webhook.name,
        "description": webhook.description,
        "event_types": webhook.event_types,
        "contact_emails": webhook.contact_emails,
    }
    form = EndpointForm(request.POST or None, initial=initial, access=request.portal, current=webhook.event_types)
    if request.method == "POST" and form.is_valid():
        changed = {name: value for name, value in form.cleaned_data.items() if value != initial[name]}
        # (hooks.services cleans every value: the URL guard, event-type patterns, text limits, email addresses)
        try:
            actions.update(webhook, **changed)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Endpoint saved."))
            return redirect("portal:endpoint", pk=webhook.pk)
    return render(
        request,
        "portal/endpoint_form.html",
        {"form": form, "endpoint": webhook, "catalog": catalog_with_examples(request)},
    )


@portal_view
def endpoint_detail(request: HttpRequest, pk):
    webhook = get_endpoint(request, pk)
    recent = webhook.deliveries.select_related("event").order_by("-created_at")[:10]
    return render(
        request,
        "portal/endpoint_detail.html",
        {
            "endpoint": webhook,
            "recent": recent,
            "snippets": snippets.SNIPPETS,
            "recover_form": RecoverForm(initial={"since": default_recover_since()}),
        },
    )


@require_POST
@portal_view
def endpoint_test(request: HttpRequest, pk):
    webhook = get_endpoint(request, pk)
    if not throttle.allow("test", request.portal.organisation.pk, portal_settings.TEST_SEND_RATE):
        messages.error(request, _("Too many test sends: wait a minute and try again."))
        return redirect("portal:endpoint", pk=webhook.pk)
    attempt = actions.send_test(webhook)
    return redirect("portal:delivery", pk=attempt.delivery_id)


@require_POST
@portal_view
def endpoint_rotate(request: HttpRequest, pk):
    webhook = get_endpoint(request, pk)
    secret = actions.rotate_secret(webhook)
    return render(request, "portal/endpoint_secret.html", {"endpoint": webhook, "secret": secret, "created": False})


@require_POST
@portal_view
def endpoint_recover(request: HttpRequest, pk):
    webhook = get_endpoint(request, pk)
    form = RecoverForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("since", [_("Choose a time.")])))
    else:
        try:
            count = actions.recover(webhook, form.cleaned_data["since"])
        except EndpointNotReceiving as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("%(count)d failed deliveries queued again.") % {"count": count})
    return redirect("portal:endpoint", pk=webhook.pk)


# Actions without input: each one calls the function the admin and the API call.
ACTIONS = {
    "enable": (lambda webhook: actions.enable(webhook), gettext_lazy("Endpoint enabled.")),
    "disable": (lambda webhook: actions.disable(webhook), gettext_lazy("Endpoint disabled.")),
    "pause": (lambda webhook: actions.pause(webhook), gettext_lazy("Endpoint paused: new deliveries are held.")),
    "resume": (
        lambda webhook: actions.resume(webhook),
        gettext_lazy("Endpoint resumed: held deliveries are on their way."),
    ),
}


@require_POST
@portal_view
def endpoint_action(request: HttpRequest, pk, action):
    if action not in ACTIONS:
        raise Http404
    webhook = get_endpoint(request, pk)
    run, done = ACTIONS[action]
    run(webhook)
    messages.success(request, done)
    return redirect("portal:endpoint", pk=webhook.pk)


@portal_view
def endpoint_delete(request: HttpRequest, pk):
    webhook = get_endpoint(request, pk)
    if request.method == "POST":
        actions.delete(webhook)
        messages.success(request, _("Endpoint deleted."))
        return redirect("portal:endpoints")
    return render(request, "portal/endpoint_delete.html", {"endpoint": webhook})


@portal_view
def event_types(request: HttpRequest):
    return render(request, "portal/event_types.html", {"catalog": catalog_with_examples(request)})


def catalog(request: HttpRequest) -> list[EventType]:
    entries = EventType.objects.filter(deprecated=False).order_by("key")
    return [entry for entry in entries if request.portal.allows_event_type(entry.key)]


def catalog_with_examples(request: HttpRequest) -> list[EventType]:
    """The catalog, each entry with ``example``: (payload, from the schema's own examples) or None."""
    entries = catalog(request)
    for entry in entries:
        entry.example = examples.example_of(entry.schema)
    return entries
