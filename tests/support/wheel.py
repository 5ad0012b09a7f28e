"""Hookline built as a wheel (`python -m build`) and installed into a fresh virtualenv, as a site would install it."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def build_wheel(out: Path) -> tuple[Path, str]:
    """Build sdist and wheel like a release (the wheel from the sdist, so nothing outside it leaks in);
    returns the wheel and the build's output."""
    out.mkdir(parents=True, exist_ok=True)
    (ROOT / "var").mkdir(exist_ok=True)
    # One build at a time: the sdist step writes hookline.egg-info into the checkout, and make test
    # builds from several processes at once (pytest-xdist, stages side by side).
    with open(ROOT / "var" / "build-wheel.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
            cwd=out,
            capture_output=True,
            text=True,
            timeout=300,
        )
    if result.returncode:
        raise RuntimeError(f"python -m build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    [wheel] = out.glob("hookline-*.whl")
    return wheel, result.stdout + result.stderr


def wheel_files(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def install_into_fresh_venv(wheel: Path, where: Path) -> Path:
    """A new virtualenv holding the wheel; returns its python.

    Its dependencies come from the running environment (a path entry, not an install), so that the
    test needs no network; Hookline itself is only what the wheel installed (no checkout on the path).
    """
    venv.create(where, with_pip=False)
    python = where / "bin" / "python"
    purelib = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    (purelib / "_running_env_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-compile",
            "--target",
            str(purelib),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return python
