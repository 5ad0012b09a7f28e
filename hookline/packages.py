"""Start-up guard: Hookline's apps are the top-level packages events, hooks and deliveries; say so when a host app has
one of those names."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

PACKAGES = ("events", "hooks", "deliveries")
_HOME = Path(__file__).resolve().parent.parent  # where Hookline's packages sit beside hookline/


def ensure_own_packages() -> None:
    """Raise a clear ImproperlyConfigured when ``events``, ``hooks`` or ``deliveries`` is another package.

    Python has one module per name, so a host app called ``events`` hides Hookline's (and relabelling
    the app does not change its import name): without this, the failure is an obscure ImportError.
    """
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        origin = Path(spec.origin).resolve() if spec and spec.origin else None
        if origin is not None and origin.parent.parent == _HOME:
            continue
        where = origin.parent if origin else "(a namespace package)" if spec else "(not found)"
        raise ImproperlyConfigured(
            f"Hookline needs the top-level package '{name}', but '{name}' is {where}, not Hookline's "
            f"(expected {_HOME / name}). Hookline's apps are the packages events, hooks and deliveries, so a "
            f"project app or package with one of these names clashes with them; relabelling the app does not help. "
            f"Rename your package (e.g. '{name}' -> 'shop_{name}') and its imports, or run Hookline in its own "
            f"project (webhooks_project) next to your site."
        )


def is_own_app(path: str) -> bool:
    """Whether an installed app's folder (``AppConfig.path``) is one of Hookline's packages, beside hookline/."""
    return Path(path).resolve().parent == _HOME
