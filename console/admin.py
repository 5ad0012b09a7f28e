"""Hookline's admin: imports each resource's admin module so every model is registered exactly once (Django's
autodiscover imports this module)."""

from .alerts import admin as alerts_admin  # noqa: F401  (operational alerts, issue 25)
from .deliveries import admin as deliveries_admin  # noqa: F401  (each module registers its admin)
from .endpoints import admin as endpoints_admin  # noqa: F401
from .event_types import admin as event_types_admin  # noqa: F401
from .events import admin as events_admin  # noqa: F401
from .organisations import admin as organisations_admin  # noqa: F401
from .schedules import admin as schedules_admin  # noqa: F401
