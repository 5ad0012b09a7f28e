"""Shared machinery of Hookline's apps (events, hooks, deliveries, console): settings, checks, base errors, API bases.

A plain package, not a Django app: no models, no migrations, nothing to install, and it imports none of
the apps (they import it). What needs the tenant model (``events.models.Organisation``), the admin's and
the API's organisation scoping, lives in the console app above them all.
"""

__version__ = "0.2.0"
