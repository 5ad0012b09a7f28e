"""The old import paths of what moved into the console app, kept for one release with a DeprecationWarning.

The console registers them when it is ready: the app above knows the old names, so ``deliveries`` keeps
importing nothing of it. A name is read through the alias only when used, and each use warns.
"""

from __future__ import annotations

import sys
import warnings
from importlib import import_module
from types import ModuleType
from typing import Any

# old module -> its new home; both go in the next release's notes (docs/upgrading.md).
MOVED = {
    "deliveries.api.urls": "console.api.urls",
    "deliveries.edges.metrics.views": "console.metrics.views",
}


class MovedModule(ModuleType):
    """Stands at the old path in ``sys.modules``; every name read from it warns and comes from the new module."""

    def __init__(self, old: str, new: str) -> None:
        super().__init__(old, f"Deprecated: moved to {new}.")
        self.__moved_to__ = new

    def __getattr__(self, name: str) -> Any:
        moved = import_module(self.__moved_to__)
        if name.startswith("__") or not hasattr(moved, name):
            raise AttributeError(name)  # probing (__path__, app_name…) is not a use: no warning
        warnings.warn(
            f"{self.__name__} is deprecated and will be removed in the next release: use {self.__moved_to__} "
            f"(e.g. include('console.api.urls'); docs/upgrading.md).",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(moved, name)


def register_moved_modules() -> None:
    """Put an alias at each old path that nothing else holds (called from ConsoleConfig.ready)."""
    for old, new in MOVED.items():
        sys.modules.setdefault(old, MovedModule(old, new))
