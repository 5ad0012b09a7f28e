"""The Hookline API's URLs: ``path("api/", include("deliveries.api.urls"))``."""
from django.urls import path
from rest_framework.routers import SimpleRouter

from events.api.views import EmitView, EventTypeViewSet

from .views import DeliveryViewSet, TokenValidationView, WebhookViewSet

router = SimpleRouter()
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("deliveries", DeliveryViewSet, basename="delivery")
router.register("event-types", EventTypeViewSet, basename="event-type")

urlpatterns = [
    *router.urls,
    path("events/", EmitView.as_view(), name="emit"),
    path("tokens/validate/", TokenValidationView.as_view(), name="token-validate"),
]
