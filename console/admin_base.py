"""The base of Hookline's admin pages: organisation scoping, per-object action buttons, catalog filters."""

from __future__ import annotations

from datetime import datetime
from operator import attrgetter
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db import models
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponseBadRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timeuntil

from events.models import EventType, Organisation
from hookline import deepjson, limits
from hookline.display import displayable


def member_organisation_ids(request: HttpRequest) -> frozenset[int]:
    """The ids of the requesting user's organisations, read once per request."""
    if not hasattr(request, "_hookline_organisation_ids"):
        ids = Organisation.objects.visible_to(request.user).values_list("id", flat=True)
        request._hookline_organisation_ids = frozenset(ids)
    return request._hookline_organisation_ids


class LimitedJSONFormField(forms.JSONField):
    """The admin's JSON boxes: text over the depth limit is refused before json.loads recurses, and any stored value
    shows."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and not self.disabled:
            try:
                limits.check_json_text(value, where=self.label or "value")
            except limits.LimitExceeded as exc:
                raise forms.ValidationError(str(exc), code=exc.code) from None
        value = super().to_python(value)
        try:  # NUL, lone surrogates ("\\ud800" in the text), NaN and 1e999: what no JSON column stores
            limits.check_json(value, where=self.label or "value")
        except limits.LimitExceeded as exc:
            raise forms.ValidationError(str(exc), code=exc.code) from None
        return value

    def bound_data(self, data: Any, initial: Any) -> Any:
        if isinstance(data, str) and not self.disabled:
            try:
                limits.check_json_text(data)
            except limits.LimitExceeded:
                return forms.fields.InvalidJSONInput(data)  # shown back as typed, with the error
        return super().bound_data(data, initial)

    def prepare_value(self, value: Any) -> str:
        try:
            return displayable(super().prepare_value(value))
        except RecursionError:
            return displayable(deepjson.dumps(value, ensure_ascii=False, cls=self.encoder))


class InputGateMixin:
    """Every Hookline admin page: the search box, the filters, the ordering and object ids pass hookline.limits
    before they reach the ORM (a NUL there was a PostgreSQL error, a 500)."""

    def changelist_view(self, request: HttpRequest, extra_context=None):
        for name, values in request.GET.lists():
            for value in (name, *values):
                try:
                    limits.check_argument(
                        value, where=f"The parameter {name!r}" if value is not name else "A parameter name"
                    )
                except limits.LimitExceeded as exc:
                    return HttpResponseBadRequest(
                        f"{exc.where} {exc.reason}".encode("utf-8", "backslashreplace"),
                        content_type="text/plain; charset=utf-8",
                    )
        return super().changelist_view(request, extra_context)

    def get_object(self, request: HttpRequest, object_id, from_field=None):
        # An id that cannot be (a NUL) or matches nothing is a 404 on every Hookline page; the admin's own
        # answer, a redirect with "doesn't exist", differed from page to page and reveals what exists.
        try:
            limits.check_argument(object_id, where="object id")
        except limits.LimitExceeded:
            raise Http404("No such object.") from None
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such object.")
        return obj


class OrganisationScopedAdmin(InputGateMixin, admin.ModelAdmin):
    """Non-superuser staff see and act only on their organisations' objects.

    The model's QuerySet must offer ``visible_to(user)``; ``organisation_attribute`` reaches an
    object's organisation id. Objects of other organisations answer 404, exactly as missing ones do.
    ``object_actions`` maps the changelist actions that also get a button on an object's page to its label.
    """

    organisation_attribute = "organisation_id"
    object_actions: dict[str, str] = {}
    formfield_overrides = {models.JSONField: {"form_class": LimitedJSONFormField}}

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).visible_to(request.user)

    def is_visible(self, request: HttpRequest, obj: Any) -> bool:
        if request.user.is_superuser:
            return True
        return attrgetter(self.organisation_attribute)(obj) in member_organisation_ids(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_view_permission(request, obj) and (obj is None or self.is_visible(request, obj))

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or self.is_visible(request, obj))

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or self.is_visible(request, obj))

    # --- one action, run on one object from a button of its page ---------------------------
    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/run/<str:action>/",
                self.admin_site.admin_view(self.object_action_view),
                name="{}_{}_object_action".format(*info),
            ),
            *super().get_urls(),
        ]

    def object_action_view(self, request: HttpRequest, object_id: str, action: str):
        """POST: run a changelist action on this object alone (the action's own permissions apply)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, unquote(object_id))
        actions = self.get_actions(request)  # only the actions this user is allowed to run
        if action not in self.object_actions or action not in actions:
            raise Http404("No such action.")
        func = actions[action][0]
        response = func(self, request, self.get_queryset(request).filter(pk=obj.pk))
        if response is not None:
            return response
        return HttpResponseRedirect(
            reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        )

    def object_action_buttons(self, request: HttpRequest, obj) -> list[dict[str, str]]:
        """The buttons of ``object_actions`` this user may use on ``obj`` now, in declared order."""
        actions = self.get_actions(request)
        return [
            {"name": name, "label": label}
            for name, label in self.object_actions.items()
            if name in actions and self.object_action_applies(name, obj)
        ]

    def object_action_applies(self, name: str, obj: Any) -> bool:
        """Whether a button makes sense for the object as it is (no "Enable" on an enabled endpoint)."""
        return True

    def render_change_form(
        self, request: HttpRequest, context, add: bool = False, change: bool = False, form_url: str = "", obj=None
    ):
        if obj is not None:
            context["object_action_buttons"] = self.object_action_buttons(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)


class ReadOnlyLogAdmin(OrganisationScopedAdmin):
    """A log (events, deliveries): nobody adds, edits or deletes its rows in the admin.

    (Deleting an endpoint deletes its deliveries.)
    """

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def filter_id(value: Any) -> int | None:
    """An id filter's value as an id, or None: a string from the query, or an int when the admin counts facets
    (``?_facets``, which hands each of lookups()' ids to ``queryset()``). ``"²".isdigit()`` is true, so ASCII only."""
    text = str(value)
    if not (text.isascii() and text.isdigit()) or int(text) > 2**63 - 1:
        return None
    return int(text)


class OrganisationFilter(admin.SimpleListFilter):
    """Filter by organisation, offering only the user's own (never a scan of the filtered table)."""

    title = "organisation"
    parameter_name = "organisation"
    field_path = "organisation"

    def lookups(self, request: HttpRequest, model_admin):
        return list(Organisation.objects.visible_to(request.user).values_list("id", "name"))

    def queryset(self, request: HttpRequest, queryset):
        value = self.value()
        if value is None:
            return queryset
        number = filter_id(value)
        return queryset.filter(**{self.field_path: number}) if number is not None else queryset.none()


class EventTypeFilter(admin.SimpleListFilter):
    """Filter by event type, offering the catalog's keys; a key also selects its sub-keys (``key.1001``)."""

    title = "event type"
    parameter_name = "event_type"
    field_path = "type"

    def lookups(self, request: HttpRequest, model_admin):
        keys = EventType.objects.values_list("key", flat=True)
        return [(key, key) for key in keys]

    def queryset(self, request: HttpRequest, queryset):
        key = self.value()
        if key is None:
            return queryset
        return queryset.filter(Q(**{self.field_path: key}) | Q(**{f"{self.field_path}__startswith": f"{key}."}))


def time_until(when: datetime | None, now: datetime | None = None) -> str:
    """ "in 3 minutes", "in 12 seconds" or "due now": never Django's "0 minutes" for what is imminent."""
    if when is None:
        return ""
    seconds = (when - (now or timezone.now())).total_seconds()
    if seconds < 1:
        return "due now"
    if seconds < 60:
        return f"in {int(seconds)} second{'s' if int(seconds) != 1 else ''}"
    return f"in {timeuntil(when, now)}"


# Colours that read on both of the admin's themes (light and dark).
_TONES = {"good": "#1a7f37", "bad": "#cf222e", "wait": "#9a6700", "off": "#6e7781", "info": "#0969da"}


def badge(text: str, tone: str) -> str:
    """A small coloured label for a state or a status (tone: good, bad, wait, off, info)."""
    return format_html(
        '<span class="hookline-badge" style="display:inline-block;padding:1px 8px;border-radius:10px;'
        'font-size:11px;font-weight:600;line-height:16px;white-space:nowrap;color:#fff;background:{}">{}</span>',
        _TONES[tone],
        text,
    )
