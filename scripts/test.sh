#!/usr/bin/env bash
# The whole suite: what `make test` and CI run.
#  1. the unit tests on SQLite (what a newcomer without services sees pass);
#  2. everything on the machine's PostgreSQL and Redis, with real Celery workers and receivers
#     (the kill -9 and broker-outage fault scenarios run on RabbitMQ too, each in a vhost of its own);
#  3. the integration tests again with RabbitMQ as the broker (README "Choosing a broker").
# Integration tests skip with a message when a service is missing, except under CI=true,
# where they fail: CI must run them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}

echo "== unit tests (SQLite) =="
DATABASE_URL=sqlite:///$PWD/var/test-unit.sqlite3 "$PY" -m pytest -q -m "not integration and not faults and not browser" -p no:cacheprovider

# The browser tests drive Debian's Chromium through Playwright's Python package (never a downloaded browser).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing chromium (apt-get) =="
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } >/dev/null \
        || echo "could not install chromium: the browser tests will skip (fail under CI=true)"
fi

echo "== full suite (PostgreSQL, Redis, Celery workers, Chromium) =="
export DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hookline}
export CELERY_BROKER_URL=${TEST_BROKER_URL:-redis://127.0.0.1:6379/15}
"$PY" -m pytest -q -p no:cacheprovider "$@"

echo "== integration tests on RabbitMQ =="
RABBITMQ_URL=${TEST_RABBITMQ_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672/hookline_test}
if command -v rabbitmqctl >/dev/null && [ "$(id -u)" = 0 ]; then  # a vhost of the suite's own
    vhost=${RABBITMQ_URL##*/}
    { rabbitmqctl add_vhost "$vhost" || true; rabbitmqctl set_permissions -p "$vhost" guest ".*" ".*" ".*"; } >/dev/null 2>&1 \
        || echo "could not create the RabbitMQ vhost $vhost"
fi
CELERY_BROKER_URL=$RABBITMQ_URL "$PY" -m pytest -q -p no:cacheprovider -m "integration and not browser" "$@"
