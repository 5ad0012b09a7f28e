"""URLs: the admin, the API, and the demo echo receiver."""
from django.contrib import admin
from django.urls import path

from . import demo

urlpatterns = [
    path("admin/", admin.site.urls),
    path("demo/echo/", demo.echo, name="demo-echo"),
]
