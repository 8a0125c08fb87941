"""The notebooks: jupytext percent-format ``notebooks/NN_*.py`` sources, each with its executed ``.ipynb``.

The ``.py`` file is the source (reviewable in a diff); the ``.ipynb`` beside it is generated from it,
executed, and committed with its outputs. The fast tests check that every source parses and that its
``.ipynb`` holds exactly the source's cells (so a notebook edited on one side only fails); the slow
test runs every source top to bottom in a fresh kernel (``python3``, 600 s per cell, cwd =
notebooks/), and a cell that raises fails it with that cell's traceback. Needs the ``notebooks``
extra (jupytext, nbclient, ipykernel). Regenerate the executed notebooks after editing a source:

    python tests/test_notebooks.py                          # every notebook
    python tests/test_notebooks.py notebooks/01_quickstart.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
SOURCES = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))


def cells(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in nb.cells]


def execute(source: Path) -> nbformat.NotebookNode:
    """The notebook of ``source``, executed from a fresh kernel with cwd = notebooks/."""
    nb = jupytext.read(source)
    nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}}).execute()
    return nb


def test_there_are_notebooks() -> None:
    assert SOURCES, f"no notebook sources in {NOTEBOOK_DIR}"
    stray = sorted(p.name for p in NOTEBOOK_DIR.glob("*.py") if p not in SOURCES)
    assert not stray, f"notebooks/ holds only NN_name.py notebook sources, not {stray}"


@pytest.mark.parametrize("source", SOURCES, ids=[p.name for p in SOURCES])
def test_source_is_percent_format_and_paired(source: Path) -> None:
    text = source.read_text(encoding="utf-8")
    assert "format_name: percent" in text and "# %%" in text, f"{source.name} is not a jupytext percent file"
    nb = jupytext.reads(text, fmt="py:percent")
    assert any(c.cell_type == "code" for c in nb.cells) and any(c.cell_type == "markdown" for c in nb.cells)
    built = source.with_suffix(".ipynb")
    assert built.exists(), f"{built.name} is missing: run python tests/test_notebooks.py {source.name}"
    committed = nbformat.read(built, as_version=4)
    assert cells(committed) == cells(nb), (f"{built.name} differs from {source.name}: "
                                           f"run python tests/test_notebooks.py notebooks/{source.name}")
    ran = [c for c in committed.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in ran), f"{built.name} is committed unexecuted"


def test_every_ipynb_has_a_source() -> None:
    orphans = sorted(p.name for p in NOTEBOOK_DIR.glob("*.ipynb") if p.with_suffix(".py") not in SOURCES)
    assert not orphans, f"notebooks without a .py source: {orphans}"


@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES, ids=[p.name for p in SOURCES])
def test_notebook_executes(source: Path) -> None:
    nb = execute(source)  # raises CellExecutionError, naming the cell, if any cell raises
    errors = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
              if out.get("output_type") == "error"]
    assert not errors, errors


def main(paths: list[str]) -> int:
    """Execute the given sources (default: all) and write each executed ``.ipynb`` beside it."""
    for source in [Path(p).resolve() for p in paths] or SOURCES:
        start = time.perf_counter()
        nb = execute(source)
        nb.metadata.setdefault("jupytext", {})["formats"] = "ipynb,py:percent"
        nbformat.write(nb, source.with_suffix(".ipynb"))
        print(f"{source.with_suffix('.ipynb').name}: executed in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
