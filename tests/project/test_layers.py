"""The layers of the product code: hookline <- events <- hooks <- deliveries <- console <- portal; no package imports
one above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["hookline", "events", "hooks", "deliveries", "console", "portal"]  # each may import those before it


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports: import statements, and import_module("…") with a literal name."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(str(node.args[0].value))
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize("package", LAYERS)
def test_no_package_imports_a_layer_above_it(package):
    # given
    above = set(LAYERS[LAYERS.index(package) + 1 :])

    # when
    upward = {
        f"{path.relative_to(ROOT)} imports {', '.join(sorted(imported_packages(path) & above))}"
        for path in sorted((ROOT / package).rglob("*.py"))
        if imported_packages(path) & above
    }

    # then
    assert not upward


def test_the_check_sees_an_upward_import(tmp_path):
    # given: a module as the old deliveries.api.urls alias was, naming the console by string
    module = tmp_path / "urls.py"
    module.write_text(
        'from importlib import import_module\nurlpatterns = import_module("console.api.urls").urlpatterns\n'
    )

    # then
    assert imported_packages(module) == {"importlib", "console"}
