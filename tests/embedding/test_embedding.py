"""Hookline embedded in a foreign site (tests/embedding/host), installed from its wheel, with a real worker.

The site has a custom user model, its own Celery app (``shop``), Hookline's API under
/internal/webhooks/api/ and domain code that emits; it runs once with DRF's defaults untouched and
once with unusual REST_FRAMEWORK settings. This is the manual's Embedding page (docs/embedding.md), step by step.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import connection
from standardwebhooks.webhooks import Webhook as Verifier

from tests.support.waiting import wait_until
from tests.support.wheel import build_wheel, install_into_fresh_venv

pytestmark = pytest.mark.integration

HOST = Path(__file__).resolve().parent / "host"
PREFIX = "/internal/webhooks/api"


@pytest.fixture(scope="module")
def site_python(tmp_path_factory):
    """The python of a fresh virtualenv with Hookline installed from its wheel."""
    work = tmp_path_factory.mktemp("wheel")
    wheel, _ = build_wheel(work / "dist")
    return install_into_fresh_venv(wheel, work / "venv")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Site:
    """The shop's processes: manage.py commands, ``celery -A shop worker`` and the web server."""

    def __init__(self, python: Path, settings_module: str, database_url: str, logs: Path):
        self.python, self.logs, self.processes = python, logs, []
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(HOST),  # the site's own code only: Hookline comes from the wheel
            "DJANGO_SETTINGS_MODULE": settings_module,
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "SHOP_QUEUE": f"shop-{uuid.uuid4().hex[:8]}",
            "SECRET_KEY": "shop-" + uuid.uuid4().hex * 2,
            "HOOKLINE_ENCRYPTION_KEY": uuid.uuid4().hex,
            "SHOP_LOOPBACK_RECEIVERS": "1",
            "DJANGO_SUPERUSER_PASSWORD": "boss-password",
        }
        self.url = f"http://127.0.0.1:{_free_port()}"

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(self.python), "manage.py", *args], cwd=HOST, env=self.env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result

    def start(self, name: str, *command: str, ready) -> None:
        log = self.logs / f"{name}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [str(self.python), *command],
                cwd=HOST,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)

        def up():
            assert process.poll() is None, f"{name} exited:\n{log.read_text()[-3000:]}"
            return ready(log.read_text(errors="replace"))

        wait_until(up, timeout=60, message=f"{name} to start")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, 15)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, 9)
                    process.wait(timeout=10)


def _server_ready(url: str):
    def ready(_log: str) -> bool:
        try:
            return requests.get(url + "/admin/login/", timeout=10).status_code == 200
        except (requests.ConnectionError, requests.Timeout):  # not up yet, or slow on a busy machine
            return False

    return ready


@pytest.fixture
def site_database():
    """A database of the site's own on the test PostgreSQL server, dropped afterwards."""
    db = connection.settings_dict
    server = (
        f"postgres://{db.get('USER') or 'postgres'}{':' + db['PASSWORD'] if db.get('PASSWORD') else ''}"
        f"@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    )
    name = f"hookline_embed_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{server}/{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("settings_module", ["shop.settings", "shop.settings_unusual"])
def test_a_foreign_site_embeds_hookline_as_the_readme_says(
    site_python, site_database, settings_module, receiver, tmp_path
):
    site = Site(site_python, settings_module, site_database, tmp_path)
    try:
        # Set-up, as the manual's Embedding page lists it.
        site.manage("migrate", "--noinput")
        check = site.manage("check", "--deploy")
        assert "drf_spectacular" not in check.stderr and not re.search(r"hookline\.(E|W02)", check.stderr), check.stderr
        site.manage("createsuperuser", "--noinput", "--username", "boss", "--email", "boss@shop.example")
        token = site.manage("create_api_token", "ops", "--organisation", "shop").stdout.strip()
        site.start(
            "worker",
            "-m",
            "celery",
            "-A",
            "shop",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            "4",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"shop-{uuid.uuid4().hex[:6]}@%h",
            ready=lambda log: "ready." in log,
        )
        site.start(
            "beat",
            "-m",
            "celery",
            "-A",
            "shop",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(tmp_path / "beat"),
            ready=lambda log: "beat: Starting" in log,
        )
        site.start(
            "web", "manage.py", "runserver", "--noreload", site.url.split("//")[1], ready=_server_ready(site.url)
        )
        api, auth = site.url + PREFIX, {"Authorization": f"Token {token}"}

        # The API answers as documented, whatever the site's REST_FRAMEWORK says.
        anonymous = requests.get(f"{api}/webhooks/", timeout=10)
        assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"
        created = requests.post(
            f"{api}/webhooks/",
            headers=auth,
            timeout=10,
            json={"url": receiver.url("/shop-hook"), "name": "Partner", "event_types": ["invoice.*"]},
        )
        assert created.status_code == 201, created.text
        endpoint = created.json()
        assert endpoint["secret"].startswith("whsec_") and endpoint["event_types"] == ["invoice.*"]
        listed = requests.get(f"{api}/webhooks/", headers=auth, timeout=10).json()
        assert set(listed) == {"count", "next", "previous", "results"} and listed["count"] == 1

        # The site's domain code emits; the worker delivers a request standardwebhooks accepts.
        event_id = (
            site.manage("shell", "-c", "from billing.services import pay_invoice; print(pay_invoice(42, '9.90'))")
            .stdout.strip()
            .splitlines()[-1]
        )
        [request] = wait_until(lambda: receiver.at("/shop-hook"), timeout=30, message="the delivery")
        payload = Verifier(endpoint["secret"]).verify(request.body, request.headers)
        assert payload == {
            "type": "invoice.paid",
            "timestamp": payload["timestamp"],
            "data": {"invoice": 42, "amount": "9.90"},
        }
        assert request.headers["webhook-id"] == event_id

        def delivered():
            answer = requests.get(f"{api}/deliveries/", params={"event": event_id}, headers=auth, timeout=10).json()
            return answer["results"] if answer["results"] and answer["results"][0]["status"] == "succeeded" else None

        [delivery] = wait_until(delivered, timeout=20, message="the delivery to be logged")

        # The schema and the docs are served under the site's prefix.
        schema = requests.get(f"{api}/schema/", headers={"Accept": "application/json"}, timeout=30)
        assert schema.status_code == 200 and schema.json()["info"]["title"] == "Hookline API"
        assert f"{PREFIX}/webhooks/{{id}}/rotate-secret/" in schema.json()["paths"]
        assert requests.get(f"{api}/docs/", timeout=10).status_code == 200

        # The admin pages work under the custom user model.
        admin = requests.Session()
        login = admin.get(site.url + "/admin/login/", timeout=10)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        admin.post(
            site.url + "/admin/login/",
            timeout=10,
            headers={"Referer": site.url + "/admin/login/"},
            data={"csrfmiddlewaretoken": csrf, "username": "boss", "password": "boss-password", "next": "/admin/"},
        )
        for page in (
            "/admin/accounts/user/",
            "/admin/hooks/webhook/",
            f"/admin/deliveries/delivery/{delivery['id']}/change/",
        ):
            answer = admin.get(site.url + page, timeout=10)
            assert answer.status_code == 200 and "/admin/login/" not in answer.url, page
        assert event_id in admin.get(site.url + f"/admin/deliveries/delivery/{delivery['id']}/change/", timeout=10).text

        # The customer portal: a magic link minted through the API opens the shop's organisation, once.
        boss_token = site.manage("create_api_token", "boss", "--organisation", "shop").stdout.strip()
        minted = requests.post(
            f"{api}/portal-sessions/",
            headers={"Authorization": f"Token {boss_token}"},
            json={"organisation": "shop"},
            timeout=10,
        )
        assert minted.status_code == 201, minted.text
        assert minted.json()["url"].startswith(f"{site.url}/account/webhooks/open/")
        customer = requests.Session()
        asked = customer.get(minted.json()["url"], timeout=10)  # a page with a button: a GET uses nothing
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', asked.text).group(1)
        portal = customer.post(minted.json()["url"], data={"csrfmiddlewaretoken": token}, timeout=10)
        assert portal.status_code == 200 and portal.url == f"{site.url}/account/webhooks/" and "Partner" in portal.text
        assert requests.get(minted.json()["url"], timeout=10).status_code == 410

        # ... while the site's own API keeps the site's conventions.
        orders = requests.get(site.url + "/api/orders/", auth=("boss", "boss-password"), timeout=10)
        assert orders.json() == ({"orderIds": [1, 2]} if settings_module.endswith("unusual") else {"order_ids": [1, 2]})
    finally:
        site.stop()
