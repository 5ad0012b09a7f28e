"""Shared machinery of Hookline's three apps (events, hooks, deliveries): settings, checks, base errors, admin and API bases.

A plain package, not a Django app: no models, no migrations, nothing to install. ``conf``, ``checks``,
``exceptions`` and ``querysets`` import nothing of the apps; ``admin`` and ``api`` also use the tenant
model (``events.models.Organisation``) and the catalog, so apps import them, never the other way round.
"""

__version__ = "0.2.0"
