"""The import graph of a package, read from its source (AST), with its circles and private imports.

Every import counts, wherever it stands: at module level, inside a function (a "lazy" import is still
a dependency) or under ``if TYPE_CHECKING``. ``import a.b.c`` and ``from a.b import c`` depend on the
module ``a.b.c`` when it exists, else on the nearest enclosing module; ``from a.b import c`` also
depends on the package ``a.b`` (importing it runs its ``__init__``). Run it to print the report::

    python tests/import_graph.py            # the nashproof package next to this folder
    python tests/import_graph.py path/to/pkg
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Graph:
    """Modules by dotted name, each with the package modules it imports and the private names it takes."""

    edges: dict[str, set[str]] = field(default_factory=dict)
    #: (importing module, module imported from, private name)
    private: list[tuple[str, str, str]] = field(default_factory=list)


def _modules(root: Path) -> dict[str, tuple[Path, bool]]:
    """Dotted name → (file, is a package ``__init__``) for every module under the package ``root``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return out


def _owner(name: str, modules: dict[str, tuple[Path, bool]]) -> str | None:
    """The module ``name`` is, or the nearest module that encloses it."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def build(root: Path) -> Graph:
    """The import graph of the package at ``root`` (a folder with an ``__init__.py``)."""
    modules = _modules(root)
    top = root.name
    graph = Graph({m: set() for m in modules})
    for mod, (path, is_pkg) in modules.items():
        package = mod if is_pkg else mod.rpartition(".")[0]
        aliases: dict[str, str] = {}  # local name → package module it is bound to
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            targets: list[tuple[str, str | None]] = []  # (module, name taken from it or None)
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.split(".")[0] == top:
                        target = _owner(a.name, modules)
                        if target is not None:
                            targets.append((target, None))
                            if a.asname:
                                aliases[a.asname] = target
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                if source.split(".")[0] != top:
                    continue
                for a in node.names:
                    if f"{source}.{a.name}" in modules:  # a submodule, taken from its package (which runs too)
                        targets += [(f"{source}.{a.name}", None), (source, None)]
                        aliases[a.asname or a.name] = f"{source}.{a.name}"
                    else:
                        owner = _owner(source, modules)
                        if owner is not None:
                            targets.append((owner, a.name))
            elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.value.id in aliases and _private(node.attr)):
                graph.private.append((mod, aliases[node.value.id], node.attr))
            for target, name in targets:
                if target != mod:
                    graph.edges[mod].add(target)
                    if name is not None and _private(name):
                        graph.private.append((mod, target, name))
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The import circles: strongly connected components of more than one module (or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.edges[v]:
                out.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph.edges) + 100))
    try:
        for v in sorted(graph.edges):
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return out


def report(graph: Graph) -> list[str]:
    """One line per circle (with the edges inside it) and per private import; empty when clean."""
    lines = []
    for component in cycles(graph):
        inside = [f"{a} → {b}" for a in component for b in sorted(graph.edges[a]) if b in component]
        lines.append(f"import circle {' ↔ '.join(component)}: {'; '.join(inside)}")
    lines += [f"{mod} imports the private name {name} of {source}" for mod, source, name in graph.private]
    return lines


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "nashproof"
    lines = report(build(root))
    print("\n".join(lines) if lines else f"{root.name}: no import circles, no private imports")
    return 1 if lines else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
