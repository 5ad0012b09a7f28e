"""URLs: the admin, the API (with its OpenAPI schema and docs at api/schema/, api/docs/, api/redoc/), /metrics,
and the demo echo receiver."""

from django.contrib import admin
from django.urls import include, path

from console.metrics.views import metrics_view

from . import demo

# Hookline's name in the admin's header and title (a site embedding Hookline keeps its own).
admin.site.site_header = "Hookline"
admin.site.site_title = "Hookline"
admin.site.index_title = "Webhooks"
admin.site.index_template = "admin/hookline/index.html"  # leads with the dashboard

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("console.api.urls")),
    path("webhooks/", include("portal.urls")),
    path("demo/echo/", demo.echo, name="demo-echo"),
    path("metrics", metrics_view, name="metrics"),
]
