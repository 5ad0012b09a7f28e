"""The manual's reference pages, generated from the code when MkDocs builds it (an MkDocs hook module).

Nothing here is copied by hand, so nothing can drift from the code:

- ``reference/settings.md``: every key of ``hookline.conf.DEFAULTS`` with its default and the comment above it;
- ``reference/api.md``: every operation and schema of the OpenAPI document the running site serves;
- ``reference/commands.md``: every management command of Hookline's apps, from its argparse parser;
- ``reference/metrics.md``: every ``hookline_*`` metric ``/metrics`` exposes, from the Prometheus registry.

After the build, every page is checked for assets (scripts, styles, images, fonts) loaded from another
host: the manual must work offline. ``tests/project/test_docs_reference.py`` tests each generator.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import sys
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "hookline" / "conf.py"


# ---------------------------------------------------------------------------------------------- Django
def setup_django() -> None:
    """Configure Django with the ready-to-run project's settings on an in-memory database (no-op if configured)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from django.conf import settings

    if settings.configured:
        return
    # The build must not depend on a developer's .env or services: the defaults the code ships with.
    os.environ["DJANGO_SETTINGS_MODULE"] = os.environ.get("DJANGO_SETTINGS_MODULE") or "webhooks_project.settings"
    os.environ["SECRET_KEY"] = os.environ.get("SECRET_KEY") or "docs-build-not-a-secret"
    os.environ["DATABASE_URL"] = "sqlite://:memory:"
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)  # the metrics' gauges read the (empty) tables


def cell(text: Any) -> str:
    """One Markdown table cell: no line breaks, no unescaped pipes."""
    return " ".join(str(text).split()).replace("|", "\\|")


def code(text: Any) -> str:
    return f"`{text}`" if str(text) != "" else '`""`'


# ---------------------------------------------------------------------------------------------- settings
@dataclass
class Setting:
    key: str
    default: Any
    comment: str


def settings_from_conf(source: str | None = None) -> list[Setting]:
    """The keys of ``DEFAULTS`` in order, each with its value and the comment block above it (or its group's)."""
    source = CONF.read_text() if source is None else source
    tree = ast.parse(source)
    node = next(
        statement.value
        for statement in tree.body
        if isinstance(statement, (ast.Assign, ast.AnnAssign))
        and statement.value is not None
        and any(
            isinstance(target, ast.Name) and target.id == "DEFAULTS"
            for target in (statement.targets if isinstance(statement, ast.Assign) else [statement.target])
        )
    )
    assert isinstance(node, ast.Dict)
    comments: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and token.line.strip().startswith("#"):
            comments[token.start[0]] = token.string.lstrip("#").strip()
    settings: list[Setting] = []
    block: list[str] = []
    previous_end = node.lineno
    for key_node, value_node in zip(node.keys, node.values, strict=True):
        assert isinstance(key_node, ast.Constant)
        lines = [comments[line] for line in range(previous_end + 1, key_node.lineno) if line in comments]
        if lines:  # a new comment opens a new group; keys without one share the group's
            block = lines
        settings.append(Setting(key_node.value, ast.literal_eval(_evaluated(value_node)), " ".join(block)))
        previous_end = value_node.end_lineno or key_node.lineno
    return settings


def _evaluated(node: ast.expr) -> ast.expr:
    """Fold arithmetic such as ``12 * 3600.0`` into a constant, as Python will."""
    if isinstance(node, ast.BinOp):
        value = eval(compile(ast.Expression(node), "<conf>", "eval"), {"__builtins__": {}})  # numbers only
        return ast.Constant(value)
    return node


def settings_markdown(settings: list[Setting] | None = None) -> str:
    settings = settings_from_conf() if settings is None else settings
    groups: list[list[Setting]] = []
    for setting in settings:  # keys that share one comment share one row, as conf.py groups them
        if groups and groups[-1][0].comment == setting.comment:
            groups[-1].append(setting)
        else:
            groups.append([setting])
    rows = "\n".join(
        "| "
        + "<br>".join(f'<span id="{s.key}"></span>{code(s.key)}' for s in group)
        + " | "
        + "<br>".join(code(_shown(s.default)) for s in group)
        + f" | {cell(group[0].comment)} |"
        for group in groups
    )
    return f"""# Settings reference

Generated from `hookline/conf.py` when this manual was built: every key of the `HOOKLINE` dict, its default
and the comment the code gives it. Set them in Django settings (`HOOKLINE = {{"MAX_ATTEMPTS": 5}}`); in
`webhooks_project` each key also comes from the environment variable `HOOKLINE_<KEY>`
(`HOOKLINE_MAX_ATTEMPTS=5`), and `.env.example` lists them with `DATABASE_URL`, `CELERY_BROKER_URL`,
`SECRET_KEY`, `ALLOWED_HOSTS` and `DEBUG`. Link to one key with its name: `settings.md#MAX_ATTEMPTS`.
Where a setting matters is explained in [Operations](../operations.md), [Security](../security.md) and
[Endpoints and contracts](../endpoints.md).

| key | default | meaning |
|---|---|---|
{rows}
"""


def _shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 10**15 else repr(value)
    return str(value)


# ---------------------------------------------------------------------------------------------- API
def openapi_schema() -> dict:
    """The OpenAPI document of the API as the site's URL conf serves it (wherever the API is mounted)."""
    setup_django()
    from django.test import RequestFactory

    route, view = _schema_route()
    request = RequestFactory().get("/" + route, {"format": "json"})
    response = view(request)
    response.render()
    assert response.status_code == 200, response.content[:500]
    return json.loads(response.content)


def _schema_route() -> tuple[str, Any]:
    from django.urls import get_resolver
    from django.urls.resolvers import URLPattern, URLResolver

    from hookline.api.docs import HooklineSchemaView

    def walk(patterns: Iterable, prefix: str):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern

    for route, pattern in walk(get_resolver().url_patterns, ""):
        view_class = getattr(pattern.callback, "view_class", None)
        if (view_class and issubclass(view_class, HooklineSchemaView)) or pattern.name == "hookline-schema":
            return route, pattern.callback
    raise LookupError("No URL in ROOT_URLCONF serves the Hookline OpenAPI schema (HooklineSchemaView).")


METHODS = ("get", "post", "put", "patch", "delete")


def operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [
        (path, method, item[method])
        for path, item in schema.get("paths", {}).items()
        for method in METHODS
        if method in item
    ]


def anchor(*parts: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")


def schema_type(node: dict | None) -> str:
    """A short description of a JSON Schema: ``string (date-time)``, ``array of [Delivery](#…)``, ``a | b``."""
    if not node:
        return "any"
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        return f"[{name}](#{anchor('schema', name)})"
    for combinator, joiner in (("oneOf", " or "), ("anyOf", " or "), ("allOf", " and ")):
        if combinator in node and "properties" not in node:
            text = joiner.join(schema_type(option) for option in node[combinator])
            return text + (", nullable" if node.get("nullable") else "")
    kind = node.get("type", "object" if "properties" in node or "additionalProperties" in node else "any")
    if kind == "array":
        text = f"array of {schema_type(node.get('items'))}"
    elif "enum" in node:
        text = "one of " + ", ".join(code(json.dumps(value)) for value in node["enum"])
    else:
        text = str(kind)
        if node.get("format"):
            text += f" ({node['format']})"
    if node.get("nullable"):
        text += ", nullable"
    return text


def _properties_table(node: dict) -> str:
    properties = node.get("properties", {})
    if not properties:
        return ""
    required = set(node.get("required", []))
    rows = []
    for name, prop in properties.items():
        notes = [
            word for word, flag in (("read-only", prop.get("readOnly")), ("write-only", prop.get("writeOnly"))) if flag
        ]
        description = " ".join(filter(None, [prop.get("description", ""), ", ".join(notes)]))
        rows.append(
            f"| {code(name)} | {cell(schema_type(prop))} | {'yes' if name in required else ''} | {cell(description)} |"
        )
    return "| field | type | required | description |\n|---|---|---|---|\n" + "\n".join(rows) + "\n"


def api_markdown(schema: dict) -> str:
    info = schema.get("info", {})
    out = [
        f"""# API reference

Generated from the OpenAPI {schema.get("openapi", "3")} document the API serves at `schema/`
(`{info.get("title", "")}` {info.get("version", "")}) when this manual was built. The conventions every
operation shares (authentication, tenancy, paging, errors, rate limits) are in [REST API](../api.md).
A running site also serves this document as Swagger UI at `/api/docs/` and Redoc at `/api/redoc/`.

| operation | summary |
|---|---|"""
    ]
    ops = operations(schema)
    for path, method, op in ops:
        out.append(f"| [`{method.upper()} {path}`](#{anchor(method, path)}) | {cell(op.get('summary', ''))} |")
    by_tag: dict[str, list[tuple[str, str, dict]]] = {}
    for path, method, op in ops:
        by_tag.setdefault((op.get("tags") or ["other"])[0], []).append((path, method, op))
    for tag, tagged in by_tag.items():
        out.append(f"\n## {tag}\n")
        for path, method, op in tagged:
            out.append(_operation_markdown(path, method, op))
    components = schema.get("components", {}).get("schemas", {})
    if components:
        out.append("\n## Schemas\n")
        for name, node in components.items():
            out.append(f"### {name} {{ #{anchor('schema', name)} }}\n")
            if node.get("description"):
                out.append(node["description"].strip() + "\n")
            table = _properties_table(node)
            out.append(table or f"Type: {schema_type(node)}.\n")
    security = schema.get("components", {}).get("securitySchemes", {})
    if security:
        out.append("\n## Authentication schemes\n")
        out.append("| name | type | where |\n|---|---|---|")
        for name, scheme in security.items():
            where = scheme.get("in", "") + " " + scheme.get("name", scheme.get("scheme", ""))
            out.append(f"| {code(name)} | {scheme.get('type', '')} | {cell(where.strip())} |")
    return "\n".join(out) + "\n"


def _operation_markdown(path: str, method: str, op: dict) -> str:
    parts = [f"### `{method.upper()} {path}` {{ #{anchor(method, path)} }}\n"]
    if op.get("summary"):
        parts.append(f"**{op['summary'].strip()}**\n")
    if op.get("description"):
        parts.append(op["description"].strip() + "\n")
    parameters = op.get("parameters", [])
    if parameters:
        parts.append("| parameter | in | type | required | description |\n|---|---|---|---|---|")
        for parameter in parameters:
            parts.append(
                f"| {code(parameter['name'])} | {parameter.get('in', '')} | "
                f"{cell(schema_type(parameter.get('schema')))} | {'yes' if parameter.get('required') else ''} | "
                f"{cell(parameter.get('description', ''))} |"
            )
        parts.append("")
    body = op.get("requestBody")
    if body:
        content = body.get("content", {})
        kinds = ", ".join(f"`{kind}`" for kind in content)
        first = next(iter(content.values()), {})
        required = " (required)" if body.get("required") else ""
        parts.append(f"Request body{required}: {schema_type(first.get('schema'))}, as {kinds}.\n")
    responses = op.get("responses", {})
    if responses:
        parts.append("| answer | body | meaning |\n|---|---|---|")
        for status, answer in responses.items():
            content = answer.get("content", {})
            body_type = schema_type(next(iter(content.values())).get("schema")) if content else ""
            parts.append(f"| `{status}` | {cell(body_type)} | {cell(answer.get('description', ''))} |")
        parts.append("")
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------- commands
def hookline_apps() -> list[str]:
    """The installed apps that are Hookline's own: packages of this checkout (not tests, not a virtualenv's)."""
    from django.apps import apps

    names = []
    for config in apps.get_app_configs():
        where = Path(config.path).resolve()
        if not where.is_relative_to(ROOT):
            continue
        top = where.relative_to(ROOT).parts[0]
        if top not in {"tests", "var"} and not top.startswith(".") and "site-packages" not in where.parts:
            names.append(config.name)
    return names


def management_commands() -> list[tuple[str, Any]]:
    """(name, command instance) of every management command Hookline's apps provide, sorted by name."""
    from django.core.management import get_commands, load_command_class

    ours = set(hookline_apps())
    return [(name, load_command_class(app, name)) for name, app in sorted(get_commands().items()) if app in ours]


def commands_markdown(commands: list[tuple[str, Any]] | None = None) -> str:
    from django.core.management.base import BaseCommand

    commands = management_commands() if commands is None else commands
    common = {action.dest for action in BaseCommand().create_parser("manage.py", "base")._actions}
    out = [
        """# Management commands

Generated from each command's argparse parser when this manual was built: every `manage.py` command that
Hookline's apps add, with its arguments and options. Django's common options (`--settings`, `--verbosity`,
`--traceback`, …) work with each of them too.

| command | what |
|---|---|"""
    ]
    for name, command in commands:
        out.append(f"| [`{name}`](#{anchor('command', name)}) | {cell(command.help)} |")
    for name, command in commands:
        parser = command.create_parser("manage.py", name)
        usage = " ".join(parser.format_usage().replace("usage: ", "").split())
        usage = re.sub(
            r" \[-h\]| \[--version\]| \[-v \{0,1,2,3\}\]| \[--settings SETTINGS\]| \[--pythonpath PYTHONPATH\]"
            r"| \[--traceback\]| \[--no-color\]| \[--force-color\]| \[--skip-checks\]",
            "",
            usage,
        )
        out.append(f"\n## `{name}` {{ #{anchor('command', name)} }}\n")
        out.append(f"{command.help.strip()}\n" if command.help else "")
        out.append(f"```\n{usage}\n```\n")
        rows = []
        for action in parser._actions:  # argparse keeps no public list of a parser's arguments
            if action.dest in common:
                continue
            spelled = ", ".join(action.option_strings) or action.dest
            flag = action.nargs == 0  # a switch: its "default" is only the opposite of giving it
            default = (
                ""
                if flag or action.default in (None, "==SUPPRESS==") or not action.option_strings
                else code(action.default)
            )
            rows.append(f"| `{spelled}` | {cell(action.help or '')} | {default} |")
        if rows:
            out.append("| argument | what | default |\n|---|---|---|\n" + "\n".join(rows) + "\n")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------- metrics
@dataclass
class MetricDoc:
    name: str  # as exposed: counters with _total
    kind: str
    labels: tuple[str, ...]
    help: str


def metric_docs() -> list[MetricDoc]:
    """Every ``hookline_*`` family that /metrics exposes: the process's registry and the database collector."""
    from prometheus_client import REGISTRY

    from deliveries import metrics

    docs: dict[str, MetricDoc] = {}
    for family in [*REGISTRY.collect(), *metrics.DatabaseCollector().collect()]:
        if not family.name.startswith("hookline_"):
            continue
        # Label names: from the samples, else from the family or the metric object declaring it
        # (prometheus-client keeps them in _labelnames; a metric with no child yet has no sample).
        labels = {name for sample in family.samples for name in sample.labels if name not in {"le", "quantile"}}
        labels |= set(getattr(family, "_labelnames", ()) or ())
        declared = REGISTRY._names_to_collectors.get(family.name)
        labels |= set(getattr(declared, "_labelnames", ()) or ())
        exposed = family.name + "_total" if family.type == "counter" else family.name
        docs[exposed] = MetricDoc(exposed, family.type, tuple(sorted(labels)), family.documentation)
    return sorted(docs.values(), key=lambda doc: doc.name)


def metrics_markdown(docs: list[MetricDoc] | None = None) -> str:
    docs = metric_docs() if docs is None else docs
    rows = "\n".join(
        f"| `{doc.name}{'{' + ','.join(doc.labels) + '}' if doc.labels else ''}` | {doc.kind} | {cell(doc.help)} |"
        for doc in docs
    )
    return f"""# Prometheus metrics

Generated from the Prometheus registry when this manual was built: every `hookline_*` metric that
`GET /metrics` exposes. Counters and histograms are kept by the web and worker processes; the gauges
are read from the database when Prometheus scrapes. Access, multi-process mode and example alert
rules: [Operations](../operations.md#metrics). prometheus-client's own `process_*` and `python_*`
metrics are exposed too.

| metric | type | what |
|---|---|---|
{rows}
"""


# ---------------------------------------------------------------------------------------------- offline check
class _Assets(HTMLParser):
    """Collects the URLs a page loads by itself (scripts, styles, images, fonts, frames), not the links it shows."""

    LOADING = {
        "script": "src",
        "img": "src",
        "iframe": "src",
        "source": "src",
        "audio": "src",
        "video": "src",
        "embed": "src",
        "object": "data",
    }
    LOADING_LINKS = {
        "stylesheet",
        "icon",
        "preload",
        "preconnect",
        "prefetch",
        "dns-prefetch",
        "manifest",
        "modulepreload",
        "apple-touch-icon",
    }

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "link" and set((values.get("rel") or "").split()) & self.LOADING_LINKS:
            self.urls.append(values.get("href") or "")
        elif tag in self.LOADING and values.get(self.LOADING[tag]):
            self.urls.append(values[self.LOADING[tag]] or "")
        if values.get("style"):
            self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", values["style"] or "")


def remote_assets(html: str) -> list[str]:
    """The URLs of another host (or protocol-relative) that an HTML page would load."""
    parser = _Assets()
    parser.feed(html)
    return [url for url in parser.urls if re.match(r"^(https?:)?//", url.strip(), re.I)]


def remote_css_urls(css: str) -> list[str]:
    return [
        url
        for url in re.findall(r"(?:url\(\s*['\"]?|@import\s+['\"])([^'\")]+)", css)
        if re.match(r"^(https?:)?//", url.strip(), re.I)
    ]


def offline_problems(site_dir: Path) -> list[str]:
    problems = []
    for page in sorted(site_dir.rglob("*.html")):
        problems += [f"{page.relative_to(site_dir)}: {url}" for url in remote_assets(page.read_text(errors="replace"))]
    for sheet in sorted(site_dir.rglob("*.css")):
        problems += [
            f"{sheet.relative_to(site_dir)}: {url}" for url in remote_css_urls(sheet.read_text(errors="replace"))
        ]
    return problems


# ---------------------------------------------------------------------------------------------- MkDocs hooks
GENERATED = {
    "reference/settings.md": lambda: settings_markdown(),
    "reference/api.md": lambda: api_markdown(openapi_schema()),
    "reference/commands.md": lambda: commands_markdown(),
    "reference/metrics.md": lambda: metrics_markdown(),
}


def on_files(files, config):
    """Add the generated pages to the build (they exist only in memory, never in docs/)."""
    from mkdocs.structure.files import File

    setup_django()
    for path, generate in GENERATED.items():
        if files.get_file_from_path(path) is not None:
            files.remove(files.get_file_from_path(path))
        files.append(File.generated(config, path, content=generate()))
    return files


def on_post_build(config):
    from mkdocs.exceptions import PluginError

    problems = offline_problems(Path(config["site_dir"]))
    if problems:
        raise PluginError(
            "The manual must work offline; these pages load assets from other hosts:\n  " + "\n  ".join(problems)
        )
