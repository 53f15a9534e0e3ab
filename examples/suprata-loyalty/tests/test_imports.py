"""The plugin and its tests import nothing from core but ``core.plugin_api`` (and, in tests,
``core.testing``): what a third-party plugin may rely on. A new import of anything else in core fails
here."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]
ALLOWED = {"plugin": ("core.plugin_api",), "tests": ("core.plugin_api", "core.testing")}


def core_imports(path: Path) -> list[str]:
    """Every module of ``core`` that the file imports, as written."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [node.module] if node.module != "core" else [f"core.{a.name}" for a in node.names]
    return [name for name in found if name == "core" or name.startswith("core.")]


def allowed(module: str, roots: tuple[str, ...]) -> bool:
    return any(module == root or module.startswith(root + ".") for root in roots)


@pytest.mark.parametrize(("kind", "path"), [
    *[("plugin", p) for p in sorted((PACKAGE / "suprata_loyalty").rglob("*.py"))],
    *[("tests", p) for p in sorted((PACKAGE / "tests").glob("*.py"))],
], ids=lambda value: value.name if isinstance(value, Path) else value)
def test_only_the_public_api_and_the_test_kit_are_imported(kind, path):
    outside = [m for m in core_imports(path) if not allowed(m, ALLOWED[kind])]
    assert outside == [], f"{path.name} imports {outside} from core"


def test_the_scan_sees_every_form_of_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import core.models\nfrom core import money\nfrom core.testing import helpers\n"
                      "from . import x\nimport corelike\n")
    assert core_imports(sample) == ["core.models", "core.money", "core.testing"]
