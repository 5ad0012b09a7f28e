"""The Hookline API's URLs, with its schema and docs: ``path("api/", include("deliveries.api.urls"))``."""
from django.urls import path
from rest_framework.routers import SimpleRouter

from hookline.api.docs import HooklineRedocView, HooklineSchemaView, HooklineSwaggerView

from ..edges.deliveries.api import DeliveryViewSet
from ..edges.endpoints.api import WebhookViewSet
from ..edges.event_types.api import EventTypeViewSet
from ..edges.events.api import EmitView
from ..edges.schedules.api import ScheduledEventViewSet
from ..edges.tokens.api import TokenValidationView

router = SimpleRouter()
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("deliveries", DeliveryViewSet, basename="delivery")
router.register("event-types", EventTypeViewSet, basename="event-type")
router.register("scheduled-events", ScheduledEventViewSet, basename="scheduled-event")

routes = [
    *router.urls,
    path("events/", EmitView.as_view(), name="emit"),
    path("tokens/validate/", TokenValidationView.as_view(), name="token-validate"),
]

urlpatterns = [
    *routes,
    path("schema/", HooklineSchemaView.as_view(routes=routes), name="hookline-schema"),
    path("docs/", HooklineSwaggerView.as_view(), name="hookline-docs"),
    path("redoc/", HooklineRedocView.as_view(), name="hookline-redoc"),
]
