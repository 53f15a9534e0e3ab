"""The import-linter contract core ships for cycles (``core.testing.contracts.AcyclicContract``) catches one,
names its modules in order, and passes a package without one; run as CI runs it, through ``lint-imports``.
The scan plugins' tests use to keep to the public API sees every form of import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.testing.contracts import PLUGIN_MAY_IMPORT, PLUGIN_TESTS_MAY_IMPORT, core_imports, imports_beyond

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONFIG = """
[importlinter]
root_packages =
    shop
contract_types =
    acyclic: core.testing.contracts.AcyclicContract

[importlinter:contract:no-cycles]
name = No import cycles inside shop
type = acyclic
packages =
    shop
{skip}
"""


def write_package(root: Path, imports: dict[str, list[str]]) -> None:
    """A package ``shop`` whose module ``name`` imports the modules listed for it."""
    (root / "shop").mkdir()
    (root / "shop" / "__init__.py").write_text("")
    for name, imported in imports.items():
        path = root / "shop" / f"{name.replace('.', '/')}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.parent != root / "shop" and not (path.parent / "__init__.py").exists():
            (path.parent / "__init__.py").write_text("")
        path.write_text("".join(f"import shop.{module}\n" for module in imported))


def lint(root: Path, skip: str = "") -> subprocess.CompletedProcess:
    (root / ".importlinter").write_text(CONFIG.format(skip=f"skip =\n    {skip}" if skip else ""))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(ROOT)])}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env,  # noqa: S603
                          capture_output=True, text=True)


@pytest.fixture
def cyclic(tmp_path) -> Path:
    # orders -> invoices -> mail -> orders is a cycle; reports only imports orders and is not part of it.
    write_package(tmp_path, {"orders": ["invoices"], "invoices": ["mail"], "mail": ["orders"],
                             "reports": ["orders"]})
    return tmp_path


def test_a_cycle_breaks_the_contract_and_is_named(cyclic):
    result = lint(cyclic)
    assert result.returncode == 1, result.stdout
    assert "No import cycles inside shop BROKEN" in result.stdout
    assert "shop.invoices -> shop.mail -> shop.orders -> shop.invoices" in result.stdout
    assert "shop.reports" not in result.stdout


def test_a_package_without_cycles_keeps_it(tmp_path):
    write_package(tmp_path, {"orders": ["invoices"], "invoices": ["mail"], "mail": [], "reports": ["orders"]})
    result = lint(tmp_path)
    assert result.returncode == 0, result.stdout
    assert "No import cycles inside shop KEPT" in result.stdout


def test_a_cycle_through_a_subpackage_is_caught(tmp_path):
    write_package(tmp_path, {"orders": ["billing.invoices"], "billing.invoices": ["orders"]})
    result = lint(tmp_path)
    assert result.returncode == 1
    assert "shop.billing.invoices -> shop.orders -> shop.billing.invoices" in result.stdout


def test_skipped_modules_are_left_out(cyclic):
    assert lint(cyclic, skip="shop.mail").returncode == 0


def test_the_plugin_import_scan_sees_every_form_of_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import core.models\nfrom core import money\nfrom core.testing import helpers\n"
                      "from core.plugin_api import db\nfrom . import x\nimport corelike\n")
    assert core_imports(sample) == ["core.models", "core.money", "core.testing", "core.plugin_api"]
    assert imports_beyond(sample, PLUGIN_TESTS_MAY_IMPORT) == ["core.models", "core.money"]
    assert imports_beyond(sample, PLUGIN_MAY_IMPORT) == ["core.models", "core.money", "core.testing"]
