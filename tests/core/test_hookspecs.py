"""The hook catalogue keeps its promises: every hook spec says when it is called, what it receives and what it
returns; every hook is exercised by a test; every hook and every name of the public plugin API is in the
plugin authors' guide."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from core import plugin_api
from core.plugins import hookspecs

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "writing-a-plugin.md"
TEST_FOLDERS = [ROOT / "tests", *sorted((ROOT / "examples").glob("*/tests"))]

SPECS = {
    name: function
    for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(function, "suprata_spec")
}


def test_the_catalogue_is_found():
    assert {"on_payment_captured", "on_ticket_submitted", "render_portal_tab"} <= SPECS.keys()


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hookspec_docstring_says_when_what_and_what_back(name):
    spec = SPECS[name]
    doc = inspect.getdoc(spec) or ""
    assert re.search(r"\bCalled\b", doc), f"{name}: say when it is called (a sentence starting 'Called')"
    if name.startswith("on_"):
        assert "commit" in doc, f"{name}: say whether it runs before or after commit"
    for parameter in inspect.signature(spec).parameters:
        assert re.search(rf":param (\S+ )?{parameter}:", doc), f"{name}: document parameter {parameter!r}"
    assert ":return:" in doc, f"{name}: say what it returns (or that the return value is ignored)"
    says_not_firstresult = "Not ``firstresult``" in doc
    if spec.suprata_spec.get("firstresult"):
        assert "``firstresult``." in doc and not says_not_firstresult, f"{name}: say it is firstresult"
    else:
        assert says_not_firstresult, f"{name}: say it is not firstresult"


@pytest.fixture(scope="module")
def names_used_in_tests() -> set[str]:
    """Every identifier, attribute, function name and string constant in the test folders' Python files."""
    names: set[str] = set()
    for folder in TEST_FOLDERS:
        for path in folder.rglob("*.py"):
            if path.resolve() == Path(__file__).resolve():
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Name):
                    names.add(node.id)
                elif isinstance(node, ast.Attribute):
                    names.add(node.attr)
                elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    names.add(node.name)
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    names.add(node.value)
    return names


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_hook_is_exercised_by_a_test(name, names_used_in_tests):
    """A test calls the hook by name or a test plugin implements it (Datasette's rule, by name)."""
    assert name in names_used_in_tests, f"no test calls or implements hook {name!r}"


@pytest.fixture(scope="module")
def guide() -> str:
    return GUIDE.read_text()


@pytest.fixture(scope="module")
def hooks_section(guide) -> str:
    """The guide's "Hooks" section, whose table is the catalogue."""
    match = re.search(r"^## Hooks\n(.*?)^## ", guide, re.MULTILINE | re.DOTALL)
    assert match, f"{GUIDE.name} has no '## Hooks' section"
    return match.group(1)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_hook_is_in_the_guides_catalogue(name, hooks_section):
    assert re.search(rf"^\| `{name}\(", hooks_section, re.MULTILINE), f"add {name} to the hooks table"


def test_the_guides_catalogue_lists_only_real_hooks(hooks_section):
    listed = set(re.findall(r"^\| `(\w+)\(", hooks_section, re.MULTILINE))
    assert listed - SPECS.keys() == set()


@pytest.mark.parametrize("name", sorted(plugin_api.__all__))
def test_every_public_api_name_is_in_the_guide(name, guide):
    assert f"`{name}`" in guide or f"`{name}(" in guide, f"document core.plugin_api.{name} in {GUIDE.name}"
