#!/usr/bin/env bash
# The whole suite: what `make test` and CI run (docs/development.md, "What make test runs"):
#  0. lint: ruff check, ruff format --check and mypy (pyproject.toml); a finding fails the run before any test;
#  1. the unit tests on SQLite with Django 5.2 LTS, the oldest supported (what a newcomer without services sees pass),
#     on half the cores (pytest-xdist above 3 cores; one process on 2);
#  2. the unit tests again with Django 6.0, the newest, in a virtualenv of their own (var/venv-django6; Python 3.12+);
#  3. the manual, built in strict mode (a broken link, a missing page or a remote asset fails);
#  4. the integration, fault-injection and browser tests on the machine's PostgreSQL and Redis, with real
#     Celery workers and receivers;
#  5. the tests marked `broker` (what depends on the broker: wake-ups, countdown retries, the rate-limit
#     bucket, beat, FIFO) again with RabbitMQ as the broker (docs/operations.md, "Choosing a broker"). Every
#     other integration test is broker-agnostic and runs once, in step 4; the kill -9 and broker-outage fault
#     scenarios run on RabbitMQ in step 4 too, each in a vhost of its own;
#  6. the tests marked `latency` (a delay of a second or less), once the other integration stages have ended.
# Integration tests skip with a message when a service is missing, except under CI=true,
# where they fail: CI must run them. Each stage prints its 15 slowest tests and its time; the end, every stage's.
#
# Stages 1-5 run in three lanes side by side (the integration tests mostly wait on workers, receivers and
# clocks): the unit lane at the lowest priority (stages 1 and 2 side by side, then 3), stage 4 on pytest-xdist
# processes (TEST_INTEGRATION_PROCESSES, 3 by default; each has its own database, queue and workers), and
# stage 5. Stage 6 follows stages 4 and 5, beside whatever is left of the niced unit lane. A stage's output is
# printed whole when it ends; the suite fails if any stage fails.
set -euo pipefail
cd "$(dirname "$0")/.."
# Bytecode is written (in __pycache__, ignored by git) even where the environment says not to: else each of the
# suite's dozen pytest processes compiles and assertion-rewrites every test module and plugin again (measured:
# collecting costs 13.9 CPU-s instead of 9.0), and each worker subprocess compiles Hookline's modules again.
unset PYTHONDONTWRITEBYTECODE
PY=${PY:-.venv/bin/python}
REPORT=(-p no:cacheprovider --durations=15)
# Unit stages: the two Django versions run side by side, so each on half the cores (on 2 cores, one process each:
# no pytest-xdist, whose every process collects the whole suite again and migrates a database of its own).
UNIT_PROCESSES=${TEST_PROCESSES:-$(($(nproc) / 2))}
[ "$UNIT_PROCESSES" = auto ] || [ "$UNIT_PROCESSES" -gt 1 ] || UNIT_PROCESSES=0
UNIT=(-q "${REPORT[@]}" -n "$UNIT_PROCESSES" -m "not integration and not faults and not browser and not latency")
in_ci() { [[ "${CI:-}" =~ ^(1|true|yes)$ ]]; }

LOGS=var/test-logs
rm -rf "$LOGS" && mkdir -p "$LOGS"
STARTED=$SECONDS
stage() {  # stage "name" command...: run it, its output printed whole when it ends; remember its time and outcome
    local name=$1 began=$SECONDS status=0 log
    shift
    log=$(mktemp "$LOGS/stage.XXXXXX")
    echo "-- started: $name"
    "$@" >"$log" 2>&1 || status=$?
    local took=$((SECONDS - began)) outcome=passed
    [ "$status" = 0 ] || outcome="FAILED ($status)"
    printf '%5d s  %s  %s\n' "$took" "$name" "$outcome" >>"$LOGS/times"
    # One stage's output at a time, never interleaved with another lane's.
    flock "$LOGS/print.lock" bash -c 'printf "== %s ==\n" "$1"; cat "$2"; printf -- "-- %s: %s s, %s\n" "$1" "$3" "$4"' \
        _ "$name" "$log" "$took" "$outcome"
    return "$status"
}
summary() {
    echo "== stage times (side by side: see above) =="
    [ -f "$LOGS/times" ] && cat "$LOGS/times"
    printf '%5d s  %s\n' $((SECONDS - STARTED)) "in all (wall clock)"
}
trap summary EXIT

lint() {  # every tool runs, so one run shows all findings; any finding fails
    local status=0 bin
    bin=$(dirname "$PY")
    "$bin/ruff" check . || status=1
    "$bin/ruff" format --check . || status=1
    "$bin/mypy" || status=1
    return $status
}
stage "lint (ruff check, ruff format --check, mypy)" lint  # before any test: a finding fails the run at once

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
        # The editable install writes hookline.egg-info into the checkout, as the wheel builds of the tests do
        # (tests/support/wheel.py): under their lock, since they may run meanwhile.
        flock var/build-wheel.lock "$VENV6/bin/python" -m pip install --quiet 'django>=6.0,<6.1' -e '.[test,server]' \
            && touch "$VENV6/.installed-stamp"
    fi
}

# The unit lane runs at the lowest priority: it is CPU-bound and asserts no timing, while the integration lanes
# beside it wait on workers, receivers and clocks and assert timings (and stage 6, which starts as soon as they
# end, asserts delays of a quarter second): they get the CPU whenever they need it, the unit tests take what is
# left. Its broker is the in-memory one (as `make unit`), never the integration lanes' Redis: a unit test that
# depends on the clock freezes it, and Redis's clock (the rate-limit bucket) cannot be.
UNIT_ENV=(nice -n "${TEST_UNIT_NICE:-19}" env CELERY_BROKER_URL=memory://)

unit_stage() {  # unit_stage python database-file: the unit tests with that interpreter's Django
    local python=$1 database=$2
    stage "unit tests (SQLite, Django $("$python" -c 'import django; print(django.get_version())'))" \
        "${UNIT_ENV[@]}" DATABASE_URL=sqlite:///$PWD/var/$database "$python" -m pytest "${UNIT[@]}"
}

lane_django6() {  # stage 2, after its virtualenv (installed on a fresh clone)
    local status=0
    if [ ! -x "$VENV6/bin/python" ] || [ pyproject.toml -nt "$VENV6/.installed-stamp" ]; then
        stage "preparing $VENV6" nice -n "${TEST_UNIT_NICE:-19}" \
            bash -c "$(declare -f prepare_django6); VENV6=$VENV6; prepare_django6" || status=1
    fi
    if [ -x "$VENV6/bin/python" ]; then
        # Lighter on the fuzzers: 5 examples per operation and form instead of 20 (every test still runs). The
        # examples are deterministic in make test, so 20 on Django 6 repeated the Django 5.2 run's inputs for
        # 35 CPU-s more; the fuzzers' 20 run on Django 5.2 (SQLite) and PostgreSQL, 100 in make fuzz.
        HOOKLINE_FUZZ_EXAMPLES=${HOOKLINE_FUZZ_EXAMPLES:-5} unit_stage "$VENV6/bin/python" test-unit-django6.sqlite3 \
            || status=1
    elif in_ci; then
        echo "no Python 3.12+ for the Django 6.0 run (set PYTHON_DJANGO6)"; status=1
    else
        echo "== skipped: unit tests with Django 6.0 (no Python 3.12+; set PYTHON_DJANGO6) =="
    fi
    return "$status"
}

lane_unit() {  # stages 1-3, CPU-bound: the unit tests on both Django versions side by side, then the manual
    local status=0 django6
    lane_django6 & django6=$!
    unit_stage "$PY" test-unit.sqlite3 || status=1
    stage "the manual (mkdocs build --strict)" "${UNIT_ENV[@]}" NO_MKDOCS_2_WARNING=1 "$PY" -m mkdocs build --strict \
        --quiet || status=1
    wait "$django6" || status=1
    return "$status"
}

export DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hookline}
export CELERY_BROKER_URL=${TEST_BROKER_URL:-redis://127.0.0.1:6379/15}

lane_integration() {  # stage 4, after what it needs on a fresh machine
    # The browser tests drive Debian's Chromium through Playwright's Python package (never a downloaded browser);
    # fonts-noto-cjk gives the portal's Japanese screenshots real glyphs instead of empty boxes.
    if { [ ! -x /usr/bin/chromium ] || [ ! -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; } && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "== installing chromium and fonts-noto-cjk (apt-get) =="
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk; } >/dev/null \
            || echo "could not install chromium or fonts-noto-cjk: the browser tests will skip (fail under CI=true)"
    fi
    # Each xdist process has its own test database (pytest-django's _gwN suffix), queue (tests/settings.py) and
    # workers; a file's tests stay on one process (--dist loadfile), so its timing tests run one after another.
    # The longest files are handed out first (tests/conftest.py, LONGEST_FILES), not the ones with most tests.
    stage "integration, fault-injection and browser tests (PostgreSQL, Redis, Celery workers, Chromium)" \
        "$PY" -m pytest -q "${REPORT[@]}" -n "${TEST_INTEGRATION_PROCESSES:-3}" --dist loadfile --no-loadscope-reorder \
        -m "(integration or faults or browser or postgres) and not latency" "$@"
}

lane_rabbitmq() {  # stage 5, on a test database of its own so that it can run beside stage 4
    local url=${TEST_RABBITMQ_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672/hookline_test}
    if command -v rabbitmqctl >/dev/null && [ "$(id -u)" = 0 ]; then  # a vhost of the suite's own
        local vhost=${url##*/}
        { rabbitmqctl add_vhost "$vhost" || true; rabbitmqctl set_permissions -p "$vhost" guest ".*" ".*" ".*"; } >/dev/null 2>&1 \
            || echo "could not create the RabbitMQ vhost $vhost"
    fi
    stage "broker-dependent integration tests on RabbitMQ" \
        env CELERY_BROKER_URL="$url" DATABASE_URL="${TEST_RABBITMQ_DATABASE_URL:-${DATABASE_URL}_rabbitmq}" \
        "$PY" -m pytest -q "${REPORT[@]}" -m "integration and broker and not browser and not latency" "$@"
}

# tests/integration/test_api_generated_client.py generates a client with openapi-python-client, kept in a virtualenv of
# its own (its pins clash with the test environment's). Installed beside the tests, under a lock the test
# waits on (tests/support/generated_client.py): taken here, held by the installing subshell alone.
PREPARE_LANE=""
if [ ! -x var/venv-openapi/bin/openapi-python-client ]; then
    exec 9>var/venv-openapi.lock
    flock 9
    (
        stage "preparing var/venv-openapi (openapi-python-client)" bash -c \
            "'$PY' -m venv var/venv-openapi && var/venv-openapi/bin/python -m pip install --quiet 'openapi-python-client>=0.21,<1'" \
            || echo "could not install openapi-python-client: the generated-client test will skip (fail under CI=true)"
    ) & PREPARE_LANE=$!
    exec 9>&-
fi
lane_unit & UNIT_LANE=$!
lane_integration "$@" & INTEGRATION_LANE=$!
lane_rabbitmq "$@" & RABBITMQ_LANE=$!
failed=0
for lane in $PREPARE_LANE "$INTEGRATION_LANE" "$RABBITMQ_LANE"; do
    wait "$lane" || failed=1
done
# 6. The tests that assert a delay of a second or less (marked `latency`: a retry at its due time, a
#    healthy endpoint's delivery beside a hanging one, a full batch at once), once the other integration
#    stages have ended: beside them, the machine's load is what they would measure. What may still run of the
#    unit lane runs at the lowest priority (nice 19), so it takes only the CPU these leave idle.
stage "latency-sensitive tests (PostgreSQL, Redis, Celery workers; only the niced unit lane beside them)" \
    "$PY" -m pytest -q "${REPORT[@]}" -m "latency" "$@" || failed=1
wait "$UNIT_LANE" || failed=1
exit "$failed"
