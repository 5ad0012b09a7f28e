"""Moved: Hookline's API root is ``console.api.urls``. With the console app installed, its alias answers here (one
release).

Reached only when the console app is not installed: a clear error then, instead of an API without its docs
and an admin without Hookline's models.
"""

from django.core.exceptions import ImproperlyConfigured

raise ImproperlyConfigured(
    "Hookline's admin pages and API moved to its 'console' app: add 'console' to INSTALLED_APPS after 'deliveries', "
    "and include('console.api.urls') instead of include('deliveries.api.urls') (docs/upgrading.md)."
)
