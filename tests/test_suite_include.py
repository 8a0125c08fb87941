"""Suites that include other suites (``include = [...]``): order, each file once, cycles and missing files."""

from __future__ import annotations

from pathlib import Path

import pytest

from nashproof.claims import builtin_catalogue
from nashproof.cli import main
from nashproof.errors import InputError
from nashproof.suite import load_suite, load_suites

ROOT = Path(__file__).resolve().parent.parent


def _suite(path: Path, include: list[str] | None = None, game: str | None = "rps", name: str | None = None) -> Path:
    lines = [f'name = "{name or path.stem}"']
    if include is not None:
        lines.append("include = [" + ", ".join(f'"{i}"' for i in include) + "]")
    if game is not None:
        lines += ["[[run]]", f'games = ["{game}"]', 'betas = ["1/10"]', 'solvers = [{ name = "nash-mp", eta = "2" }]',
                  "steps = 3", "digits = 30", 'claims = ["NMP-KL-STEP"]']
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_include_adds_tasks_relative_to_the_file_each_file_once(tmp_path: Path) -> None:
    # a -> (sub/b, sub/c); sub/b -> c (relative to sub/): a diamond, c must contribute once.
    _suite(tmp_path / "sub" / "c.toml", game="cyclic:n=3")
    _suite(tmp_path / "sub" / "b.toml", include=["c.toml"], game="transitive:n=3")
    a = _suite(tmp_path / "a.toml", include=["sub/b.toml", "sub/c.toml"])
    suite = load_suite(a, builtin_catalogue())
    assert [t.game for t in suite.tasks] == ["rps", "transitive:n=3", "cyclic:n=3"]
    assert [Path(t.source).name for t in suite.tasks] == ["a.toml", "b.toml", "c.toml"]
    assert [f.name for f in suite.files] == ["a.toml", "b.toml", "c.toml"]
    # Naming an included file again on the command line (or through a directory) adds nothing.
    both = load_suites([str(a), str(tmp_path / "sub" / "c.toml"), str(tmp_path / "sub")], builtin_catalogue())
    assert sum(len(s.tasks) for s in both) == 3


def test_a_suite_of_includes_only_is_valid(tmp_path: Path) -> None:
    _suite(tmp_path / "b.toml")
    a = _suite(tmp_path / "a.toml", include=["b.toml"], game=None)
    assert [t.game for t in load_suite(a, builtin_catalogue()).tasks] == ["rps"]


@pytest.mark.parametrize("case", ["self", "two", "three", "missing", "not-a-list"])
def test_include_cycles_and_missing_files_are_one_error_line_exit_2(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if case == "self":
        a = _suite(tmp_path / "a.toml", include=["a.toml"])
    elif case == "two":
        _suite(tmp_path / "b.toml", include=["a.toml"])
        a = _suite(tmp_path / "a.toml", include=["b.toml"])
    elif case == "three":
        _suite(tmp_path / "c.toml", include=["a.toml"])
        _suite(tmp_path / "x" / "b.toml", include=["../c.toml"])
        a = _suite(tmp_path / "a.toml", include=["x/b.toml"])
    elif case == "missing":
        a = _suite(tmp_path / "a.toml", include=["nowhere.toml"])
    else:
        a = tmp_path / "a.toml"
        a.write_text('include = 3\n[[run]]\ngames = ["rps"]\nbetas = ["1"]\nsolvers = ["nash-mp"]\n', encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_suite(a, builtin_catalogue())
    expected = {"missing": "not found", "not-a-list": "include"}.get(case, "include cycle")
    assert expected in str(exc.value)
    assert main(["check", str(a)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and expected in err[0]


def test_default_suite_names_the_witness_corpus() -> None:
    """`nashproof check` without arguments runs checks/default.toml and, through it, the witness corpora."""
    suite = load_suite(ROOT / "checks" / "default.toml", builtin_catalogue())
    names = {f.name for f in suite.files}
    assert {"default.toml", "witnesses.toml"} <= names
    corpus = load_suite(ROOT / "checks" / "witnesses.toml", builtin_catalogue())
    assert {(t.game, t.beta, t.solver, t.eta) for t in corpus.tasks} <= {
        (t.game, t.beta, t.solver, t.eta) for t in suite.tasks}
