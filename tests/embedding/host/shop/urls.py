"""The shop's URLs: its admin and API, Hookline's API (with its schema and docs) under /internal/webhooks/api/,
and the customer portal under /account/webhooks/."""

from django.contrib import admin
from django.urls import include, path

from .views import OrderList

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/orders/", OrderList.as_view()),
    path("internal/webhooks/api/", include("console.api.urls")),
    path("account/webhooks/", include("portal.urls")),
]
