"""Settings for the ready-to-run Hookline project; every deployment value comes from the environment."""
from pathlib import Path

import environ

from hookline.conf import DEFAULTS as HOOKLINE_DEFAULTS
from webhooks_project.brokers import celery_settings

BASE_DIR = Path(__file__).resolve().parent.parent

# Local state (the SQLite default, the filesystem broker, beat's schedule) lives in var/; each user
# of it creates what it needs, so importing these settings leaves no empty var/ behind.
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="insecure-dev-key-change-me" if DEBUG else "")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=true for local development).")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from static files: /api/docs/ works offline
    "events",
    "hooks",
    "deliveries",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "webhooks_project.urls"
WSGI_APPLICATION = "webhooks_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'hookline.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    _SQLITE_NAME = str(DATABASES["default"]["NAME"])
    if _SQLITE_NAME != ":memory:" and not _SQLITE_NAME.startswith("file:"):
        # SQLite creates the file, not its folder (var/ for the default).
        Path(_SQLITE_NAME).parent.mkdir(parents=True, exist_ok=True)
    # Web, worker and beat share the file: WAL and immediate transactions avoid "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    # Persistent connections: workers would otherwise pay a connection set-up per task.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if "TEST" not in DATABASES["default"] and env.str("TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Celery -------------------------------------------------------------------------------
# The default broker needs no server (kombu's filesystem transport), for `make run`. Redis and
# RabbitMQ get the options of webhooks_project/brokers.py (README "Choosing a broker").
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
_BROKER = celery_settings(CELERY_BROKER_URL, var_dir=BASE_DIR / "var",
                          visibility_timeout=env.int("CELERY_VISIBILITY_TIMEOUT", default=3600))
CELERY_BROKER_TRANSPORT_OPTIONS = _BROKER["broker_transport_options"]
CELERY_TASK_DEFAULT_QUEUE_TYPE = _BROKER.get("task_default_queue_type", "classic")
CELERY_TASK_DEFAULT_EXCHANGE_TYPE = _BROKER.get("task_default_exchange_type", "direct")
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="hookline")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- Hookline -----------------------------------------------------------------------------
# One HOOKLINE_<NAME> environment variable per key of the HOOKLINE dict, typed like its default.
_CASTS = {bool: env.bool, int: env.int, float: env.float, str: env.str}
HOOKLINE = {
    name: _CASTS[type(default)](f"HOOKLINE_{name}", default=default)
    for name, default in HOOKLINE_DEFAULTS.items()
}

# --- REST framework -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hookline API",
    "DESCRIPTION": "Webhook endpoints, deliveries and events.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Separate request and response components: read-only fields are not offered as inputs.
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
}
