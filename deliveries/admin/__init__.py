"""Admin for the delivery log and its inspector, plus the delivery-aware endpoint and event pages.

``hooks`` and ``events`` register their own admins without knowing about deliveries; the modules
below replace those registrations with subclasses that add delivery columns, actions and inlines.
"""
from . import endpoints, events, log  # noqa: F401  (each registers its admin)
