"""Settings for the ready-to-run Hookline project; every deployment value comes from the environment."""

import importlib.util
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
    "console",
    "portal",  # the customer portal (/webhooks/): the site's customers manage their own endpoints
]

# `manage.py collectstatic` fills STATIC_ROOT (the image does so when it is built); WhiteNoise then serves
# /static/ (admin, API docs) with DEBUG off, which gunicorn alone does not. Without collected files
# (development: runserver serves them; tests) it stays out.
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "static")
_STATIC_MIDDLEWARE = (
    ["whitenoise.middleware.WhiteNoiseMiddleware"]
    if importlib.util.find_spec("whitenoise") and Path(STATIC_ROOT).is_dir()
    else []
)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    *_STATIC_MIDDLEWARE,
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
# One date format everywhere in the admin ("2026-11-30 14:59:53 UTC"), not the locale's "Nov. 30, 2026, 2:59 a.m.".
FORMAT_MODULE_PATH = ["webhooks_project.formats"]


# --- Email (operational alerts) -----------------------------------------------------------
# EMAIL_URL: smtp://user:password@host:587, smtp+tls://..., consolemail:// (the default: printed).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="hookline@localhost")

# --- Celery -------------------------------------------------------------------------------
# The default broker needs no server (kombu's filesystem transport), for `make run`. Redis and
# RabbitMQ get the options of webhooks_project/brokers.py (docs/operations.md, "Choosing a broker").
# "localhost" only so that kombu does not log "No hostname was supplied" on every connection.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
_BROKER = celery_settings(
    CELERY_BROKER_URL, var_dir=BASE_DIR / "var", visibility_timeout=env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
)
CELERY_BROKER_TRANSPORT_OPTIONS = _BROKER["broker_transport_options"]
CELERY_TASK_DEFAULT_QUEUE_TYPE = _BROKER.get("task_default_queue_type", "classic")
CELERY_TASK_DEFAULT_EXCHANGE_TYPE = _BROKER.get("task_default_exchange_type", "direct")
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="hookline")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- Hookline -----------------------------------------------------------------------------
# One HOOKLINE_<NAME> environment variable per key of the HOOKLINE dict, typed like its default.
_CASTS = {bool: env.bool, int: env.int, float: env.float, str: env.str}
HOOKLINE = {
    name: _CASTS[type(default)](f"HOOKLINE_{name}", default=default) for name, default in HOOKLINE_DEFAULTS.items()
}

# HOOKLINE["LOG_FORMAT"] = "json": one JSON object per line; delivery lines carry webhook_id, delivery,
# endpoint, attempt and tenant (hookline.jsonlog). Successful attempts log at DEBUG, failures at INFO/WARNING.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "hookline.jsonlog.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": HOOKLINE["LOG_FORMAT"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- REST framework -----------------------------------------------------------------------
# No REST_FRAMEWORK or SPECTACULAR_SETTINGS: the API, its schema and its docs set every policy they
# rely on (hookline.api), so they behave the same under DRF's defaults as in any embedding site.
