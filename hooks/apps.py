"""App config for webhook endpoints."""

from django.apps import AppConfig

from hookline.packages import ensure_own_packages

ensure_own_packages()  # a host app named events/hooks/deliveries: a clear error, not an ImportError


class HooksConfig(AppConfig):
    name = "hooks"
    verbose_name = "Hookline endpoints"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from events import targets

        from .services import tenant_endpoint_ids

        targets.set_resolver(tenant_endpoint_ids)
