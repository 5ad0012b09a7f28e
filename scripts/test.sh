#!/usr/bin/env bash
# The whole suite: what `make test` and CI run.
#  1. the unit tests on SQLite (what a newcomer without services sees pass);
#  2. everything on the machine's PostgreSQL and Redis, with real Celery workers and receivers.
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
