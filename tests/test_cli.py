"""The command-line contract: JSON output, exit codes and one-line errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from _reference import (
    equilibrium_mp,
    exploitability_mp,
    kl_mp,
    mp_ctx,
    nash_mp_mp,
)

from nashproof.backends import MpmathBackend
from nashproof.cli import main
from nashproof.equilibrium import solve_equilibrium
from nashproof.games import load_game_file

F = Fraction
DECIMAL = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")

# Two contexts, deliberately not in alphabetical order and with different matrices and references.
GAME = {
    "actions": ["r", "p", "s", "q"],
    "contexts": [
        {
            "name": "zeta",
            "weight": "2/3",
            "preference": [["1/2", "0", "1", "1/3"], ["1", "1/2", "0", "3/4"],
                           ["0", "1", "1/2", "1/5"], ["2/3", "1/4", "4/5", "1/2"]],
            "reference": ["1/2", "1/4", "1/8", "1/8"],
        },
        {
            "name": "alpha",
            "weight": "1/3",
            "preference": [["1/2", "7/10", "1/10", "1"], ["3/10", "1/2", "1", "1/2"],
                           ["9/10", "0", "1/2", "2/5"], ["0", "1/2", "3/5", "1/2"]],
            "reference": ["1/10", "2/10", "3/10", "4/10"],
        },
    ],
}


def frac_game() -> list[dict[str, Any]]:
    """The GAME contexts with exact numbers, read without nashproof."""
    out = []
    for c in GAME["contexts"]:
        assert isinstance(c, dict)
        out.append({
            "weight": F(c["weight"]),
            "P": [[F(x) for x in row] for row in c["preference"]],
            "ref": [F(x) for x in c["reference"]],
        })
    return out


@pytest.fixture
def game_file(tmp_path: Path) -> Path:
    p = tmp_path / "game.json"
    p.write_text(json.dumps(GAME), encoding="utf-8")
    return p


def call(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    try:
        rc = main(argv)
    except SystemExit as exc:  # pragma: no cover - reported as a failure below
        pytest.fail(f"main raised SystemExit({exc.code}) instead of returning")
    except Exception as exc:
        pytest.fail(f"uncaught {type(exc).__name__} escaped main (a traceback for the user): {exc}")
    out, err = capsys.readouterr()
    return rc, out, err


# ------------------------------------------------------------------------- equilibrium --json


def test_equilibrium_json(capsys: pytest.CaptureFixture[str], game_file: Path) -> None:
    rc, out, err = call(capsys, ["equilibrium", str(game_file), "--beta", "1/10", "--digits", "60", "--json"])
    assert rc == 0, err
    assert err == ""
    data = json.loads(out)
    assert set(data) >= {"policy", "certificate"}
    policy = data["policy"]
    assert isinstance(policy, list) and len(policy) == 2
    M = mp_ctx(80)
    api = solve_equilibrium(load_game_file(game_file), F(1, 10), MpmathBackend(60))
    for c, ctx in enumerate(frac_game()):
        row = policy[c]
        assert isinstance(row, list) and len(row) == 4
        assert all(isinstance(x, str) and DECIMAL.match(x) for x in row), row
        vals = [M.mpf(x) for x in row]
        assert abs(M.fsum(vals) - 1) < 1e-55
        # Agrees with the API...
        assert max(abs(v - M.mpf(a)) for v, a in zip(vals, api.probs()[c], strict=True)) < 1e-55
        # ...and with an independent solve of the c-th context of the file (so the order is the file's).
        ref = equilibrium_mp(ctx["P"], ctx["ref"], F(1, 10), 60)
        assert max(abs(v - r) for v, r in zip(vals, ref, strict=True)) < 1e-55
    assert abs(M.mpf(policy[0][0]) - M.mpf(policy[1][0])) > 1e-3  # the two contexts really differ
    cert = data["certificate"]
    assert isinstance(cert, dict) and cert
    assert int(cert["working_digits"]) >= 60
    assert abs(M.mpf(cert["exploitability"])) < 1e-50


def test_equilibrium_beta_zero_is_exact(capsys: pytest.CaptureFixture[str], game_file: Path) -> None:
    rc, out, err = call(capsys, ["equilibrium", str(game_file), "--beta", "0", "--json"])
    assert rc == 0, err
    data = json.loads(out)
    for ctx, row in zip(frac_game(), data["policy"], strict=True):
        pi = [F(x) for x in row]
        assert all(p >= 0 for p in pi) and sum(pi) == 1
        n = len(pi)
        assert all(sum(pi[i] * ctx["P"][i][j] for i in range(n)) >= F(1, 2) for j in range(n))


def test_equilibrium_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = call(capsys, ["equilibrium", "rps:skew=1/2", "--beta", "1/10", "--digits", "20"])
    assert rc == 0 and err == ""
    assert "certificate" in out and "y2" in out


# --------------------------------------------------------------------------------- run --json


def test_run_json_against_hand_computation(capsys: pytest.CaptureFixture[str], game_file: Path) -> None:
    K = 5
    rc, out, err = call(capsys, ["run", str(game_file), "--solver", "nash-mp", "--beta", "1/10", "--eta", "2",
                                 "--steps", str(K), "--digits", "40", "--json"])
    assert rc == 0, err
    data = json.loads(out)
    its = data["iterations"]
    assert [it["k"] for it in its] == list(range(K + 1))
    assert [it["queries"] for it in its] == [2 * k for k in range(K + 1)]
    keys = ("kl", "kl_reverse", "exploitability", "span")
    for it in its:
        for key in keys:
            assert isinstance(it[key], str) and DECIMAL.match(it[key]), (key, it[key])

    # Independent recomputation from the exact game: π* by findroot, Nash-MP by the closed form.
    beta, eta = F(1, 10), F(2)
    M = mp_ctx(70)
    ctxs = frac_game()
    stars = [equilibrium_mp(c["P"], c["ref"], beta, 50) for c in ctxs]
    pis = [[M.mpf(r.numerator) / r.denominator for r in c["ref"]] for c in ctxs]
    weights = [M.mpf(c["weight"].numerator) / c["weight"].denominator for c in ctxs]
    for k in range(K + 1):
        per = []
        for c, ctx in enumerate(ctxs):
            star = [M.mpf(x) for x in stars[c]]
            logdiff = [M.log(p) - M.log(s) for p, s in zip(pis[c], star, strict=True)]
            per.append({
                "kl": kl_mp(M, star, pis[c]),
                "kl_reverse": kl_mp(M, pis[c], star),
                "exploitability": exploitability_mp(M, ctx["P"], ctx["ref"], pis[c], beta),
                "span": max(logdiff) - min(logdiff),
            })
        expect = {key: M.fsum(w * r[key] for w, r in zip(weights, per, strict=True))
                  for key in ("kl", "kl_reverse", "exploitability")}
        expect["span"] = max(r["span"] for r in per)
        for key in keys:
            got = M.mpf(its[k][key])
            assert abs(got - expect[key]) <= 1e-33 + 1e-30 * abs(expect[key]), (k, key, got, expect[key])
        if k == 0:
            assert expect["kl"] > 1e-3  # a skewed reference: the run has something to do
        pis = [nash_mp_mp(M, ctx["P"], ctx["ref"], pis[c], eta, beta)[1] for c, ctx in enumerate(ctxs)]
    assert M.mpf(its[K]["kl"]) < M.mpf(its[0]["kl"])


@pytest.mark.parametrize(("solver", "per"), [("extragradient", 2), ("mmd", 1), ("omd", 1), ("nash-md", 1),
                                              ("proximal-point", 1)])
def test_run_json_query_counts(capsys: pytest.CaptureFixture[str], solver: str, per: int) -> None:
    rc, out, err = call(capsys, ["run", "rps:skew=1/2", "--solver", solver, "--beta", "1/2", "--steps", "3",
                                 "--digits", "20", "--json"])
    assert rc == 0, err
    assert [it["queries"] for it in json.loads(out)["iterations"]] == [0, per, 2 * per, 3 * per]


def test_run_gamma_equals_eta(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["run", "cyclic:n=5,skew=1/3", "--solver", "nash-mp", "--beta", "1/10", "--steps", "4", "--json",
            "--digits", "30"]
    rc1, out1, _ = call(capsys, [*base, "--gamma", "1/5"])
    rc2, out2, _ = call(capsys, [*base, "--eta", "2"])
    assert rc1 == rc2 == 0
    assert json.loads(out1)["iterations"] == json.loads(out2)["iterations"]


def test_run_text_and_float_backend(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = call(capsys, ["run", "random:n=40,seed=1,skew=99/100", "--solver", "mmd", "--beta", "1/10",
                                 "--backend", "float", "--steps", "3"])
    assert rc == 0, err
    assert "KL(π*‖π_k)" in out
    assert len([line for line in out.splitlines() if line.strip()[:1].isdigit()]) == 4


# ------------------------------------------------------------------------------ malformed input


def _single(P: list[list[Any]], ref: list[Any] | None = None, **extra: Any) -> str:
    d: dict[str, Any] = {"preference": P, **extra}
    if ref is not None:
        d["reference"] = ref
    return json.dumps(d)


RPS = [["1/2", "1", "0"], ["0", "1/2", "1"], ["1", "0", "1/2"]]

BAD_FILES = {
    "not-antisymmetric": _single([["1/2", "1/3"], ["1/3", "1/2"]]),
    "entry-outside-01": _single([["1/2", "3/2"], ["-1/2", "1/2"]]),
    "bad-diagonal": _single([["1", "0"], ["1", "1/2"]]),
    "ref-with-zero": _single(RPS, ["1/2", "1/2", "0"]),
    "ref-bad-sum": _single(RPS, ["1/2", "1/3", "1/3"]),
    "ragged-rows": _single([["1/2", "1", "0"], ["0", "1/2"], ["1", "0", "1/2"]]),
    "mismatched-shapes": _single(RPS, ["1/2", "1/2"]),
    "actions-vs-matrix": _single(RPS, None, actions=["a", "b"]),
    "nan-constant": '{"preference": [[0.5, NaN], [0.5, 0.5]]}',
    "nan-string": _single([["1/2", "NaN"], ["NaN", "1/2"]]),
    "infinity": '{"preference": [[0.5, Infinity], [0.5, 0.5]]}',
    "division-by-zero": _single([["1/2", "1/0"], ["0", "1/2"]]),
    "python-expression": _single([["1/2", "__import__('os').getcwd()"], ["0", "1/2"]]),
    "boolean-entry": _single([["1/2", True], [False, "1/2"]]),
    "invalid-json": '{"preference": [["1/2", "1"], ["0", "1/2"]',
    "not-an-object": "[1, 2, 3]",
    "weights-not-one": json.dumps({"contexts": [
        {"weight": "1/2", "preference": [["1/2", "1"], ["0", "1/2"]]},
        {"weight": "1/3", "preference": [["1/2", "0"], ["1", "1/2"]]}]}),
    "empty-action-list": json.dumps({"actions": [], "preference": [["1/2"]]}),
    "huge-integer": '{"preference": [["1/2", 0], [1, "1/2"]], "reference": [' + "1" * 5000 + ", 1]}",
}


def assert_one_error_line(rc: int, out: str, err: str) -> None:
    assert rc == 2, (rc, err)
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert len(lines[0]) > len("error: ")
    assert out == ""


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_malformed_game_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str) -> None:
    p = tmp_path / f"{name}.json"
    p.write_text(BAD_FILES[name], encoding="utf-8")
    rc, out, err = call(capsys, ["run", str(p), "--solver", "nash-mp", "--beta", "1/10", "--steps", "2"])
    assert_one_error_line(rc, out, err)


GOOD_RUN = ["--solver", "nash-mp", "--beta", "1/10", "--steps", "2", "--digits", "20"]

BAD_ARGS = {
    "missing-file": ["run", "{tmp}/absent.json", *GOOD_RUN],
    "beta-zero": ["run", "rps", "--solver", "nash-mp", "--beta", "0"],
    "beta-negative": ["run", "rps", "--solver", "nash-mp", "--beta=-1/2"],
    "equilibrium-beta-negative": ["equilibrium", "rps", "--beta=-1"],
    "beta-not-a-number": ["run", "rps", "--solver", "nash-mp", "--beta", "abc"],
    "beta-expression": ["equilibrium", "rps", "--beta", "__import__('os')"],
    "beta-float-nan": ["equilibrium", "rps", "--beta", "nan"],
    "beta-divide-by-zero": ["equilibrium", "rps", "--beta", "1/0"],
    "beta-missing": ["run", "rps", "--solver", "nash-mp"],
    "unknown-solver": ["run", "rps", "--solver", "gradient-magic", "--beta", "1/10"],
    "solver-missing": ["run", "rps", "--beta", "1/10"],
    "negative-steps": ["run", "rps", "--solver", "nash-mp", "--beta", "1/10", "--steps", "-1"],
    "steps-not-int": ["run", "rps", "--solver", "nash-mp", "--beta", "1/10", "--steps", "2.5"],
    "unknown-family": ["run", "nosuchfamily", *GOOD_RUN],
    "unknown-family-parameter": ["run", "cyclic:m=3", *GOOD_RUN],
    "family-parameter-not-int": ["run", "cyclic:n=abc", *GOOD_RUN],
    "family-skew-zero": ["run", "rps:skew=0", *GOOD_RUN],
    "family-weights-not-one": ["run", "contextual:contexts=2,weights=1/2+1/3", *GOOD_RUN],
    "family-weights-count": ["run", "contextual:contexts=3,weights=1/2+1/2", *GOOD_RUN],
    "unknown-option": ["run", "rps", *GOOD_RUN, "--frobnicate"],
    "unknown-command": ["frobnicate"],
    "digits-too-small": ["equilibrium", "rps", "--beta", "1/10", "--digits", "2"],
    "unknown-backend": ["equilibrium", "rps", "--beta", "1/10", "--backend", "gpu"],
    "eta-zero": ["run", "rps", "--solver", "nash-mp", "--beta", "1/10", "--eta", "0"],
    "eta-not-a-number": ["run", "rps", "--solver", "nash-mp", "--beta", "1/10", "--eta", "two"],
    "gamma-for-mmd": ["run", "rps", "--solver", "mmd", "--beta", "1/10", "--gamma", "1/5"],
    "eta-and-gamma": ["run", "rps", "--solver", "nash-mp", "--beta", "1/10", "--eta", "2", "--gamma", "1/5"],
    "omd-step-too-large": ["run", "rps", "--solver", "omd", "--beta", "1", "--eta", "2"],
    "extragradient-step-too-large": ["run", "rps", "--solver", "extragradient", "--beta", "1", "--eta", "1"],
}


@pytest.mark.parametrize("name", sorted(BAD_ARGS))
def test_malformed_arguments(capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in BAD_ARGS[name]]
    rc, out, err = call(capsys, argv)
    assert_one_error_line(rc, out, err)


@pytest.mark.parametrize("beta", ["1e-400", "1e400"])
def test_extreme_beta_does_not_crash(capsys: pytest.CaptureFixture[str], beta: str) -> None:
    """An extreme but valid β either gives a result or one error line; never a traceback."""
    rc, out, err = call(capsys, ["equilibrium", "rps:skew=1/2", "--beta", beta, "--digits", "20", "--json"])
    if rc == 0:
        probs = [float(x) for x in json.loads(out)["policy"][0]]
        assert abs(sum(probs) - 1) < 1e-12
    else:
        assert rc in (2, 3)
        assert len(err.splitlines()) == 1 and err.startswith("error: ")


def test_valid_game_still_runs(capsys: pytest.CaptureFixture[str], game_file: Path) -> None:
    rc, out, err = call(capsys, ["run", str(game_file), *GOOD_RUN])
    assert rc == 0, err
    assert err == ""
    assert "Nash-MP" in out


def test_games_listing(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = call(capsys, ["games", "--json"])
    assert rc == 0
    names = {f["name"] for f in json.loads(out)}
    assert {"rps", "cyclic", "transitive", "bradley-terry", "random", "ties", "disjoint-cycles",
            "contextual"} <= names


# ------------------------------------------------------------------------- the real console script


def _console_script() -> str:
    found = shutil.which("nashproof")
    if found is None:
        candidate = Path(sys.executable).parent / "nashproof"
        assert candidate.exists(), "the nashproof console script is not installed"
        found = str(candidate)
    return found


def test_console_script(game_file: Path, tmp_path: Path) -> None:
    exe = _console_script()
    ok = subprocess.run([exe, "equilibrium", str(game_file), "--beta", "1/10", "--digits", "30", "--json"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    policy = json.loads(ok.stdout)["policy"]
    assert len(policy) == 2 and all(len(row) == 4 for row in policy)
    bad = tmp_path / "bad.json"
    bad.write_text(BAD_FILES["not-antisymmetric"], encoding="utf-8")
    err = subprocess.run([exe, "equilibrium", str(bad), "--beta", "1/10"], capture_output=True, text=True,
                         timeout=120)
    assert err.returncode == 2
    assert err.stdout == ""
    lines = err.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "preference[0][1]" in lines[0]


def test_default_suite_is_found_from_any_directory() -> None:
    """`nashproof check` with no suite runs the repository's checks/default.toml wherever it is called."""
    from nashproof.cli.check import DEFAULT_SUITE

    repo = Path(__file__).resolve().parents[1]
    assert DEFAULT_SUITE == repo / "checks" / "default.toml"
    assert DEFAULT_SUITE.is_file()
