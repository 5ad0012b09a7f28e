"""The Hookline API's URLs, with its schema and docs: ``path("api/", include("console.api.urls"))``."""

from django.apps import apps
from django.urls import path
from rest_framework.routers import SimpleRouter

from hookline.api.docs import HooklineRedocView, HooklineSchemaView, HooklineSwaggerView

from ..deliveries.api import DeliveryViewSet
from ..endpoints.api import WebhookViewSet
from ..event_types.api import EventTypeViewSet
from ..events.api import EmitView
from ..schedules.api import ScheduledEventViewSet
from ..tokens.api import TokenValidationView

router = SimpleRouter()
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("deliveries", DeliveryViewSet, basename="delivery")
router.register("event-types", EventTypeViewSet, basename="event-type")
router.register("scheduled-events", ScheduledEventViewSet, basename="scheduled-event")

routes = [
    *router.urls,
    path("events/", EmitView.as_view(), name="emit"),
    path("tokens/validate/", TokenValidationView.as_view(), name="token-validate"),
    # Routes of apps above the console (the portal's /portal-sessions/), found without importing them.
    *(route for config in apps.get_app_configs() for route in getattr(config, "hookline_api_routes", list)()),
]

urlpatterns = [
    *routes,
    path("schema/", HooklineSchemaView.as_view(routes=routes), name="hookline-schema"),
    path("docs/", HooklineSwaggerView.as_view(), name="hookline-docs"),
    path("redoc/", HooklineRedocView.as_view(), name="hookline-redoc"),
]
