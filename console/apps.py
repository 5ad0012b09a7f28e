"""App config: the console has no models; installing it brings the admin registrations, templates and API views."""

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Hookline console"

    def ready(self) -> None:
        from .compat import register_moved_modules

        register_moved_modules()  # include("deliveries.api.urls") keeps working for one release
