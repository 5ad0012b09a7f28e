"""The compose stack, as far as it can be checked without a Docker engine: the image's file list, the
stack's env file and health checks, and its web command serving static files with DEBUG off."""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml

from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
HOOKLINE_SERVICES = ("web", "worker", "beat")


def _ignore_rules() -> list[tuple[bool, str]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            rules.append((line.startswith("!"), line.lstrip("!").strip("/")))
    return rules


def in_image(path: str, rules: list[tuple[bool, str]]) -> bool:
    """Docker's rule: the last matching pattern wins; a pattern matching a folder matches all below it."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    included = True
    for negated, pattern in rules:
        regex = re.compile(fnmatch.translate(pattern).replace(".*", "[^/]*").replace("[^/]*[^/]*", ".*"))
        if pattern.startswith("**/"):
            regex = re.compile(r"(?:.*/)?" + fnmatch.translate(pattern[3:]).replace(".*", "[^/]*"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            included = negated
    return included


def test_the_image_leaves_out_local_state_secrets_and_tests():
    # given: the checkout's files, and what a developer's checkout also holds
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    local = [
        ".env",
        "deploy.env",
        ".venv/bin/python",
        "var/hookline.sqlite3",
        "var/broker/queue/x.msg",
        "hooks/__pycache__/models.cpython-312.pyc",
        "hookline.egg-info/PKG-INFO",
    ]
    rules = _ignore_rules()

    # when
    image = {path for path in tracked + local if in_image(path, rules)}

    # then
    assert not image & set(local)
    assert not [path for path in image if path.startswith(("tests/", "bench/", ".git/"))]
    assert {
        "manage.py",
        "pyproject.toml",
        "README.md",
        "webhooks_project/settings.py",
        "deliveries/models.py",
        "console/templates/hookline/redoc.html",
        "hookline/celery.py",
    } <= image


def test_the_stack_reads_its_own_env_file_and_checks_its_health():
    services = COMPOSE["services"]
    for name in HOOKLINE_SERVICES:
        assert services[name]["env_file"] == "deploy.env", name
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }
    for name in ("postgres", "redis", "web", "worker"):
        assert services[name]["healthcheck"]["test"], name
    assert (ROOT / "deploy.env.example").exists()


def test_the_docs_give_one_worker_scale_and_the_first_admin_step():
    compose_text = (ROOT / "compose.yaml").read_text()
    readme = (ROOT / "README.md").read_text()
    scales = set(re.findall(r"--scale worker=(\d+)", compose_text + readme))
    assert len(scales) == 1, scales
    assert "docker compose run --rm web python manage.py createsuperuser" in compose_text
    assert "docker compose run --rm web python manage.py createsuperuser" in readme


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def web_process(tmp_path):
    """The compose web command (gunicorn, DEBUG off) after the image's collectstatic, on a free loopback port."""
    port = _free_port()
    env = {
        "PATH": os.path.dirname(sys.executable) + ":" + os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "webhooks_project.settings",
        "DEBUG": "false",
        "SECRET_KEY": "compose-test-" + "x" * 40,
        "HOOKLINE_ENCRYPTION_KEY": "compose-test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STATIC_ROOT": str(tmp_path / "static"),
        "CELERY_BROKER_URL": "memory://",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    command = COMPOSE["services"]["web"]["command"].replace("0.0.0.0:8000", f"127.0.0.1:{port}").replace("-w 3", "-w 1")
    log = open(tmp_path / "web.log", "wb")  # noqa: SIM115  (gunicorn writes it until the finally below closes it)
    process = subprocess.Popen(
        shlex.split(command), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )

    def up() -> bool:
        assert process.poll() is None, (tmp_path / "web.log").read_text()
        try:
            return requests.get(f"http://127.0.0.1:{port}/admin/login/", timeout=10).status_code == 200
        except (requests.ConnectionError, requests.Timeout):  # not up yet, or slow on a busy machine
            return False

    try:
        wait_until(up, timeout=60, message="gunicorn")
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 15)
            process.wait(timeout=15)
        log.close()


def test_the_web_command_serves_static_files_with_debug_off(web_process):
    for path in (
        "/static/admin/css/base.css",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js",
    ):
        assert requests.get(web_process + path, timeout=10).status_code == 200, path
    docs = requests.get(web_process + "/api/docs/", timeout=10)
    assert docs.status_code == 200 and "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs.text
