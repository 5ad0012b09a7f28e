"""URLs: the admin, the API (with its OpenAPI schema and docs at api/schema/, api/docs/, api/redoc/), and the demo echo receiver."""
from django.contrib import admin
from django.urls import include, path

from . import demo

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("deliveries.api.urls")),
    path("demo/echo/", demo.echo, name="demo-echo"),
]
