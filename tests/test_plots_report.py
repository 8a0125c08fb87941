"""Plots and the HTML report: files are written, envelopes and violations are drawn."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest

from nashproof.cli import main
from nashproof.families import load_game
from nashproof.plots import plot_run
from nashproof.solvers import make_solver


def test_plot_draws_observations_bounds_and_violations() -> None:
    game = load_game("cyclic:n=5,skew=1/3")
    beta = Fraction(1, 20)
    fig = plot_run(game, [make_solver("nash-mp", beta, Fraction(2)), make_solver("mmd", beta)], 30)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert any(lbl.startswith("nash-mp") for lbl in labels) and any("NMP-KL [" in lbl for lbl in labels)
    assert any("MMD-KL [" in lbl for lbl in labels) and not any("violated" in lbl for lbl in labels)
    assert ax.get_yscale() == "log" and ax.get_xlabel() and ax.get_ylabel()
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert dashed  # bounds are drawn distinctly from observations
    broken = plot_run(game, [make_solver("nash-mp", beta, Fraction(8))], 20, ignore_hypotheses=True)
    assert any("violated" in line.get_label() for line in broken.axes[0].get_lines())


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_cli_writes_files(tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"kl{suffix}"
    code = main(["plot", "rps:skew=1/2", "--beta", "1/10", "--solver", "nash-mp@2", "--solver", "nash-md",
                 "--steps", "15", "--x", "queries", "--out", str(out)])
    assert code == 0 and out.stat().st_size > 1000
    assert main(["plot", "rps", "--beta", "1/10", "--solver", "nash-mp", "--out", str(tmp_path / "x.txt")]) == 2
    assert main(["plot", "rps", "--beta", "1/10", "--solver", "nope", "--out", str(out)]) == 2


def test_check_report_is_self_contained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite = tmp_path / "s.toml"
    suite.write_text('[[run]]\ngames = ["cyclic:n=3,skew=1/2"]\nbetas = ["1/20"]\n'
                     'solvers = [{ name = "nash-mp", eta = "4*max" }, { name = "nash-mp", eta = "2" }]\n'
                     'steps = 15\ndigits = 30\nclaims = ["NMP-KL-STEP", "NMP-KL"]\nignore_hypotheses = true\n')
    code = main(["check", str(suite), "--report", str(tmp_path / "rep")])
    assert code == 1
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "Provenance of every claim" in html and "NMP-KL-STEP" in html
    assert len(re.findall("<img src='data:image/png;base64,", html)) >= 2
    assert "src='http" not in html and "<link" not in html and "<script" not in html  # nothing external


@pytest.mark.slow
def test_bench_prints_every_case(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from nashproof.bench import REPETITIONS, rows

    assert main(["bench", "--quick", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["workload"] for r in data["rows"]] == [r.label for r in rows(True)]
    for r in data["rows"]:
        sides = [v for v in r.values() if isinstance(v, dict)]
        assert sides and all(s["runs"] == REPETITIONS and 0 <= s["min"] <= s["median"] for s in sides)
        assert "verdict" not in r  # quick sizes carry no targets


def test_bench_verdict_needs_min_and_median_to_agree() -> None:
    from nashproof.bench import Row

    def row(a: list[float], b: list[float]) -> dict[str, object]:
        r = Row("x", {}, ("≤", 2.0))
        r.times = {"a": a, "b": b}
        return r.summary()

    assert row([1.0, 1.1, 1.2], [1.0, 1.0, 1.0])["verdict"] == "met"
    assert row([3.0, 3.1, 3.0], [1.0, 1.0, 1.0])["verdict"] == "NOT met"
    spread = row([1.5, 3.0, 3.0], [1.0, 1.0, 1.0])  # min ratio 1.5 (≤ 2), median ratio 3 (> 2)
    assert spread["verdict"] == "undecided: spread" and spread["ratio_min"] == 1.5 and spread["ratio_median"] == 3.0
