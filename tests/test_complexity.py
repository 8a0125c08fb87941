"""Complexity derived from the claims, against the spec's formulas, brute force and measured runs."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import mpmath
import pytest

from nashproof.cli import main
from nashproof.complexity_measure import game_kl0
from nashproof.families import load_game
from nashproof.query_complexity import complexity, log_grid

PAIRS = [("1/1000", "1e-4"), ("1/1000", "1e-12"), ("1/300", "1e-7"), ("1/100", "1e-9"), ("1/10", "1e-6"),
         ("1/7", "1e-10"), ("1/3", "1e-12"), ("1/3", "1e-4")]


def spec_nmp(beta: Fraction, eps: Fraction) -> int:
    """k = ⌈log(KL₀/ε)/log(1+2β)⌉ with KL₀ = 1/(2β), evaluated independently at 80 digits."""
    with mpmath.workdps(80):
        b = mpmath.mpf(beta.numerator) / beta.denominator
        e = mpmath.mpf(eps.numerator) / eps.denominator
        return int(mpmath.ceil(mpmath.log(1 / (2 * b) / e) / mpmath.log(1 + 2 * b)))


def spec_nmd(beta: Fraction, eps: Fraction) -> int:
    """T = ⌈8/(β²ε) − 1⌉, in exact rationals."""
    x = 8 / (beta**2 * eps) - 1
    return -((-x.numerator) // x.denominator)


@pytest.mark.parametrize("beta, eps", PAIRS)
def test_defaults_match_the_spec_formulas(beta: str, eps: str) -> None:
    r = complexity(beta, eps)
    b, e = Fraction(beta), Fraction(eps)
    nmp = r.methods["nash-mp"]
    assert nmp.iterations == spec_nmp(b, e) and nmp.queries == 2 * spec_nmp(b, e)
    assert r.methods["nash-md"].iterations == spec_nmd(b, e) == r.methods["nash-md"].queries
    assert r.methods["omd"].iterations is None
    assert "MMD" in r.methods["omd"].note and "no last-iterate" not in r.methods["omd"].note  # OMD is MMD (issue 12)


def test_the_issue_example() -> None:
    r = complexity("1/10", "1e-6")
    assert (r.methods["nash-mp"].iterations, r.methods["nash-mp"].queries) == (85, 170)


@pytest.mark.parametrize("beta, eps", [p for p in PAIRS if Fraction(p[0]) >= Fraction(1, 100)])
def test_closed_form_against_brute_force(beta: str, eps: str) -> None:
    """Step k until the bound sequence of each method falls below ε (60-digit arithmetic)."""
    b, e = Fraction(beta), Fraction(eps)
    r = complexity(beta, eps)
    with mpmath.workdps(60):
        bb, ee = mpmath.mpf(b.numerator) / b.denominator, mpmath.mpf(e.numerator) / e.denominator
        contractions = {"nash-mp": 1 / (1 + 2 * bb), "mmd": 1 / (1 + 4 * bb * bb),
                        "extragradient": 1 - bb / (bb + 1), "proximal-point": 1 / (1 + 2 * bb)}
        for name, rho in contractions.items():
            k, bound = 0, 1 / (2 * bb)
            while bound > ee:
                k, bound = k + 1, bound * rho
            assert r.methods[name].iterations == k, name


def test_exact_boundary_is_not_off_by_one() -> None:
    """ε exactly equal to the bound at some k: that k (not k+1) is the answer."""
    b = Fraction(1, 2)
    eps = (1 / (2 * b)) * Fraction(1, 2) ** 7  # (1+2β)^-7 KL₀ with 1+2β = 2
    assert complexity(b, eps).methods["nash-mp"].iterations == 7
    assert complexity(b, eps * Fraction(999, 1000)).methods["nash-mp"].iterations == 8
    eps_md = Fraction(8) / (b * b * 100)  # 8/(β²(T+1)) = ε at T = 99
    assert complexity(b, eps_md).methods["nash-md"].iterations == 99


def test_orders_are_derived() -> None:
    r = complexity("1/100", "1e-6")
    assert r.methods["nash-mp"].order == "Θ(log(1/(2*beta*epsilon))/beta)"
    assert r.methods["nash-md"].order == "Θ(1/(beta**2*epsilon))"
    assert r.methods["mmd"].order.endswith("/beta**2)")


@pytest.mark.parametrize("game", ["cyclic:n=5,skew=1/3", "transitive:n=4", "contextual:n=4,skew=1/2",
                                  "bradley-terry:scores=1+2+5/2"])
def test_measured_iterations_never_exceed_the_prediction(game: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["complexity", "--beta", "1/10", "--eps", "1e-4", "--game", game, "--json", "--max-steps", "400"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    kl0 = float(out["kl0"])
    assert abs(kl0 - float(game_kl0(load_game(game), Fraction(1, 10), 30))) < 1e-12
    for name in ("nash-mp", "mmd", "extragradient", "proximal-point"):
        m = out["methods"][name]
        assert m["measured"] is not None and m["measured"] <= m["iterations"], (name, m)
    md = out["methods"]["nash-md"]
    assert md["measured"] is not None and md["measured"] <= md["iterations"]


def test_unregularized_chooses_beta_from_nmp_unreg() -> None:
    r = complexity("1", "1/100", metric="unregularized", actions=10)
    assert r.chosen_beta is not None
    assert float(r.chosen_beta) * math.log(10) <= 1 / 200
    assert float(r.chosen_beta) * math.log(10) > 1 / 200 * 0.999999
    assert r.methods["nash-mp"].iterations is not None and "C = 1 assumed" in " ".join(r.methods["nash-mp"].assumptions)


def test_json_shape_and_grid(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["complexity", "--beta", "1/10", "--eps", "1e-6", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for name in ("nash-mp", "nash-md", "mmd", "extragradient", "proximal-point"):
        m = out["methods"][name]
        assert isinstance(m["iterations"], int) and isinstance(m["queries"], int)
        assert m["formula"] and m["latex"] and isinstance(m["assumptions"], list)
    grid = log_grid("1e-3:1:13", "--beta")
    assert len(grid) == 13 and grid[0] == Fraction(1, 1000) and grid[-1] == 1
    assert grid == sorted(set(grid))
    assert main(["complexity", "--beta", "1e-3:1:4", "--eps", "1e-8", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert len(rows) == 4
    queries = [row["methods"]["nash-mp"]["queries"] for row in rows]
    assert queries == sorted(queries, reverse=True)


@pytest.mark.parametrize("argv", [["--beta", "0", "--eps", "1e-3"], ["--beta", "1/10", "--eps", "-1"],
                                  ["--beta", "1/10", "--eps", "x"], ["--eps", "1e-3"],
                                  ["--beta", "1e-3:1", "--eps", "1e-3"],
                                  ["--metric", "unregularized", "--eps", "1e-2"]])
def test_bad_complexity_input_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["complexity", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1


def test_a_prediction_that_is_not_an_upper_bound_is_a_violation() -> None:
    """measure() runs the method for the predicted count; if KL is still above ε it is exit 1, not 2."""
    from nashproof.complexity_measure import measure
    from nashproof.errors import EXIT_VIOLATION, ViolationError

    game = load_game("cyclic:n=3,skew=1/2")
    result = complexity(beta="1/10", eps="1e-6", kl0=game_kl0(game, Fraction(1, 10)))
    honest = result.methods["nash-mp"].iterations
    assert honest is not None and honest > 3
    measure(game, result, max_steps=honest, digits=30)  # the true prediction holds
    result.methods["nash-mp"].iterations = 3  # far too optimistic: KL_3 > 1e-6 on this game
    with pytest.raises(ViolationError, match="NOT an upper bound") as info:
        measure(game, result, max_steps=honest, digits=30)
    assert info.value.exit_code == EXIT_VIOLATION
