"""A host's URLs as they were before the console app: Hookline's API through the deprecated deliveries.api.urls."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("internal/webhooks/api/", include("deliveries.api.urls")),
]
