#!/usr/bin/env bash
# The whole suite: what `make test` and CI run. Each test runs once per Django version:
#  1. the unit tests on SQLite with Django 5.2 LTS, the oldest supported (what a newcomer without services sees pass);
#  2. the unit tests again with Django 6.0, the newest, in a virtualenv of their own (var/venv-django6; Python 3.12+);
#  3. the integration, fault-injection and browser tests on the machine's PostgreSQL and Redis, with real
#     Celery workers and receivers.
#  4. the integration tests again with RabbitMQ as the broker (README "Choosing a broker"); the kill -9
#     and broker-outage fault scenarios run on RabbitMQ in step 3 too, each in a vhost of its own.
# Integration tests skip with a message when a service is missing, except under CI=true,
# where they fail: CI must run them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
UNIT=(-q -p no:cacheprovider -m "not integration and not faults and not browser")
in_ci() { [[ "${CI:-}" =~ ^(1|true|yes)$ ]]; }

echo "== unit tests (SQLite, Django $("$PY" -c 'import django; print(django.get_version())')) =="
DATABASE_URL=sqlite:///$PWD/var/test-unit.sqlite3 "$PY" -m pytest "${UNIT[@]}"

# Django 6.0 needs Python 3.12+: the first such interpreter found (PYTHON_DJANGO6 to choose one).
VENV6=var/venv-django6
if [ ! -x "$VENV6/bin/python" ] || [ pyproject.toml -nt "$VENV6/.installed-stamp" ]; then
    PY312=""
    for candidate in ${PYTHON_DJANGO6:-} python3.14 python3.13 python3.12 \
            $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python 2>/dev/null | sort -rV); do
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then PY312=$candidate; break; fi
    done
    if [ -n "$PY312" ]; then
        echo "== preparing $VENV6 ($PY312) =="
        "$PY312" -m venv "$VENV6"
        "$VENV6/bin/python" -m pip install --quiet 'django>=6.0,<6.1' -e '.[test,server]' && touch "$VENV6/.installed-stamp"
    fi
fi
if [ -x "$VENV6/bin/python" ]; then
    echo "== unit tests (SQLite, Django $("$VENV6/bin/python" -c 'import django; print(django.get_version())')) =="
    DATABASE_URL=sqlite:///$PWD/var/test-unit-django6.sqlite3 "$VENV6/bin/python" -m pytest "${UNIT[@]}"
elif in_ci; then
    echo "no Python 3.12+ for the Django 6.0 run (set PYTHON_DJANGO6)"; exit 1
else
    echo "== skipped: unit tests with Django 6.0 (no Python 3.12+; set PYTHON_DJANGO6) =="
fi

# tests/test_api_generated_client.py generates a client with openapi-python-client, kept in a virtualenv of
# its own (its pins clash with the test environment's).
if [ ! -x var/venv-openapi/bin/openapi-python-client ]; then
    echo "== preparing var/venv-openapi (openapi-python-client) =="
    "$PY" -m venv var/venv-openapi && var/venv-openapi/bin/python -m pip install --quiet 'openapi-python-client>=0.21,<1' \
        || echo "could not install openapi-python-client: the generated-client test will skip (fail under CI=true)"
fi

# The browser tests drive Debian's Chromium through Playwright's Python package (never a downloaded browser).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing chromium (apt-get) =="
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } >/dev/null \
        || echo "could not install chromium: the browser tests will skip (fail under CI=true)"
fi

echo "== integration, fault-injection and browser tests (PostgreSQL, Redis, Celery workers, Chromium) =="
export DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hookline}
export CELERY_BROKER_URL=${TEST_BROKER_URL:-redis://127.0.0.1:6379/15}
"$PY" -m pytest -q -p no:cacheprovider -m "integration or faults or browser or postgres" "$@"

echo "== integration tests on RabbitMQ =="
RABBITMQ_URL=${TEST_RABBITMQ_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672/hookline_test}
if command -v rabbitmqctl >/dev/null && [ "$(id -u)" = 0 ]; then  # a vhost of the suite's own
    vhost=${RABBITMQ_URL##*/}
    { rabbitmqctl add_vhost "$vhost" || true; rabbitmqctl set_permissions -p "$vhost" guest ".*" ".*" ".*"; } >/dev/null 2>&1 \
        || echo "could not create the RabbitMQ vhost $vhost"
fi
CELERY_BROKER_URL=$RABBITMQ_URL "$PY" -m pytest -q -p no:cacheprovider -m "integration and not browser" "$@"
