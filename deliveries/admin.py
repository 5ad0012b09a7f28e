"""Hookline's admin: imports each resource's admin module (deliveries.edges) so every model is registered exactly once."""
from .edges.alerts import admin as alerts_admin  # noqa: F401  (operational alerts, issue 25)
from .edges.deliveries import admin as deliveries_admin  # noqa: F401  (each module registers its admin)
from .edges.endpoints import admin as endpoints_admin  # noqa: F401
from .edges.event_types import admin as event_types_admin  # noqa: F401
from .edges.events import admin as events_admin  # noqa: F401
from .edges.organisations import admin as organisations_admin  # noqa: F401
from .edges.schedules import admin as schedules_admin  # noqa: F401
