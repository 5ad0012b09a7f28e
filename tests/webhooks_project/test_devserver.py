"""`make run`'s demo set-up: one demo endpoint whatever the port, and a hint that works as printed."""

from __future__ import annotations

import io

from django.core.management import call_command

from hooks.models import Webhook


def test_the_demo_endpoint_follows_the_port_instead_of_multiplying(db):
    # given: a checkout that ran on port 8000
    call_command("hookline_demo", "--receiver", "http://127.0.0.1:8000/demo/echo/", stdout=io.StringIO())

    # when: PORT=8001 make run
    out = io.StringIO()
    call_command("hookline_demo", "--receiver", "http://127.0.0.1:8001/demo/echo/", stdout=out)

    # then
    assert list(Webhook.objects.values_list("url", flat=True)) == ["http://127.0.0.1:8001/demo/echo/"]
    assert "Demo endpoint: http://127.0.0.1:8001/demo/echo/" in out.getvalue()


def test_the_hint_names_the_interpreter_that_has_hookline(db):
    import sys

    out = io.StringIO()
    call_command("hookline_demo", stdout=out)
    hint = next(line for line in out.getvalue().splitlines() if line.startswith("Try: "))
    assert hint.split()[1] in {sys.executable, ".venv/bin/python"} or hint.split()[1].endswith("/python")
    assert "manage.py emit webhook.test" in hint
