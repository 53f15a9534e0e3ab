"""Import rules. An import-linter contract that import-linter does not ship, no import cycles inside a
package, used by the project's ``[importlinter]`` configuration (``setup.cfg``) and usable by a plugin's own:
an import cycle makes the order of imports matter, forces function-level imports and hides which module
depends on which; each cycle found is reported as the chain of modules that closes it. And the check a
plugin's tests run on the plugin and on themselves (:func:`imports_beyond`): core is reached only through
``core.plugin_api``, and in tests ``core.testing``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import grimp
from importlinter import Contract, ContractCheck, fields, output


class AcyclicContract(Contract):
    """No module of ``packages`` imports (directly or through others of them) a module that imports it."""

    type_name = "acyclic"

    packages = fields.ListField(subfield=fields.StringField())
    skip = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        skipped = tuple(self.skip or ())
        cycles = []
        for package in self.packages:
            modules = {m for m in {package} | graph.find_descendants(package)
                       if not any(m == s or m.startswith(s + ".") for s in skipped)}
            cycles.extend(_cycles(graph, modules))
        return ContractCheck(kept=not cycles, metadata={"cycles": cycles})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error(" -> ".join([*cycle, cycle[0]]))
            output.new_line()


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """One closing chain for each group of modules that import each other (Tarjan's components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module) & modules):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(modules) + 100))
    try:
        for module in sorted(modules):
            if module not in index:
                visit(module)
    finally:
        sys.setrecursionlimit(limit)
    chains = []
    for group in groups:
        first, members = group[0], set(group)
        back = next(m for m in sorted(graph.find_modules_that_directly_import(first)) if m in members)
        chain = graph.find_shortest_chain(importer=first, imported=back) or (first, back)
        chains.append(list(chain))
    return chains


# -- the rule a plugin's own tests check: core only through the public API and the test kit ---------------

PLUGIN_MAY_IMPORT = ("core.plugin_api",)
PLUGIN_TESTS_MAY_IMPORT = ("core.plugin_api", "core.testing")


def core_imports(path) -> list[str]:
    """Every module of ``core`` that the Python file at ``path`` imports, as written."""
    found = []
    for node in ast.walk(ast.parse(Path(path).read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [node.module] if node.module != "core" else [f"core.{a.name}" for a in node.names]
    return [name for name in found if name == "core" or name.startswith("core.")]


def imports_beyond(path, allowed: tuple[str, ...]) -> list[str]:
    """The modules of ``core`` that the file imports outside ``allowed`` (and their submodules)."""
    return [module for module in core_imports(path)
            if not any(module == root or module.startswith(root + ".") for root in allowed)]
