"""π*_β, the von Neumann winner and the metrics, against independent computations."""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pytest
from _reference import (
    best_response_value,
    equilibrium_mp,
    exploitability_mp,
    kl_mp,
    matvec,
    mp_ctx,
    mpv,
)
from hypothesis import given, settings
from scipy.optimize import linprog
from strategies import games

from nashproof.backends import FloatBackend, MpmathBackend
from nashproof.equilibrium import solve_equilibrium, verify_von_neumann_winner, von_neumann_winner
from nashproof.errors import InputError
from nashproof.families import build_family
from nashproof.games import Context, Game
from nashproof.metrics import evaluate, exploitability, utility
from nashproof.numeric import NumericGame

F = Fraction
BETAS = st.sampled_from([F(1, 20), F(1, 5), F(1, 2), F(1), F(3)])


def random_policy(rng: random.Random, n: int) -> tuple[Fraction, ...]:
    raw = [rng.randint(1, 30) for _ in range(n)]
    return tuple(F(r, sum(raw)) for r in raw)


def float_matrix(rows: Any) -> np.ndarray:
    return np.array([[float(x) for x in row] for row in rows], dtype=np.float64)


# ------------------------------------------------------------------------ exploitability


@settings(max_examples=50, deadline=None)
@given(games(max_n=5, max_contexts=2), BETAS, st.integers(0, 10**6))
def test_exploitability_zero_at_equilibrium_positive_elsewhere(game: Game, beta: Fraction, seed: int) -> None:
    b = MpmathBackend(30)
    eq = solve_equilibrium(game, beta, b)
    ng = NumericGame(game, b)
    bs = b.scalar(beta)
    M = mp_ctx(60)
    rng = random.Random(seed)
    for c, ctx in enumerate(game.contexts):
        at_star = exploitability(ng, c, eq.logpi[c], bs)
        assert abs(at_star) < 1e-25
        for _ in range(3):
            pi = random_policy(rng, game.n)
            lp = ng.policy_from_fractions([pi] * ng.k)[c]
            e = exploitability(ng, c, lp, bs)
            assert e >= -1e-27  # ≥ 0 up to rounding at 30 digits (π may equal π* exactly, e.g. in ties games)
            # Same number from the hand-written formula, from the exact policy.
            assert abs(M.mpf(e) - exploitability_mp(M, ctx.preference, ctx.reference, mpv(M, pi), beta)) < 1e-25
    assert abs(eq.certificate.exploitability) < 1e-25


@settings(max_examples=30, deadline=None)
@given(games(max_n=4, max_contexts=2), st.sampled_from([F(1, 5), F(1, 2), F(2)]), st.integers(0, 10**6))
def test_exploitability_closed_form_against_brute_force(game: Game, beta: Fraction, seed: int) -> None:
    """Expl_β(π) + ½ = max_π' J_β(π', π), the max taken numerically by scipy over the simplex."""
    b = MpmathBackend(20)
    ng = NumericGame(game, b)
    rng = random.Random(seed)
    for c, ctx in enumerate(game.contexts):
        pi = random_policy(rng, game.n)
        lp = ng.policy_from_fractions([pi] * ng.k)[c]
        closed = float(exploitability(ng, c, lp, b.scalar(beta))) + 0.5
        brute = best_response_value(float_matrix(ctx.preference), np.array([float(r) for r in ctx.reference]),
                                    np.array([float(p) for p in pi]), float(beta))
        assert closed == pytest.approx(brute, abs=1e-9)


def test_exploitability_unregularized_against_hand() -> None:
    game = build_family("contextual:n=4,contexts=2,skew=1/2")
    b = MpmathBackend(30)
    ng = NumericGame(game, b)
    pi = random_policy(random.Random(1), 4)
    star = solve_equilibrium(game, F(1, 4), b)
    m = evaluate(ng, ng.policy_from_fractions([pi, pi]), star.logpi, b.scalar(F(1, 4)))
    expect = sum(
        ctx.weight * (max(sum(P_ij * p for P_ij, p in zip(row, pi, strict=True)) for row in ctx.preference) - F(1, 2))
        for ctx in game.contexts
    )
    assert abs(m.exploitability_unreg - b.scalar(expect)) < 1e-28


# ---------------------------------------------------------------------------- π*_β precision

PRECISION_CASES = [
    ("contextual:n=4,contexts=3,skew=1/2", F(1, 10)),
    ("cyclic:n=5,skew=1/3", F(1, 50)),
    ("random:n=5,seed=2,skew=1/2", F(1)),
    ("bradley-terry:scores=1+2+5/2+7,skew=2", F(3)),
]


@pytest.mark.parametrize(("spec", "beta"), PRECISION_CASES)
def test_equilibrium_60_digits(spec: str, beta: Fraction) -> None:
    game = build_family(spec)
    e60 = solve_equilibrium(game, beta, MpmathBackend(60))
    e90 = solve_equilibrium(game, beta, MpmathBackend(90))
    assert e60.certificate.correct_digits >= 55
    M = mp_ctx(100)
    for c, ctx in enumerate(game.contexts):
        p60 = [M.mpf(x) for x in e60.probs()[c]]
        p90 = [M.mpf(x) for x in e90.probs()[c]]
        assert max(abs(x - y) for x, y in zip(p60, p90, strict=True)) < 1e-55
        assert max(abs(M.mpf(x) - M.mpf(y)) for x, y in zip(e60.logpi[c], e90.logpi[c], strict=True)) < 1e-55
        # Independent: mpmath.findroot on the fixed-point equations, from a hand-written Nash-MP start.
        ref = equilibrium_mp(ctx.preference, ctx.reference, beta, 70)
        assert max(abs(x - y) for x, y in zip(p90, ref, strict=True)) < 1e-60
        assert max(abs(x - y) for x, y in zip(p60, ref, strict=True)) < 1e-55


@pytest.mark.parametrize(("spec", "beta"), [("rps:skew=1/3", F(1)), ("contextual:n=4,contexts=2,skew=1/2", F(2))])
def test_equilibrium_by_plain_fixed_point_iteration(spec: str, beta: Fraction) -> None:
    """For β ≥ 1 the map π ↦ normalize(π_ref exp(Pπ/β)) contracts: iterate it by hand to 60 digits."""
    game = build_family(spec)
    eq = solve_equilibrium(game, beta, MpmathBackend(60))
    M = mp_ctx(80)
    for c, ctx in enumerate(game.contexts):
        ref = mpv(M, ctx.reference)
        pi = list(ref)
        for _ in range(3000):
            q = matvec(M, ctx.preference, pi)
            w = [r * M.exp(qi / beta) for r, qi in zip(ref, q, strict=True)]
            new = [x / M.fsum(w) for x in w]
            done = max(abs(x - y) for x, y in zip(new, pi, strict=True)) < M.mpf(10) ** -75
            pi = new
            if done:
                break
        else:
            pytest.fail("the hand iteration did not converge")
        assert max(abs(M.mpf(x) - y) for x, y in zip(eq.probs()[c], pi, strict=True)) < 1e-55


def test_equilibrium_float_backend_agrees() -> None:
    game = build_family("contextual:n=5,contexts=2,skew=1/3")
    beta = F(1, 10)
    ef = solve_equilibrium(game, beta, FloatBackend())
    em = solve_equilibrium(game, beta, MpmathBackend(30))
    for c in range(2):
        assert max(abs(float(x) - float(y)) for x, y in zip(ef.probs()[c], em.probs()[c], strict=True)) < 1e-12


@pytest.mark.parametrize("beta", [F(0), F(-1, 10)])
def test_equilibrium_rejects_nonpositive_beta(beta: Fraction) -> None:
    with pytest.raises(InputError):
        solve_equilibrium(build_family("rps"), beta, MpmathBackend(20))


def test_uniform_reference_rps_equilibrium_is_uniform() -> None:
    """The spec's pitfall: cyclic tournaments with uniform π_ref have π* = π_ref, so KL_0 = 0."""
    game = build_family("cyclic:n=5")
    eq = solve_equilibrium(game, F(1, 10), MpmathBackend(40))
    assert max(abs(x - F(1, 5)) for x in eq.probs()[0]) < 1e-38


# ------------------------------------------------------------- sandwich, identity, symmetry


@settings(max_examples=60, deadline=None)
@given(games(max_n=5, max_contexts=2), BETAS, st.integers(0, 10**6))
def test_expl_sandwich_and_identity(game: Game, beta: Fraction, seed: int) -> None:
    b = MpmathBackend(40)
    eq = solve_equilibrium(game, beta, b)
    ng = NumericGame(game, b)
    bs = b.scalar(beta)
    M = mp_ctx(40)
    rng = random.Random(seed)
    tol = 1e-30
    for c, ctx in enumerate(game.contexts):
        star = [M.mpf(x) for x in eq.probs()[c]]
        ref = mpv(M, ctx.reference)
        for _ in range(3):
            pi_f = random_policy(rng, game.n)
            pi = mpv(M, pi_f)
            expl = M.mpf(exploitability(ng, c, ng.policy_from_fractions([pi_f] * ng.k)[c], bs))
            kl_pi_star = kl_mp(M, pi, star)
            l1 = M.fsum(abs(x - y) for x, y in zip(pi, star, strict=True))
            # EXPL-SANDWICH [D]
            assert beta * kl_pi_star <= expl + tol
            assert expl <= beta * kl_pi_star + l1**2 / (8 * beta) + tol
            # β[KL(π‖ref) − KL(π*‖ref)] = β KL(π‖π*) + P(π ≻ π*) − ½
            pref = M.fsum(p * q for p, q in zip(pi, matvec(M, ctx.preference, star), strict=True))
            lhs = beta * (kl_mp(M, pi, ref) - kl_mp(M, star, ref))
            rhs = beta * kl_pi_star + pref - M.mpf(1) / 2
            assert abs(lhs - rhs) < tol


@settings(max_examples=40, deadline=None)
@given(games(max_n=5, max_contexts=2), BETAS, st.integers(0, 10**6))
def test_utility_symmetry(game: Game, beta: Fraction, seed: int) -> None:
    b = MpmathBackend(30)
    ng = NumericGame(game, b)
    bs = b.scalar(beta)
    M = mp_ctx(50)
    rng = random.Random(seed)
    for c, ctx in enumerate(game.contexts):
        p_f, q_f = random_policy(rng, game.n), random_policy(rng, game.n)
        lp = ng.policy_from_fractions([p_f] * ng.k)[c]
        lq = ng.policy_from_fractions([q_f] * ng.k)[c]
        j_pq = utility(ng, c, lp, lq, bs)
        j_qp = utility(ng, c, lq, lp, bs)
        assert abs(j_pq + j_qp - 1) < 1e-27
        assert abs(utility(ng, c, lp, lp, bs) - b.scalar("0.5")) < 1e-27
        # Against the definition J_β(π,π') = πᵀPπ' − βKL(π‖ref) + βKL(π'‖ref), in exact-then-mpmath terms.
        p, q, ref = mpv(M, p_f), mpv(M, q_f), mpv(M, ctx.reference)
        pref = mpv(M, [sum(pi * sum(P_ij * qj for P_ij, qj in zip(row, q_f, strict=True))
                           for pi, row in zip(p_f, ctx.preference, strict=True))])[0]
        expect = pref - beta * kl_mp(M, p, ref) + beta * kl_mp(M, q, ref)
        assert abs(M.mpf(j_pq) - expect) < 1e-27


@settings(max_examples=20, deadline=None)
@given(games(max_n=5, max_contexts=1), BETAS, st.integers(0, 10**6))
def test_equilibrium_is_a_symmetric_nash_equilibrium(game: Game, beta: Fraction, seed: int) -> None:
    b = MpmathBackend(30)
    eq = solve_equilibrium(game, beta, b)
    ng = NumericGame(game, b)
    bs = b.scalar(beta)
    rng = random.Random(seed)
    assert abs(utility(ng, 0, eq.logpi[0], eq.logpi[0], bs) - b.scalar("0.5")) < 1e-27
    for _ in range(5):
        dev = ng.policy_from_fractions([random_policy(rng, game.n)])[0]
        assert utility(ng, 0, dev, eq.logpi[0], bs) <= b.scalar("0.5") + b.scalar("1e-27")


def test_evaluate_fields_against_hand() -> None:
    game = build_family("contextual:n=4,contexts=3,skew=1/2")
    beta = F(1, 5)
    b = MpmathBackend(40)
    eq = solve_equilibrium(game, beta, b)
    ng = NumericGame(game, b)
    rng = random.Random(4)
    pol = [random_policy(rng, 4) for _ in range(3)]
    m = evaluate(ng, ng.policy_from_fractions(pol), eq.logpi, b.scalar(beta))
    M = mp_ctx(60)
    per = []
    for c, ctx in enumerate(game.contexts):
        pi = mpv(M, pol[c])
        star = [M.mpf(x) for x in eq.probs()[c]]
        logdiff = [M.log(x) - M.log(y) for x, y in zip(pi, star, strict=True)]
        per.append({
            "kl": kl_mp(M, star, pi),
            "kl_reverse": kl_mp(M, pi, star),
            "l1": M.fsum(abs(x - y) for x, y in zip(pi, star, strict=True)),
            "exploitability": exploitability_mp(M, ctx.preference, ctx.reference, pi, beta),
            "span": max(logdiff) - min(logdiff),
        })
    w = mpv(M, [c.weight for c in game.contexts])
    for key in ("kl", "kl_reverse", "l1", "exploitability"):
        expect = M.fsum(wc * r[key] for wc, r in zip(w, per, strict=True))
        assert abs(M.mpf(m.get(key)) - expect) < 1e-35, key
    assert abs(M.mpf(m.gap) - 2 * M.mpf(m.exploitability)) < 1e-35
    assert abs(M.mpf(m.span) - max(r["span"] for r in per)) < 1e-35
    assert abs(M.mpf(m.span_avg) - M.fsum(wc * r["span"] for wc, r in zip(w, per, strict=True))) < 1e-35
    # KL is not symmetric here, so the two directions cannot have been swapped unnoticed.
    assert abs(per[0]["kl"] - per[0]["kl_reverse"]) > 1e-6


def test_exploitability_accurate_for_large_beta() -> None:
    """Expl_β must keep its accuracy when β is large (no catastrophic cancellation in β·log Σ …).

    At 30 working digits we ask for only 6 correct significant digits.
    """
    game = build_family("rps:skew=1/2")
    b = MpmathBackend(30)
    ng = NumericGame(game, b)
    ctx = game.contexts[0]
    M = mp_ctx(200)
    for beta in (F(10**6), F(10**20)):
        e = exploitability(ng, 0, ng.logref[0], b.scalar(beta))
        truth = exploitability_mp(M, ctx.preference, ctx.reference, mpv(M, ctx.reference), beta)
        assert truth > 0
        assert abs(M.mpf(e) - truth) <= 1e-6 * truth, (beta, e, truth)


# ---------------------------------------------------------------------------- β = 0


def linprog_value(ctx: Context) -> tuple[float, np.ndarray]:
    """max_π min_j P(π ≻ y_j) by scipy: variables (π, v), maximise v s.t. v ≤ Σ_i π_i P_ij."""
    P = float_matrix(ctx.preference)
    n = len(P)
    c = np.zeros(n + 1)
    c[-1] = -1.0
    A_ub = np.hstack([-P.T, np.ones((n, 1))])
    A_eq = np.hstack([np.ones((1, n)), np.zeros((1, 1))])
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(n), A_eq=A_eq, b_eq=[1.0],
                  bounds=[(0, None)] * n + [(None, None)], method="highs")
    assert res.status == 0
    return -res.fun, res.x[:n]


def is_exact_winner(ctx: Context, pi: tuple[Fraction, ...]) -> bool:
    """min_j P(π ≻ y_j) ≥ ½, computed from the columns, in exact rational arithmetic."""
    n = len(pi)
    if any(p < 0 for p in pi) or sum(pi) != 1:
        return False
    return all(sum(pi[i] * ctx.preference[i][j] for i in range(n)) >= F(1, 2) for j in range(n))


@settings(max_examples=100, deadline=None)
@given(games(max_n=7, max_contexts=2))
def test_von_neumann_winner_against_linprog(game: Game) -> None:
    for ctx in game.contexts:
        value, _ = linprog_value(ctx)
        assert value == pytest.approx(0.5, abs=1e-9)
        pi = von_neumann_winner(ctx)
        assert all(isinstance(p, Fraction) for p in pi)
        assert is_exact_winner(ctx, pi)
        # Its guaranteed value equals the LP optimum.
        guaranteed = min(sum(pi[i] * ctx.preference[i][j] for i in range(game.n)) for j in range(game.n))
        assert guaranteed == F(1, 2)


def test_verify_von_neumann_winner_rejects_non_winners() -> None:
    ctx = build_family("rps").contexts[0]
    assert verify_von_neumann_winner(ctx, (F(1, 3),) * 3)
    assert not verify_von_neumann_winner(ctx, (F(1), F(0), F(0)))
    assert not verify_von_neumann_winner(ctx, (F(1, 2), F(1, 2), F(1, 2)))
    assert not verify_von_neumann_winner(ctx, (F(2), F(-1), F(0)))
    tr = build_family("transitive:n=3").contexts[0]
    assert von_neumann_winner(tr) == (F(1), F(0), F(0))


def winner_is_unique(ctx: Context) -> bool:
    """Min and max of every coordinate over the winner polytope {π ≥ 0, Σπ = 1, Pπ ≤ ½} coincide."""
    P = float_matrix(ctx.preference)
    n = len(P)
    for i in range(n):
        vals = []
        for sign in (1.0, -1.0):
            c = np.zeros(n)
            c[i] = sign
            res = linprog(c, A_ub=P, b_ub=np.full(n, 0.5), A_eq=np.ones((1, n)), b_eq=[1.0],
                          bounds=[(0, None)] * n, method="highs")
            assert res.status == 0
            vals.append(sign * res.fun)
        if abs(vals[0] - vals[1]) > 1e-9:
            return False
    return True


def _unique_winner_specs() -> list[str]:
    specs = ["cyclic:n=3,skew=1/3", "cyclic:n=5,skew=1/2", "cyclic:n=7,skew=2/3", "transitive:n=4,skew=1/2",
             "disjoint-cycles:m=3,k=2,dominant=1,skew=1/2"]
    found = 0
    for seed in range(40):
        spec = f"random:n=5,seed={seed},denominator=6,skew=1/2"
        if winner_is_unique(build_family(spec).contexts[0]):
            specs.append(spec)
            found += 1
        if found == 3:
            break
    return specs


UNIQUE_WINNER_SPECS = _unique_winner_specs()


def test_enough_unique_winner_games() -> None:
    assert len(UNIQUE_WINNER_SPECS) == 8
    assert not winner_is_unique(build_family("ties:n=3").contexts[0])


@pytest.mark.parametrize("spec", UNIQUE_WINNER_SPECS)
def test_small_beta_equilibrium_approaches_the_winner(spec: str) -> None:
    game = build_family(spec)
    ctx = game.contexts[0]
    w = von_neumann_winner(ctx)
    b = MpmathBackend(30)

    def dist(beta: Fraction) -> float:
        probs = solve_equilibrium(game, beta, b).probs()[0]
        return sum(abs(float(p) - float(x)) for p, x in zip(probs, w, strict=True))

    near = dist(F(1, 10**4))
    assert near < 1e-2
    # And the limit is approached: much closer than at a moderate β when the reference is not the winner.
    far = dist(F(1, 2))
    assert far > 1e-2
    assert near < far / 10


@pytest.mark.parametrize("seed", [19, 3])
def test_small_beta_continuation_converges(seed: int) -> None:
    """Regression: β = 1/1000 on a 10-action random game once stalled in the float continuation."""
    from nashproof.numeric import NumericGame as NG

    game = build_family(f"random:n=10,seed={seed},denominator=1000000,skew=1/10")
    b = MpmathBackend(40)
    eq = solve_equilibrium(game, F(1, 1000), b)
    assert eq.certificate.residual < 1e-45
    ng = NG(game, b)
    pi = b.exp(eq.logpi[0])
    target = b.log_normalize(ng.logref[0] + (ng.P[0] @ pi) * 1000)  # π ∝ π_ref exp(Pπ/β), checked directly
    assert max(abs(float(t)) for t in target - eq.logpi[0]) < 1e-35


# ------------------------------------------------------------- issue 13/14: robustness and speed paths


def test_simplified_newton_polish_agrees_with_findroot_at_100_digits() -> None:
    """The O(n²) polish (float64 Jacobian inverse, multiprecision residuals) against mpmath.findroot."""
    game = build_family("random:n=12,seed=4,skew=1/2")
    eq = solve_equilibrium(game, F(1, 20), MpmathBackend(100))
    ctx = game.contexts[0]
    ref = equilibrium_mp(ctx.preference, ctx.reference, F(1, 20), 100)
    assert max(abs(p - r) for p, r in zip(eq.probs()[0], ref, strict=True)) < 1e-98
    assert eq.certificate.correct_digits == 100 and 0 <= eq.certificate.last_step < 1e-20


def test_line_search_is_bounded_on_a_nan_residual() -> None:
    """A NaN residual once made the line search loop forever; now it fails with a SolverError."""
    from nashproof.equilibrium import softmax_fixed_point
    from nashproof.errors import SolverError

    fb = FloatBackend()
    P = np.array([[0.5, 1.0], [0.0, 0.5]])
    with pytest.raises(SolverError, match="not finite"):
        softmax_fixed_point(fb, P, np.array([np.nan, 0.0]), np.float64(10), np.array([-1.0, -1.0]))


@pytest.mark.parametrize("backend", ["float", "mpmath"])
def test_reference_entry_below_float_range(backend: str) -> None:
    """π_ref entry 1e-330 (below float64's range) once hung both backends; log π_ref stays finite."""
    from nashproof.backends import make_backend
    from nashproof.games import single

    tiny = F(1, 10**330)
    game = single([[F(1, 2), F(1), F(0)], [F(0), F(1, 2), F(1)], [F(1), F(0), F(1, 2)]],
                  [F(1, 2), F(1, 2) - tiny, tiny])
    eq = solve_equilibrium(game, F(1, 10), make_backend(backend, 30))
    assert all(np.isfinite(float(x)) for x in eq.logpi[0])
    # Independent: π ∝ π_ref exp(Pπ/β) in exact-enough arithmetic, checked at 60 digits.
    b = MpmathBackend(60)
    pi = b.exp(b.convert(eq.logpi[0]))
    ng = NumericGame(game, b)
    target = b.log_normalize(ng.logref[0] + (ng.P[0] @ pi) * 10)
    assert max(abs(float(t)) for t in target - b.convert(eq.logpi[0])) < (1e-10 if backend == "float" else 1e-25)


@pytest.mark.parametrize("spec, beta", [("rps:skew=1/2", F(1, 10**9)), ("cyclic:n=5,skew=1/3", F(1, 10**7)),
                                        ("random:n=6,seed=1", F(1, 10**9))])
def test_documented_small_beta_end_holds(spec: str, beta: Fraction) -> None:
    """β down to 1e-9 (the documented range) once stalled at 1/β ≈ 4e6: π* is near the exact
    von Neumann winner and is a fixed point to the working precision."""
    game = build_family(spec)
    b = MpmathBackend(20)
    eq = solve_equilibrium(game, beta, b)
    probs = eq.probs()[0]
    w = von_neumann_winner(game.contexts[0])
    assert sum(abs(float(p) - float(x)) for p, x in zip(probs, w, strict=True)) < 1e-5
    assert eq.certificate.correct_digits == 20 and 0 <= eq.certificate.last_step < 1


def test_digits_range_is_the_users_and_guard_digits_may_exceed_it() -> None:
    from nashproof.backends import make_backend, working_backend

    assert make_backend("mpmath", 100_000).digits == 100_000
    assert working_backend(150_000).digits == 150_000  # D + G for D = 100000
    with pytest.raises(InputError, match="got 100001"):
        make_backend("mpmath", 100_001)


def test_float_matrix_is_float_of_each_fraction() -> None:
    from nashproof.backends import float_matrix

    rng = random.Random(5)
    rows = [[F(rng.randint(0, 10**6), rng.randint(1, 10**6)) for _ in range(7)] for _ in range(5)]
    assert np.array_equal(float_matrix(rows), float_matrix_reference(rows))
    huge = [[F(1, 3**60), F(2**70 + 1, 2**71)], [F(0), F(1)]]  # beyond 2⁵³
    assert np.array_equal(float_matrix(huge), float_matrix_reference(huge))
    third = F(1, 3)  # one object shared by many entries, as in family games, next to equal copies
    shared = [[third, F(1, 3), F(2, 3)], [third, third, F(1, 2)]]
    assert np.array_equal(float_matrix(shared), float_matrix_reference(shared))


def float_matrix_reference(rows: Any) -> np.ndarray:
    return np.array([[float(x) for x in row] for row in rows])


def test_nonnegative_metric_shown_without_a_minus_sign() -> None:
    from nashproof.metrics import shown

    ng = NumericGame(build_family("rps"), FloatBackend())
    assert shown(ng, "kl", np.float64(-8.5e-22), 1e-13, 12) == ("< 1e-13", "0")
    assert shown(ng, "kl", np.float64(3e-20), 1e-13, 12)[1] == "3e-20"
    assert shown(ng, "kl", np.float64(-1e-3), 1e-13, 12)[0].startswith("-")  # beyond rounding: shown as is
    assert shown(ng, "exploitability_unreg", np.float64(-1e-20), 1e-13, 12)[1] == "0"


def test_numeric_game_is_built_once_per_game_and_backend() -> None:
    from nashproof.numeric import numeric_game

    game, other = build_family("random:n=20,seed=1"), build_family("random:n=20,seed=2")
    a = numeric_game(game, FloatBackend())
    assert numeric_game(game, FloatBackend()) is a and numeric_game(other, FloatBackend()) is not a
    mp1, mp2 = MpmathBackend(20), MpmathBackend(20)
    assert numeric_game(game, mp1) is numeric_game(game, mp1) is not numeric_game(game, mp2)
    assert np.array_equal(a.P[0], float_matrix_reference(game.contexts[0].preference))


# ------------------------------------------------- float64 reductions: the same values as Python's builtins


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([0.0, -0.0, 1e-320, -2.5, 3.0, 1e300, -1e300, 7e-3]) | st.floats(-1e6, 1e6),
                min_size=1, max_size=40))
def test_float_reductions_equal_pythons_sum_max_min_bit_for_bit(xs: list[float]) -> None:
    """The metrics' float64 fast paths (numpy running sum, ufunc max/min) against ``sum``/``max``/``min``
    over the same elements, signed zeros included (the outputs print them)."""
    from nashproof.metrics import max_abs, ordered_sum

    v, b = np.array(xs, dtype=np.float64), FloatBackend()
    for got, want in ((ordered_sum(v), sum(v)), (b.vmax(v), max(v)), (b.vmin(v), min(v)),
                      (max_abs(v), max(abs(float(x)) for x in v))):
        assert np.float64(got).tobytes() == np.float64(want).tobytes(), (xs, got, want)
