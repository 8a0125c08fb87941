"""The ball backend (python-flint arb): enclosures checked against independent mpmath computations.

The references come from tests/_reference.py (hand-written mpmath, its own precision) or from the
mpmath backend at far more digits than the balls carry, so "contains" is a real test: the balls
are ~1e-40 wide and the references are accurate to ~1e-70.
"""

from __future__ import annotations

import json
import random
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp
from _reference import equilibrium_mp, exploitability_mp, kl_mp, mp_ctx, mpv, nash_mp_mp
from flint import arb, ctx

from nashproof.backends import balls, krawczyk, make_backend
from nashproof.backends.balls import BallBackend, CertificationError, to_arb
from nashproof.backends.float_newton import float_equilibrium
from nashproof.claims import KL, Catalogue, Claim, Expl_0, builtin_catalogue
from nashproof.cli import main
from nashproof.equilibrium import solve_equilibrium
from nashproof.families import load_game
from nashproof.metrics import evaluate
from nashproof.numeric import NumericGame
from nashproof.solvers import make_solver, run
from nashproof.suite import Task, run_task
from nashproof.verify import check_claim, collect

F = Fraction
EXACT_SOLVERS = ("nash-mp", "nash-md", "omd", "mmd", "extragradient", "proximal-point")

#: One cheap game of every family.
FAMILY_GAMES = [
    "cyclic:n=5,skew=1/3", "rps:skew=1/2", "transitive:n=4", "bradley-terry:scores=1+2+5/2",
    "random:n=6,seed=1,skew=1/2", "ties:n=4,skew=1/2", "disjoint-cycles:m=3,k=2,dominant=1,skew=2/3",
    "contextual:n=4,contexts=2,seed=3,skew=1/3",
]


def contains(ball: Any, value: Any) -> bool:
    """The ball contains the (much more precise) mpmath value."""
    return bool(to_arb(ball).contains(arb(value)))


@pytest.mark.parametrize("spec", FAMILY_GAMES)
def test_equilibrium_balls_contain_independent_solution(spec: str) -> None:
    game = load_game(spec)
    beta = F(1, 10)
    eq = solve_equilibrium(game, beta, BallBackend(40))
    assert eq.certified
    for c, ctx_ in enumerate(game.contexts):
        ref = equilibrium_mp(ctx_.preference, ctx_.reference, beta, 70)
        probs = eq.backend.exp(eq.logpi[c])
        for ball, value in zip(probs, ref, strict=True):
            assert contains(ball, value), (spec, c)
            assert balls.radius(ball) < 1e-40  # decides to the digits asked for


@pytest.mark.parametrize("spec", FAMILY_GAMES)
def test_nash_mp_trajectory_and_metrics_agree_with_mpmath_within_the_balls(spec: str) -> None:
    """The independent reference: hand-written mpmath Nash-MP at 80 digits lies inside every ball."""
    game = load_game(spec)
    beta, eta, steps = F(1, 10), F(2), 12
    b = BallBackend(40)
    traj = run(game, make_solver("nash-mp", beta, eta), steps, b)
    M = mp_ctx(80)
    for c, ctx_ in enumerate(game.contexts):
        pi = mpv(M, ctx_.reference)
        for k in range(steps + 1):
            for ball, value in zip(b.exp(traj.policies[k][c]), pi, strict=True):
                assert contains(ball, value), (spec, c, k)
            _, pi = nash_mp_mp(M, ctx_.preference, ctx_.reference, pi, eta, beta)
    # Metrics of the last iterate: KL(π*‖π_K) and Expl_β(π_K) against the reference formulas.
    eq = solve_equilibrium(game, beta, b)
    ng = NumericGame(game, b)
    m = evaluate(ng, traj.policies[-1], eq.logpi, b.scalar(beta))
    kls, expls = [], []
    for ctx_ in game.contexts:
        star = equilibrium_mp(ctx_.preference, ctx_.reference, beta, 70)
        pi = mpv(M, ctx_.reference)
        for _ in range(steps):
            _, pi = nash_mp_mp(M, ctx_.preference, ctx_.reference, pi, eta, beta)
        kls.append(kl_mp(M, mpv(M, star), pi) * M.mpf(ctx_.weight.numerator) / ctx_.weight.denominator)
        expls.append(exploitability_mp(M, ctx_.preference, ctx_.reference, pi, beta)
                     * M.mpf(ctx_.weight.numerator) / ctx_.weight.denominator)
    assert contains(m.kl, M.fsum(kls))
    assert contains(m.exploitability, M.fsum(expls))


@pytest.mark.parametrize("solver", EXACT_SOLVERS)
def test_every_solver_encloses_the_mpmath_backend(solver: str) -> None:
    """Each solver, written once, run in balls and in the mpmath backend at 90 digits: inside the balls."""
    game = load_game("contextual:n=4,contexts=2,seed=3,skew=1/3")
    s = make_solver(solver, F(1, 10))
    b = BallBackend(40)
    ball_traj = run(game, s, 8, b)
    mp_traj = run(game, s, 8, make_backend("mpmath", 90))
    for k in (1, 4, 8):
        for c in range(2):
            for ball, value in zip(ball_traj.policies[k][c], mp_traj.policies[k][c], strict=True):
                assert contains(ball, value), (solver, k, c)
                assert balls.radius(ball) < 1e-30


def test_vmax_encloses_the_max_over_every_point() -> None:
    rng = random.Random(4)
    b = BallBackend(30)
    v = np.array([arb(rng.uniform(-1, 1), rng.uniform(0, 0.3)) for _ in range(7)], dtype=object)
    hi, lo = b.vmax(v), b.vmin(v)
    for _ in range(300):  # brute force: sample points of the balls, their max and min lie inside
        pts = [float(x.mid()) + rng.uniform(-1, 1) * float(x.rad()) * 0.999 for x in v]
        assert hi.contains(arb(max(pts))) and lo.contains(arb(min(pts)))
    # and the enclosure is tight: its ends are the largest upper and lower ends
    assert abs(b.upper(hi) - max(b.upper(x) for x in v)) < 1e-8
    assert abs(b.lower(hi) - max(b.lower(x) for x in v)) < 1e-8


def test_logsumexp_encloses_mpmath() -> None:
    b = BallBackend(40)
    xs = [F(-700), F(3, 7), F(-1, 3), F(1000)]
    M = mp_ctx(80)
    ref = M.log(M.fsum(M.exp(x) for x in mpv(M, xs)))
    assert contains(b.logsumexp(b.vector(xs)), ref)


def test_printed_radius_covers_the_exact_value(capsys: pytest.CaptureFixture[str]) -> None:
    """Contract: "certified": true and "radius" with the shape of "policy"; printed ± radius holds π*."""
    rc = main(["equilibrium", "contextual:n=4,contexts=2,seed=3,skew=1/3", "--beta", "1/10", "--digits", "30",
               "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["certified"] is True and out["certificate"]["method"] == "certified"
    assert [len(r) for r in out["radius"]] == [len(p) for p in out["policy"]]
    game = load_game("contextual:n=4,contexts=2,seed=3,skew=1/3")
    M = mp_ctx(60)
    for c, ctx_ in enumerate(game.contexts):
        ref = equilibrium_mp(ctx_.preference, ctx_.reference, F(1, 10), 50)
        for text, rad, value in zip(out["policy"][c], out["radius"][c], ref, strict=True):
            assert abs(M.mpf(text) - value) <= M.mpf(rad)
            assert float(rad) < 1e-29


def test_failed_krawczyk_is_exit_4_one_line(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong Jacobian enclosure makes the Krawczyk test fail: no certificate, never a pass."""
    from flint import arb_mat

    # Both Krawczyk paths get a wrong Jacobian: J = 0 (balls) and an operator I − C·J bounded by 1 (floats).
    monkeypatch.setattr(krawczyk, "_ball_jacobian", lambda P, base, scale, X: arb_mat(len(X), len(X)))
    monkeypatch.setattr(krawczyk, "_krawczyk_spread_float", lambda Pf, C, scale, X, s, r: np.full(len(X), float(r)))
    with pytest.raises(CertificationError):
        solve_equilibrium(load_game("rps:skew=1/2"), F(1, 10), BallBackend(20))
    rc = main(["equilibrium", "rps:skew=1/2", "--beta", "1/10", "--digits", "20"])
    err = capsys.readouterr().err
    assert rc == 4 and err.count("\n") == 1 and err.startswith("error: Krawczyk test failed")


def test_ball_precision_out_of_range_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["equilibrium", "rps", "--beta", "1/10", "--digits", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: argument --digits:") and "[5, 100000]" in err, err


def _tiny_margin_catalogue() -> Catalogue:
    """Claims whose true margin (1e-80 relative) is far below the estimated path's rounding floor.

    TINY-*: the margin is one exact product (sympy combines the terms); DEEP-*: exp(log x + q) vs x,
    whose balls straddle until the precision exceeds about 270 bits.
    """
    q = sp.Rational(1, 10**80)
    cat = builtin_catalogue()
    for cid, rel in (("TINY-TRUE", sp.Le(Expl_0, Expl_0 * (1 + q))), ("TINY-FALSE", sp.Le(Expl_0 * (1 + q), Expl_0)),
                     ("DEEP-TRUE", sp.Le(Expl_0, sp.exp(sp.log(Expl_0) + q))),
                     ("DEEP-FALSE", sp.Le(sp.exp(sp.log(Expl_0) + q), Expl_0))):
        cat.add(Claim(cid, "margin 1e-80", "bound", "exploitability_unreg", (rel,), (), ("nash-mp",), "E", "test"))
    return cat


TINY = ("TINY-TRUE", "TINY-FALSE", "DEEP-TRUE", "DEEP-FALSE")


def test_margin_below_the_rounding_floor_is_decided() -> None:
    cat = _tiny_margin_catalogue()
    task = Task("cyclic:n=3,skew=1/2", F(1, 10), "nash-mp", F(2), 3, 40, TINY)
    verdicts = run_task(task, cat)
    assert [v.status for v in verdicts] == ["pass", "violated", "pass", "violated"]
    assert {v.method for v in verdicts} == {"certified"}
    assert "retried" not in verdicts[0].note and "retried" in verdicts[2].note  # DEEP needed more bits
    # The estimated path: the margin q·Expl_0 is below its error estimates except where the statement
    # simplifies exactly (k = 0); whatever it decides must be on the right side (never equality).
    est = run_task(Task(**{**task.__dict__, "claims": TINY[:2], "method": "estimated"}), cat)
    assert est[0].status in ("pass", "inconclusive") and est[1].status in ("violated", "inconclusive")


def test_straddling_balls_are_inconclusive_with_the_precision_needed() -> None:
    cat = _tiny_margin_catalogue()
    data = collect(load_game("cyclic:n=3,skew=1/2"), make_solver("nash-mp", F(1, 10), F(2)), 3, 40, backend="arb")
    for cid in ("DEEP-TRUE", "DEEP-FALSE"):
        v = check_claim(cat.get(cid), data)
        assert v.status == "inconclusive" and v.needed_digits is not None and v.needed_digits >= 60


def test_step_claims_are_certified_at_exact_points_and_bounds_on_the_trajectory() -> None:
    data = collect(load_game("cyclic:n=5,skew=1/3"), make_solver("nash-mp", F(1, 10), F(2)), 120, 30,
                   backend="arb")
    cat = builtin_catalogue()
    step = check_claim(cat.get("NMP-KL-STEP"), data)
    bound = check_claim(cat.get("NMP-KL"), data)
    assert step.status == bound.status == "pass"
    assert step.certified_at is not None and "exactly represented points" in step.certified_at
    assert bound.certified_at == "exact trajectory"
    assert step.evaluated == "k = 0..119 (each at an exactly represented point)"  # no growth: every k
    # The certified run raised its precision with the horizon (about 3 bits per iteration).
    assert data.balls is not None and data.balls.bits >= 400


def test_step_claim_violation_is_certain() -> None:
    """NMP-KL-STEP beyond η̄(β) (hypotheses ignored) is violated for every point of the balls."""
    data = collect(load_game("rps:skew=1/2"), make_solver("nash-mp", F(1, 20), F(8)), 30, 30, backend="arb")
    v = check_claim(builtin_catalogue().get("NMP-KL-STEP"), data, ignore_hypotheses=True)
    est = collect(load_game("rps:skew=1/2"), make_solver("nash-mp", F(1, 20), F(8)), 30, 30)
    v_est = check_claim(builtin_catalogue().get("NMP-KL-STEP"), est, ignore_hypotheses=True)
    assert v.status == v_est.status == "violated" and v.method == "certified" and v_est.method == "estimated"
    assert v.first_k == v_est.first_k


def test_every_output_carries_the_method(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junit = tmp_path / "r.xml"
    argv = ["check", "--game", "rps:skew=1/2", "--solver", "nash-mp", "--beta", "1/10", "--steps", "10",
            "--digits", "20", "--claim", "NMP-KL-STEP", "--claim", "NMP-KL", "--json", "--junit", str(junit)]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert {v["method"] for v in out["verdicts"]} == {"certified"}
    assert all(s["method"] == "certified" for s in out["summary"])
    props = [p.get("value") for p in ET.parse(junit).getroot().iter("property") if p.get("name") == "method"]
    assert props == ["certified", "certified"]
    assert main([*argv[:-3], "--method", "estimated", "--json"]) == 0
    assert {v["method"] for v in json.loads(capsys.readouterr().out)["verdicts"]} == {"estimated"}


def test_nmp_dim_certified_small_sizes() -> None:
    from nashproof.verify import check_dimension_certified

    v = check_dimension_certified(builtin_catalogue().get("NMP-DIM"), "cyclic:n={n},skew=1/2", [3, 4, 8],
                                  F(1, 10), F(2), 15, 20)
    assert v.status == "pass" and v.method == "certified"
    rows: Any = v.extra["sizes"]
    assert all(r["backend"] == "arb" and 0 < float(r["worst_step_ratio"]) <= 1 for r in rows)


def test_backend_precision_is_restored_after_a_scoped_block() -> None:
    before = ctx.prec
    with balls.precision(300):
        assert ctx.prec == 300
    assert ctx.prec == before
    assert KL.is_nonnegative  # the symbols the certified printer reads keep their assumptions


def test_float_krawczyk_bound_covers_sampled_points() -> None:
    """The float64 bound on (I − C·J(y))(y − x̃) holds at sampled y of the box, computed in mpmath."""
    game = load_game("random:n=6,seed=1,skew=1/2")
    ctx_ = game.contexts[0]
    beta = F(1, 10)
    Pf = balls.float_matrix(ctx_.preference)
    logref = np.log(np.array([float(r) for r in ctx_.reference]))
    xt = float_equilibrium(Pf, logref, 10.0)
    with balls.precision(128):
        b = BallBackend(30, 128)
        P = b.matrix(ctx_.preference).arb_mat()
        base = b.log(b.vector(ctx_.reference))
        scale = to_arb(1 / beta)
        x = balls.vec([arb(float(t)) for t in xt])
        _, C = krawczyk._inverse_jacobian(P, Pf, base, scale, x, 53)
        assert C is not None
        r = 1e-6
        X = balls.vec([arb(float(t), r) for t in xt])
        S = krawczyk._krawczyk_spread_float(Pf, C, scale, X, krawczyk._softmax_balls(P, base, scale, X), r)
    assert np.all(S < r)  # a contraction: the test can succeed
    M = mp_ctx(50)
    rng = random.Random(1)
    Pm = [mpv(M, row) for row in ctx_.preference]
    lref = [M.log(v) for v in mpv(M, ctx_.reference)]
    for _ in range(20):
        y = [M.mpf(float(t)) + M.mpf(rng.uniform(-r, r)) for t in xt]
        pi = [M.exp(t) for t in y]
        z = [lr + 10 * M.fsum(p * q for p, q in zip(row, pi)) for lr, row in zip(lref, Pm)]
        mx = max(z)
        e = [M.exp(t - mx) for t in z]
        s = [t / M.fsum(e) for t in e]
        A = [[10 * Pm[i][j] * pi[j] for j in range(6)] for i in range(6)]
        g = [M.fsum(s[i] * A[i][j] for i in range(6)) for j in range(6)]
        J = [[(1 if i == j else 0) - A[i][j] + g[j] for j in range(6)] for i in range(6)]
        CJ = [[M.fsum(M.mpf(C[i][k]) * J[k][j] for k in range(6)) for j in range(6)] for i in range(6)]
        v = [M.fsum(((1 if i == j else 0) - CJ[i][j]) * (y[j] - M.mpf(float(xt[j]))) for j in range(6))
             for i in range(6)]
        assert all(abs(v[i]) <= S[i] for i in range(6))


def test_run_json_in_balls_gives_radii_that_cover_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    """`run --backend arb`: every metric has a radius; the hand-written mpmath KL lies within it."""
    assert main(["run", "rps:skew=1/2", "--solver", "nash-mp", "--beta", "1/10", "--eta", "2", "--steps", "40",
                 "--backend", "arb", "--digits", "30", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    game = load_game("rps:skew=1/2")
    ctx_ = game.contexts[0]
    M = mp_ctx(80)
    star = mpv(M, equilibrium_mp(ctx_.preference, ctx_.reference, F(1, 10), 70))
    pi = mpv(M, ctx_.reference)
    for k, row in enumerate(out["iterations"]):
        if k % 10 == 0:
            value = kl_mp(M, star, pi)
            shown_, rad = M.mpf(row["kl"]), M.mpf(row["radius"]["kl"])
            assert abs(shown_ - value) <= rad + abs(value) * M.mpf(10) ** -29  # ball + printing to 30 digits
            assert rad <= abs(value) * M.mpf(10) ** -18  # and narrow: the horizon's growth was paid for
        _, pi = nash_mp_mp(M, ctx_.preference, ctx_.reference, pi, F(2), F(1, 10))


def test_certified_equilibrium_with_a_reference_entry_below_float64() -> None:
    """π_ref ∝ (1, 1e-330, 1e-660) underflows float64; the certified start must still be finite."""
    game = load_game("rps:skew=1e-330")
    eq = solve_equilibrium(game, Fraction(1, 10), make_backend("arb", 30))
    ref = solve_equilibrium(game, Fraction(1, 10), make_backend("mpmath", 40))
    for lb, lm in zip(eq.logpi[0], ref.logpi[0]):
        assert abs(float(lb.mid()) - float(lm)) <= 1e-25 * max(1.0, abs(float(lm)))
