"""An import-linter contract type the stock ones lack: no import cycles among top-level packages.

``acyclic_siblings`` needs a common parent package, and Porta's domain apps are top-level packages.
This contract builds the package graph of the listed packages (a imports b when any module of a
imports any module of b) and fails on each strongly connected group of two or more, naming one
import per edge so the loop can be found. Used by ``make lint`` only, so it lives outside the wheel.
"""

from __future__ import annotations

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def _strongly_connected(nodes: list[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of nodes that all reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            groups.append(sorted(group))

    for node in nodes:
        if node not in index:
            visit(node)
    return sorted(group for group in groups if len(group) > 1)


class AcyclicPackagesContract(Contract):
    type_name = "acyclic_packages"

    packages = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        packages = list(self.packages)  # type: ignore[arg-type]
        edges = {
            importer: {
                imported
                for imported in packages
                if imported != importer
                and graph.direct_import_exists(importer=importer, imported=imported, as_packages=True)
            }
            for importer in packages
        }
        cycles = []
        for group in _strongly_connected(packages, edges):
            members = set(group)
            cycles.append(
                [
                    (importer, imported, self._examples(graph, importer, imported))
                    for importer in group
                    for imported in sorted(edges[importer] & members)
                ]
            )
        return ContractCheck(kept=not cycles, metadata={"cycles": cycles})

    @staticmethod
    def _examples(graph: ImportGraph, importer: str, imported: str) -> list[str]:
        found = []
        for module in sorted(graph.find_descendants(importer) | {importer}):
            for target in sorted(graph.find_modules_directly_imported_by(module)):
                if target == imported or target.startswith(imported + "."):
                    lines = graph.get_import_details(importer=module, imported=target)
                    numbers = ", ".join(f"l.{detail['line_number']}" for detail in lines)
                    found.append(f"{module} -> {target} ({numbers})")
        return found

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error("Packages importing each other in a loop:")
            output.new_line()
            for importer, imported, examples in cycle:
                output.print_error(f"- {importer} -> {imported} ({len(examples)} imports)", bold=False)
                for example in examples[:5]:
                    output.indent_cursor()
                    output.print_error(example, bold=False)
            output.new_line()
