"""Django settings of the naive peer's worker: its database, nothing else."""

import environ

env = environ.Env()
SECRET_KEY = "peer-bench-not-secret"
INSTALLED_APPS = ["bench.peer"]
DATABASES = {"default": {**env.db("DATABASE_URL"), "CONN_MAX_AGE": 60}}  # what a typical site sets
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
