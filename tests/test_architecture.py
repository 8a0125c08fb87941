"""The package's shape: no import circles (function-level imports included), no module taking another's
private names. The graph is read from the source by tests/import_graph.py, itself checked here on a
small package that has each fault."""

from __future__ import annotations

from pathlib import Path

import pytest
from import_graph import build, cycles, report

import nashproof

PACKAGE = Path(nashproof.__file__).parent


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_nashproof_has_no_import_circles() -> None:
    assert cycles(build(PACKAGE)) == []


def test_no_module_imports_another_modules_private_names() -> None:
    assert build(PACKAGE).private == []


def test_the_graph_sees_the_package() -> None:
    """The graph is the real one: known edges of every kind are in it (else the two tests above prove nothing)."""
    edges = build(PACKAGE).edges
    assert "nashproof.backends.balls" in edges["nashproof.backends"]  # an import inside make_backend
    assert "nashproof.backends.base" in edges["nashproof.backends.balls"]  # from .base import ...
    assert "nashproof.solvers.inexact" in edges["nashproof.solvers"]
    assert len(edges) >= 70


@pytest.mark.parametrize("files, expected", [
    # a package and its submodule, the package's side inside a function
    ({"__init__.py": "def f():\n    from .sub import g\n", "sub.py": "from . import f\n"},
     [["pkg", "pkg.sub"]]),
    # three modules round, absolute imports, one under TYPE_CHECKING
    ({"__init__.py": "", "a.py": "import pkg.b\n", "b.py": "from pkg import c\n",
      "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import x\n"},
     [["pkg.a", "pkg.b", "pkg.c"]]),
    # ``from . import sibling`` runs the package too: a circle when the package imports the module back
    ({"__init__.py": "from .a import f\n", "a.py": "def f():\n    from . import b\n", "b.py": ""},
     [["pkg", "pkg.a"]]),
    # a chain is not a circle; a submodule importing its package is not one unless the package imports it back
    ({"__init__.py": "", "a.py": "from .b import y\n", "b.py": "from . import c\n", "c.py": "from pkg import x\n"},
     []),
])
def test_circles_are_found(tmp_path: Path, files: dict[str, str], expected: list[list[str]]) -> None:
    assert cycles(build(_package(tmp_path, files))) == expected


def test_private_imports_are_found(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "from .a import _hidden\n",  # a package taking its submodule's private name
        "a.py": "_hidden = 1\n__version__ = '1'\n",
        "b.py": "from .a import __version__\nfrom . import a\n\ndef f():\n    return a._hidden\n",
    })
    graph = build(root)
    assert sorted(graph.private) == [("pkg", "pkg.a", "_hidden"), ("pkg.b", "pkg.a", "_hidden")]
    assert len(report(graph)) == 2
