"""An import-linter contract that import-linter does not ship: no import cycles inside a package.

Used by the project's ``[importlinter]`` configuration (``setup.cfg``) and usable by a plugin's own. An
import cycle makes the order of imports matter, forces function-level imports and hides which module
depends on which; each cycle found is reported as the chain of modules that closes it.
"""

from __future__ import annotations

import sys

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
