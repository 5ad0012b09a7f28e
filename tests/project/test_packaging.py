"""The wheel: the apps with their templates and migrations, no tests or bench, an SPDX license; it imports from a fresh
venv."""

from __future__ import annotations

import subprocess
from zipfile import ZipFile

import pytest

from tests.support.wheel import build_wheel, install_into_fresh_venv, wheel_files


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_wheel(tmp_path_factory.mktemp("dist"))


@pytest.fixture
def wheel(built):
    return built[0]


def test_the_wheel_holds_the_apps_and_their_files_and_nothing_else(wheel):
    # when
    files = wheel_files(wheel)

    # then
    top = {name.split("/")[0] for name in files}
    assert top == {
        "hookline",
        "events",
        "hooks",
        "deliveries",
        "console",
        "portal",
        wheel.name.split("-py3")[0] + ".dist-info",
    }
    assert {
        "portal/templates/portal/base.html",
        "portal/static/portal/portal.css",
        "portal/locale/ja/LC_MESSAGES/django.mo",
    } <= set(files)
    assert "console/templates/admin/deliveries/delivery/change_form.html" in files
    assert {"console/templates/hookline/redoc.html", "console/templates/hookline/swagger_ui.js"} <= set(files)
    assert {"events/migrations/0001_initial.py", "hooks/management/commands/reencrypt_secrets.py"} <= set(files)
    assert not [name for name in files if name.startswith(("tests/", "bench/", "webhooks_project/"))]


def test_the_wheel_declares_an_spdx_license(wheel):
    with ZipFile(wheel) as archive:
        metadata = archive.read(f"{wheel.name.split('-py3')[0]}.dist-info/METADATA").decode()
    assert "License-Expression: MIT" in metadata and "\nLicense: " not in metadata


def test_the_build_prints_no_deprecation_warning(built):
    _, output = built
    assert "Successfully built" in output and "deprecat" not in output.lower()


def test_the_installed_wheel_imports_without_a_checkout(wheel, tmp_path):
    # given
    python = install_into_fresh_venv(wheel, tmp_path / "venv")

    # when
    result = subprocess.run(
        [str(python), "-c", "import console, deliveries, events, hooks, hookline.celery; print(console.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )

    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(tmp_path / "venv"))
