"""Filter types every Hookline list uses: ids and times that the database can always compare."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

MAX_ID = 2**63 - 1  # BigAutoField


class UTCIsoDateTimeField(IsoDateTimeField):
    def to_python(self, value: str | datetime | date | None) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        # In UTC: PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 parsing accepts, and a time whose
        # UTC equivalent falls outside years 1-9999 cannot be compared at all.
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("This time is out of range.", code="overflow") from None


class TimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time (2026-01-31T12:00:00Z)."""

    field_class = UTCIsoDateTimeField


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An object id: a whole number in the id column's range."""

    field_class = forms.IntegerField  # type: ignore[assignment]  # the stubs narrow it to DecimalField; any Field works

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
