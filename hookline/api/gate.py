"""The API's input gate for what is not a body: query parameters and path keys pass hookline.limits before any
lookup."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rest_framework import exceptions

from hookline import limits


def check_request_arguments(query_params: Any, path_kwargs: Mapping[str, Any]) -> None:
    """Raise a 400 ValidationError naming the parameter and the limit it breaks (NUL, lone surrogate, length)."""
    for name, values in _pairs(query_params):
        _check(name, "a query parameter name", values=[name])
        _check(name, f"query parameter {name!r}", values=values)
    for name, value in path_kwargs.items():
        if isinstance(value, str):
            _check(name, f"path key {name!r}", values=[value])


def _pairs(query_params: Any) -> Iterable[tuple[str, list[str]]]:
    return query_params.lists() if hasattr(query_params, "lists") else ((k, [v]) for k, v in query_params.items())


def _check(field: str, where: str, *, values: list[str]) -> None:
    for value in values:
        try:
            limits.check_argument(value, where=where)
        except limits.LimitExceeded as exc:
            raise exceptions.ValidationError({_printable(field): [f"{where} {exc.reason}"]}, code=exc.code) from None


def _printable(name: str) -> str:
    # The field named in the answer must itself be storable and renderable.
    return name.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\u0000")
