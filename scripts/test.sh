#!/usr/bin/env bash
# The whole suite: what `make test` and CI run (docs/development.md, "What make test runs"):
#  1. the unit tests on SQLite with Django 5.2 LTS, the oldest supported (what a newcomer without services sees pass),
#     on every core (pytest-xdist);
#  2. the unit tests again with Django 6.0, the newest, in a virtualenv of their own (var/venv-django6; Python 3.12+);
#  3. the manual, built in strict mode (a broken link, a missing page or a remote asset fails);
#  4. the integration, fault-injection and browser tests on the machine's PostgreSQL and Redis, with real
#     Celery workers and receivers;
#  5. the tests marked `broker` (what depends on the broker: wake-ups, countdown retries, the rate-limit
#     bucket, beat, FIFO) again with RabbitMQ as the broker (docs/operations.md, "Choosing a broker"). Every
#     other integration test is broker-agnostic and runs once, in step 4; the kill -9 and broker-outage fault
#     scenarios run on RabbitMQ in step 4 too, each in a vhost of its own.
# Integration tests skip with a message when a service is missing, except under CI=true,
# where they fail: CI must run them. Each stage prints its 15 slowest tests and its time; the end, every stage's.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
REPORT=(-p no:cacheprovider --durations=15)
UNIT=(-q "${REPORT[@]}" -n "${TEST_PROCESSES:-auto}" -m "not integration and not faults and not browser")
in_ci() { [[ "${CI:-}" =~ ^(1|true|yes)$ ]]; }

STAGES=()
STARTED=$SECONDS
stage() {  # stage "name" command...: run it, print and remember how long it took
    local name=$1 began=$SECONDS
    shift
    echo "== $name =="
    "$@"
    STAGES+=("$(printf '%5d s  %s' $((SECONDS - began)) "$name")")
    echo "-- $name: $((SECONDS - began)) s"
}
summary() {
    echo "== stage times =="
    printf '%s\n' "${STAGES[@]}"
    printf '%5d s  %s\n' $((SECONDS - STARTED)) "in all"
}
trap summary EXIT

stage "unit tests (SQLite, Django $("$PY" -c 'import django; print(django.get_version())'))" \
    env DATABASE_URL=sqlite:///$PWD/var/test-unit.sqlite3 "$PY" -m pytest "${UNIT[@]}"

# Django 6.0 needs Python 3.12+: the first such interpreter found (PYTHON_DJANGO6 to choose one).
VENV6=var/venv-django6
prepare_django6() {
    PY312=""
    for candidate in ${PYTHON_DJANGO6:-} python3.14 python3.13 python3.12 \
            $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python 2>/dev/null | sort -rV); do
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then PY312=$candidate; break; fi
    done
    if [ -n "$PY312" ]; then
        echo "with $PY312"
        "$PY312" -m venv "$VENV6"
        "$VENV6/bin/python" -m pip install --quiet 'django>=6.0,<6.1' -e '.[test,server]' && touch "$VENV6/.installed-stamp"
    fi
}
if [ ! -x "$VENV6/bin/python" ] || [ pyproject.toml -nt "$VENV6/.installed-stamp" ]; then
    stage "preparing $VENV6" prepare_django6
fi
if [ -x "$VENV6/bin/python" ]; then
    stage "unit tests (SQLite, Django $("$VENV6/bin/python" -c 'import django; print(django.get_version())'))" \
        env DATABASE_URL=sqlite:///$PWD/var/test-unit-django6.sqlite3 "$VENV6/bin/python" -m pytest "${UNIT[@]}"
elif in_ci; then
    echo "no Python 3.12+ for the Django 6.0 run (set PYTHON_DJANGO6)"; exit 1
else
    echo "== skipped: unit tests with Django 6.0 (no Python 3.12+; set PYTHON_DJANGO6) =="
fi

stage "the manual (mkdocs build --strict)" env NO_MKDOCS_2_WARNING=1 "$PY" -m mkdocs build --strict --quiet

# tests/integration/test_api_generated_client.py generates a client with openapi-python-client, kept in a virtualenv of
# its own (its pins clash with the test environment's).
if [ ! -x var/venv-openapi/bin/openapi-python-client ]; then
    echo "== preparing var/venv-openapi (openapi-python-client) =="
    "$PY" -m venv var/venv-openapi && var/venv-openapi/bin/python -m pip install --quiet 'openapi-python-client>=0.21,<1' \
        || echo "could not install openapi-python-client: the generated-client test will skip (fail under CI=true)"
fi

# The browser tests drive Debian's Chromium through Playwright's Python package (never a downloaded browser);
# fonts-noto-cjk gives the portal's Japanese screenshots real glyphs instead of empty boxes.
if { [ ! -x /usr/bin/chromium ] || [ ! -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; } && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing chromium and fonts-noto-cjk (apt-get) =="
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk; } >/dev/null \
        || echo "could not install chromium or fonts-noto-cjk: the browser tests will skip (fail under CI=true)"
fi

export DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hookline}
export CELERY_BROKER_URL=${TEST_BROKER_URL:-redis://127.0.0.1:6379/15}
stage "integration, fault-injection and browser tests (PostgreSQL, Redis, Celery workers, Chromium)" \
    "$PY" -m pytest -q "${REPORT[@]}" -m "integration or faults or browser or postgres" "$@"

RABBITMQ_URL=${TEST_RABBITMQ_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672/hookline_test}
if command -v rabbitmqctl >/dev/null && [ "$(id -u)" = 0 ]; then  # a vhost of the suite's own
    vhost=${RABBITMQ_URL##*/}
    { rabbitmqctl add_vhost "$vhost" || true; rabbitmqctl set_permissions -p "$vhost" guest ".*" ".*" ".*"; } >/dev/null 2>&1 \
        || echo "could not create the RabbitMQ vhost $vhost"
fi
stage "broker-dependent integration tests on RabbitMQ" \
    env CELERY_BROKER_URL="$RABBITMQ_URL" "$PY" -m pytest -q "${REPORT[@]}" -m "integration and broker and not browser" "$@"
