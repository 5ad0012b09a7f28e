"""The endpoint's admin form: its own fields, and the delivery contract as typed fields made from
hooks.contracts.OPTIONS.

Checked by the endpoint actions' clean step, saved by create/update (deliveries.endpoint_actions).
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.html import escape

from console.admin_base import EventTypeFilter, LimitedJSONFormField
from deliveries import endpoint_actions as actions
from hookline import limits
from hookline.display import displayable
from hooks import contracts, patterns
from hooks.models import Webhook

PRESET = "preset"
OWN_FIELDS = [
    "organisation",
    "name",
    "description",
    "url",
    "event_types",
    "condition",
]  # the endpoint's, not its contract's


class PatternListField(forms.CharField):
    """Event-type patterns, one per line (or comma-separated); the model stores them as a JSON list."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 40})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        return [part.strip() for part in re.split(r"[\n,]", value or "") if part.strip()]


class JSONValueField(LimitedJSONFormField):
    """JSON where the value is JSON by nature (a condition, a body template): empty means none, never "null"."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 4, "cols": 60, "class": "hookline-json"}))
        super().__init__(required=False, **kwargs)

    def prepare_value(self, value):
        return "" if value is None or value == "" else super().prepare_value(value)


class TextField(forms.CharField):
    """A text box that shows any stored value (an old row's lone surrogate as its escape)."""

    def prepare_value(self, value):
        value = self.show(value)
        return displayable(value) if isinstance(value, str) else value

    def show(self, value):
        return value


class NumberListField(TextField):
    """Numbers separated by commas or spaces (delays in seconds, status codes)."""

    def __init__(self, *, integers: bool, **kwargs: Any) -> None:
        self.integers = integers
        super().__init__(required=False, **kwargs)

    def show(self, value):
        return (
            ", ".join(f"{item:g}" if isinstance(item, float) else str(item) for item in value)
            if isinstance(value, (list, tuple))
            else value
        )

    def to_python(self, value):
        parts = [part for part in re.split(r"[\s,]+", (value or "").strip()) if part]
        try:
            numbers = [int(part) if self.integers else float(part) for part in parts]
        except ValueError:
            raise ValidationError("Enter numbers separated by commas.", code="invalid") from None
        return [int(n) if not self.integers and n == int(n) else n for n in numbers] or None


class RetryOnField(TextField):
    """all, server-errors, 5xx, or a list of status codes."""

    def show(self, value):
        return ", ".join(map(str, value)) if isinstance(value, (list, tuple, frozenset)) else value

    def to_python(self, value):
        value = (value or "").strip()
        if not value or value in contracts.RETRY_CHOICES:
            return value or None
        return NumberListField(integers=True).to_python(value)


class HeadersField(TextField):
    """Static headers, one ``Name: value`` per line (stored as an object)."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 60})

    def show(self, value):
        return "\n".join(f"{name}: {item}" for name, item in value.items()) if isinstance(value, dict) else value

    def to_python(self, value):
        if (value or "").strip().startswith("{"):  # a JSON object, as this box took before Architecture II
            try:
                limits.check_json_text(value, where="headers")
            except limits.LimitExceeded as exc:
                raise ValidationError(str(exc), code=exc.code) from None
            try:
                headers = json.loads(value)
            except ValueError:
                raise ValidationError("Enter one Name: value per line (or a JSON object).", code="headers") from None
            return headers
        headers = {}
        for line in (value or "").splitlines():
            if not line.strip():
                continue
            name, colon, item = line.partition(":")
            if not colon:
                raise ValidationError(f"Write each header as Name: value; got {line.strip()!r}.", code="headers")
            headers[name.strip()] = item.strip()
        return headers


def option_field(option: contracts.Option) -> forms.Field:
    """The form field of one contract option, its default shown as the placeholder or the empty choice."""
    default = option.default or _default_in_words(option)
    # The admin renders help texts as HTML: these are text.
    help_text = escape(f"{option.help} Default: {default}." if default else option.help)
    common = {"label": option.label[:1].upper() + option.label[1:], "help_text": help_text}
    placeholder = {"placeholder": f"default: {default}"} if default else {}
    if option.kind == "bool":
        return forms.BooleanField(required=False, initial=contracts.default_of(option), **common)
    if option.kind == "int":
        return forms.IntegerField(
            required=False,
            min_value=0,
            max_value=contracts.MAXIMA.get(option.path),
            widget=forms.NumberInput(attrs=placeholder),
            **common,
        )
    if option.kind == "float":
        return forms.FloatField(
            required=False, min_value=0, widget=forms.NumberInput(attrs={**placeholder, "step": "any"}), **common
        )
    if option.kind == "choice":
        choices = [("", f"default ({default})" if default else "default"), *((c, c) for c in option.choices)]
        return forms.ChoiceField(required=False, choices=choices, **common)
    if option.kind in ("delays", "codes"):
        return NumberListField(integers=option.kind == "codes", widget=forms.TextInput(attrs=placeholder), **common)
    if option.kind == "retry_on":
        return RetryOnField(required=False, widget=forms.TextInput(attrs=placeholder), **common)
    if option.kind == "headers":
        return HeadersField(required=False, **common)
    if option.kind == "json":
        return JSONValueField(**common)
    return TextField(required=False, widget=forms.TextInput(attrs={**placeholder, "size": 60}), **common)


def _default_in_words(option: contracts.Option) -> str:
    default = contracts.default_of(option)
    return "" if default in (None, "", (), frozenset(), {}) or isinstance(default, bool) else str(default)


class WebhookForm(forms.ModelForm):
    """Checked by ``endpoint_actions.clean`` (its errors land on their fields); saved by ``create``/``update``.

    ``self.instance`` only feeds the ModelForm machinery; the endpoint that is edited is
    ``self.original``, the instance as it was loaded.
    """

    url = forms.CharField(
        label="URL",
        max_length=2000,
        help_text=Webhook._meta.get_field("url").help_text,
        widget=forms.TextInput(attrs={"size": 80}),
    )
    event_types = PatternListField(
        label="Event types",
        initial=["*"],
        help_text="One pattern per line: exact keys, * for everything, or * as a whole segment (user.*).",
    )
    condition = JSONValueField(
        label="Condition",
        help_text=Webhook._meta.get_field("condition").help_text,
    )
    signing_secret = forms.CharField(
        label="Import a signing secret",
        required=False,
        widget=forms.PasswordInput,
        help_text="New endpoints only: an existing whsec_… or raw secret instead of a generated one.",
    )
    shared_secret = forms.CharField(
        label="Shared-secret value",
        required=False,
        widget=forms.PasswordInput,
        help_text="A value the customer chose for the shared-secret header (encrypted, never shown again). "
        "Empty keeps the stored value; a new endpoint without one sends the signing secret.",
    )
    preset = forms.ChoiceField(
        label="Preset",
        required=False,
        choices=[("", "none (the HOOKLINE defaults)"), *((p, p) for p in contracts.PRESETS)],
        help_text="A platform's delivery rules; the fields below override it. Choosing another preset replaces "
        "the values you did not change.",
    )
    user = None  # set by WebhookAdmin.get_form: the admin user who creates or edits

    class Meta:
        model = Webhook
        fields = [*OWN_FIELDS, "contact_emails"]  # contact_emails: operational alerts (issue 25)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        resolved = contracts.DEFAULT.effective()  # the defaults as this installation's settings make them
        for option in contracts.OPTIONS:
            value = getattr(getattr(resolved, option.section), option.key)
            widget = self.fields[option.name].widget
            if option.kind in ("int", "float", "text", "retry_on") and value not in (None, ""):
                widget.attrs["placeholder"] = f"{value:g}" if isinstance(value, float) else str(value)
        if "name" in self.fields and self.instance.pk is None:
            self.fields["name"].required = False
            self.fields["name"].help_text = "Defaults to the URL."
        if self.instance.pk is not None:
            # Shown as user:***@ — sent back unchanged, the stored password stays (Webhook.set_url).
            self.initial["url"] = self.instance.masked_url
            stored = self.instance.contract or {}
            self.initial[PRESET] = stored.get("preset", "")
            for option in contracts.OPTIONS:
                value = contracts.value_of(stored, option)
                if value is not None:
                    self.initial[option.name] = value
        self.original = copy.copy(self.instance)

    def contract_value(self) -> dict[str, Any]:
        """The contract the fields say: a value is kept if it is not the default or the user changed it;
        a newly chosen preset takes the place of the values the user did not change."""
        changed, data = set(self.changed_data), self.cleaned_data
        preset = data.get(PRESET) or ""
        presets = contracts.PRESETS.get(preset, {})
        contract: dict[str, Any] = {PRESET: preset} if preset else {}
        for option in contracts.OPTIONS:
            value = data.get(option.name)
            if value is None or value == "" or (option.kind == "headers" and not value):
                continue
            if option.name not in changed:
                if PRESET in changed:
                    continue
                # A default is left out, unless it overrides the preset's value (which would come back).
                if value == contracts.default_of(option) and option.key not in presets.get(option.section, {}):
                    continue
            contract.setdefault(option.section, {})[option.key] = value
        return contract

    def service_values(self) -> dict[str, Any]:
        """The endpoint's fields for create (all of them) or update (the changed ones), the contract as one value."""
        values = {name: self.cleaned_data[name] for name in OWN_FIELDS if name in self.cleaned_data}
        values["contract"] = self.contract_value()
        if self.cleaned_data.get("shared_secret"):  # a password box is never filled in: empty keeps the stored value
            values["shared_secret"] = self.cleaned_data["shared_secret"]
        if self.original.pk is None:
            return values
        return {
            name: value
            for name, value in values.items()
            if name in self.changed_data or name in ("contract", "shared_secret")
        }

    def clean(self):
        cleaned = super().clean()
        if self.errors:  # the clean step needs every field's value
            return cleaned
        try:
            contracts.validate_contract(self.contract_value())
        except contracts.ContractError as exc:
            option = contracts.OPTION_BY_PATH.get(exc.option)
            self.add_error(option.name if option else PRESET, exc)
            return cleaned
        except ValidationError as exc:
            self.add_error(PRESET, exc)
            return cleaned
        try:
            if self.cleaned_data.get("signing_secret"):
                if self.original.pk:
                    raise ValidationError({"signing_secret": "Import a secret on an existing endpoint by rotating it."})
                actions.validate_secret(self.cleaned_data["signing_secret"])
            actions.clean(self.service_values(), webhook=self.original if self.original.pk else None)
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "contract" in exc.error_dict:
                exc.error_dict[PRESET] = exc.error_dict.pop("contract")
            self.add_error(None, exc)  # keyed by field: each message lands on its field
        return cleaned

    def save(self, commit: bool = True) -> Webhook:
        """Create or update through the endpoint actions, which check once more and save (whatever ``commit`` says)."""
        if self.original.pk is None:
            webhook, self.secret = actions.create(
                user=self.user,
                secret=self.cleaned_data.get("signing_secret", ""),
                **self.service_values(),
            )
        else:
            webhook = actions.update(self.original, user=self.user, **self.service_values())
        self.save_m2m = lambda: None  # an endpoint has no many-to-many fields
        return webhook


# One typed field per contract option, made from its one description (declared, so the admin's fieldsets know them).
OPTION_FIELDS = {option.name: option_field(option) for option in contracts.OPTIONS}
WebhookForm.declared_fields.update(OPTION_FIELDS)
WebhookForm.base_fields.update(OPTION_FIELDS)


class WebhookEventTypeFilter(EventTypeFilter):
    """Endpoints whose patterns select an event type (patterns are JSON, so matched in Python)."""

    def queryset(self, request: HttpRequest, queryset):
        key = self.value()
        if key is None:
            return queryset
        ids = [pk for pk, selected in queryset.values_list("id", "event_types") if patterns.matches_any(selected, key)]
        return queryset.filter(id__in=ids)
