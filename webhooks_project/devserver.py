"""`python -m webhooks_project.devserver`: migrate, create the demo, run web + worker + beat together."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


DEV_ENV = """# Written by `make run` for local development; settings.py reads it. Delete it to start over.
DEBUG=true
SECRET_KEY={secret}
# The demo receiver is on loopback.
HOOKLINE_ALLOW_PRIVATE_ADDRESSES=true
"""


def write_dev_env() -> None:
    """A .env for development, so that `manage.py ...` works in this checkout after `make run` too."""
    path = BASE_DIR / ".env"
    if not path.exists():
        path.write_text(DEV_ENV.format(secret=secrets.token_urlsafe(40)))
        print(f"Wrote {path} (DEBUG=true, a new SECRET_KEY) for local development.", flush=True)


def _stop_on_sigterm(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    write_dev_env()
    os.environ.setdefault("HOOKLINE_SWEEP_INTERVAL", "10")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    port = os.environ.get("PORT", "8000")
    python = sys.executable
    manage = [python, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], check=True)
    subprocess.run([*manage, "hookline_demo", "--receiver", f"http://127.0.0.1:{port}/demo/echo/"], check=True)
    celery = [python, "-m", "celery", "-A", "webhooks_project"]
    (BASE_DIR / "var").mkdir(exist_ok=True)  # beat's schedule file goes there, whatever the database
    processes = [
        subprocess.Popen([*manage, "runserver", f"127.0.0.1:{port}", "--noreload"]),
        subprocess.Popen([*celery, "worker", "--pool", "threads", "--concurrency", "4", "--loglevel", "info"]),
        subprocess.Popen(
            [*celery, "beat", "--loglevel", "info", "--schedule", str(BASE_DIR / "var" / "celerybeat-schedule")]
        ),
    ]
    print(
        f"\nHookline is running: admin at http://127.0.0.1:{port}/admin/ (admin / admin). Ctrl-C stops it.\n",
        flush=True,
    )
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    return max((process.returncode or 0) for process in processes)


if __name__ == "__main__":
    sys.exit(main())
