"""Test settings: the project's settings with test defaults (loopback receivers allowed, a fast broker)."""

import os

os.environ.setdefault("SECRET_KEY", "hookline-tests-not-secret")
os.environ.setdefault("HOOKLINE_ALLOW_PRIVATE_ADDRESSES", "true")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
# One queue per test run, so that stale messages of an earlier run never reach this run's workers; and one
# per pytest-xdist process (they inherit the controller's environment), each with workers of its own.
_queue = os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", f"hookline-test-{os.getpid()}")
_xdist = os.environ.get("PYTEST_XDIST_WORKER")
if _xdist and not _queue.endswith(f"-{_xdist}"):  # a worker subprocess inherits the suffixed name
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"{_queue}-{_xdist}"
# No API rate limits by default (the throttle tests set their own).
os.environ.setdefault("HOOKLINE_API_WRITE_RATE", "")
os.environ.setdefault("HOOKLINE_API_EMIT_RATE", "")
os.environ.setdefault(
    "DATABASE_URL", "sqlite:///" + os.path.join(os.path.dirname(__file__), "..", "var", "test.sqlite3")
)

from webhooks_project.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast user fixtures

# Extra apps for one worker subprocess (e.g. tests.example_provisioning, whose event types carry
# payload transformers); the test process registers those itself, through a fixture.
INSTALLED_APPS = [*INSTALLED_APPS, *(app for app in os.environ.get("TEST_EXTRA_APPS", "").split(",") if app)]  # noqa: F405
