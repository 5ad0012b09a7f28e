"""The portal's URLs: ``path("webhooks/", include("portal.urls"))`` (namespace ``portal``)."""

from django.urls import path

from .views import deliveries, endpoints, entry, health

app_name = "portal"

urlpatterns = [
    path("", endpoints.endpoint_list, name="endpoints"),
    path("open/<str:token>/", entry.open_link, name="open"),
    path("sign-out/", entry.sign_out, name="sign-out"),
    path("endpoints/new/", endpoints.endpoint_create, name="endpoint-create"),
    path("endpoints/<int:pk>/", endpoints.endpoint_detail, name="endpoint"),
    path("endpoints/<int:pk>/edit/", endpoints.endpoint_edit, name="endpoint-edit"),
    path("endpoints/<int:pk>/delete/", endpoints.endpoint_delete, name="endpoint-delete"),
    path("endpoints/<int:pk>/test/", endpoints.endpoint_test, name="endpoint-test"),
    path("endpoints/<int:pk>/rotate-secret/", endpoints.endpoint_rotate, name="endpoint-rotate"),
    path("endpoints/<int:pk>/health/", health.endpoint_health, name="endpoint-health"),
    path("endpoints/<int:pk>/recover/", endpoints.endpoint_recover, name="endpoint-recover"),
    path("endpoints/<int:pk>/<slug:action>/", endpoints.endpoint_action, name="endpoint-action"),
    path("deliveries/", deliveries.delivery_list, name="deliveries"),
    path("deliveries/<int:pk>/", deliveries.delivery_detail, name="delivery"),
    path("deliveries/<int:pk>/redeliver/", deliveries.delivery_redeliver, name="delivery-redeliver"),
    path("event-types/", endpoints.event_types, name="event-types"),
]
