"""The recipes of "Playing a known platform", read from the page that publishes them and run as written.

Each recipe is a fenced block right after a marker line ``<!-- recipe: <name> -->``. Python blocks are
executed in a namespace that holds what the page says they expect (``org``); shell blocks run in bash with
``API`` and ``AUTH`` set as in the curl walkthrough, and every JSON document they print is returned. The only
change made to a block: its example URLs (``https://[user:pass@]host.example/path``) point at the test's
loopback receiver, the host becoming the first segment of the path (``/host.example/path``, see ``path_of``),
so that two hosts of one recipe stay two receivers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
# The page that publishes the recipes: the one place to change when the section moves.
RECIPES_PAGE = ROOT / "docs" / "platforms.md"

_RECIPE = re.compile(r"^<!-- recipe: (?P<name>[\w.-]+) -->\n```(?P<lang>\w+)\n(?P<code>.*?)^```$", re.M | re.S)
_EXAMPLE_URL = re.compile(r"https://(?P<credentials>[^@/\s\"']+@)?(?P<host>[A-Za-z0-9.-]+\.example)(?=[/\"'\s])")
SHELL_TIMEOUT = 60  # seconds for one shell recipe (a handful of curl calls to the test server)


@dataclass(frozen=True)
class Recipe:
    name: str
    lang: str
    code: str


def recipes(page: Path = RECIPES_PAGE) -> dict[str, Recipe]:
    """Every marked block of the page, by name."""
    found: dict[str, Recipe] = {}
    for match in _RECIPE.finditer(page.read_text(encoding="utf-8")):
        name = match["name"]
        if name in found:
            raise ValueError(f"{page.name}: two recipes are called {name!r}")
        found[name] = Recipe(name, match["lang"], match["code"])
    return found


def recipe(name: str) -> Recipe:
    published = recipes()
    if name not in published:
        raise LookupError(f"{RECIPES_PAGE.name} publishes no recipe {name!r} (it has {', '.join(sorted(published))})")
    return published[name]


def pointed_at(code: str, base_url: str) -> str:
    """The code with every ``https://[user:pass@]host.example`` replaced by the receiver's address and
    ``/host.example``."""
    target = urlsplit(base_url)
    return _EXAMPLE_URL.sub(
        lambda match: f"{target.scheme}://{match['credentials'] or ''}{target.netloc}/{match['host']}", code
    )


def path_of(url: str) -> str:
    """Where the receiver gets what a recipe sends to ``url``: ``https://host.example/in`` -> ``/host.example/in``."""
    parts = urlsplit(url)
    return f"/{parts.hostname}{parts.path}"


def run_python(name: str, namespace: dict | None = None, *, receiver=None) -> dict:
    """Execute a Python recipe in ``namespace`` (its inputs, e.g. ``org``); returns the namespace with its results."""
    found = recipe(name)
    if found.lang != "python":
        raise ValueError(f"recipe {name!r} is {found.lang}, not python")
    code = pointed_at(found.code, receiver.url("")) if receiver is not None else found.code
    namespace = {"__name__": f"recipe_{name.replace('-', '_')}"} if namespace is None else namespace
    exec(compile(code, f"{RECIPES_PAGE.name}:{name}", "exec"), namespace)
    return namespace


def run_shell(name: str, *, api: str, token: str, cwd: Path, receiver=None, **env: str) -> list:
    """Run a shell recipe against the API at ``api`` (``.../api``); returns the JSON documents it printed."""
    found = recipe(name)
    if found.lang != "sh":
        raise ValueError(f"recipe {name!r} is {found.lang}, not sh")
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(f"the shell recipes need {', '.join(missing)}")
    code = pointed_at(found.code, receiver.url("")) if receiver is not None else found.code
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=SHELL_TIMEOUT,
        env={"PATH": os.environ["PATH"], "API": api, "AUTH": f"Authorization: Token {token}", **env},
    )
    if done.returncode:
        raise RuntimeError(f"recipe {name!r} exited {done.returncode}:\n{done.stderr}\n{done.stdout}")
    return _documents(done.stdout)


def _documents(text: str) -> list:
    """The JSON documents of a stream (curl prints one answer after another, without separators)."""
    decoder, found, position = json.JSONDecoder(), [], 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return found
        document, position = decoder.raw_decode(text, position)
        found.append(document)
