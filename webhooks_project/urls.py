"""URLs: the admin, the API (with its OpenAPI schema and docs), /metrics, and the demo echo receiver."""
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from deliveries.edges.metrics.views import metrics_view

from . import demo

# Hookline's name in the admin's header and title (a site embedding Hookline keeps its own).
admin.site.site_header = "Hookline"
admin.site.site_title = "Hookline"
admin.site.index_title = "Webhooks"
admin.site.index_template = "admin/hookline/index.html"  # leads with the dashboard

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("api/", include("deliveries.api.urls")),
    path("demo/echo/", demo.echo, name="demo-echo"),
    path("metrics", metrics_view, name="metrics"),
]
