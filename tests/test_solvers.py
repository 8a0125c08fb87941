"""Solvers: closed-form steps against direct maximisation, fixed points, equivalences, query counts."""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pytest
from _reference import (
    argmax_on_simplex,
    kl_mp,
    matvec,
    mp_ctx,
    mpv,
    normalize_logs,
    proximal_objective,
)
from hypothesis import assume, given, settings
from strategies import games

from nashproof.backends import FloatBackend, MpmathBackend
from nashproof.equilibrium import solve_equilibrium
from nashproof.errors import InputError, SolverError
from nashproof.families import build_family
from nashproof.games import Game
from nashproof.numeric import LogPolicy, NumericGame, Oracle
from nashproof.solvers import (
    MMD,
    OMD,
    SOLVERS,
    Extragradient,
    NashMD,
    NashMP,
    ProximalPoint,
    Solver,
    Step,
    make_solver,
    run,
)
from nashproof.solvers.inexact import InexactSolver

F = Fraction


def random_policy(rng: random.Random, n: int) -> tuple[Fraction, ...]:
    raw = [rng.randint(1, 30) for _ in range(n)]
    return tuple(F(r, sum(raw)) for r in raw)


def float_matrix(rows: Any) -> np.ndarray:
    return np.array([[float(x) for x in row] for row in rows], dtype=np.float64)


def to_float(b: Any, v: Any) -> np.ndarray:
    return np.array([float(x) for x in b.exp(v)], dtype=np.float64)


def log_policy(ng: NumericGame, policy: list[tuple[Fraction, ...]]) -> LogPolicy:
    return ng.policy_from_fractions(policy)


# ------------------------------------------------- closed-form step vs direct numerical argmax


@settings(max_examples=40, deadline=None)
@given(
    games(max_n=5, max_contexts=2),
    st.sampled_from([F(1, 2), F(2), F(7)]),
    st.sampled_from([F(1, 10), F(1, 3), F(1)]),
    st.integers(0, 10**6),
)
def test_nash_mp_steps_maximise_the_proximal_objective(game: Game, eta: Fraction, beta: Fraction,
                                                        seed: int) -> None:
    rng = random.Random(seed)
    pk = [random_policy(rng, game.n) for _ in game.contexts]
    assume(any(p != c.reference for p, c in zip(pk, game.contexts, strict=True)))
    b = MpmathBackend(30)
    ng = NumericGame(game, b)
    step = NashMP(beta, eta).step(ng, log_policy(ng, pk), 0, Oracle(ng))
    assert step.half is not None
    for c, ctx in enumerate(game.contexts):
        P = float_matrix(ctx.preference)
        ref = np.array([float(r) for r in ctx.reference])
        centre = np.array([float(p) for p in pk[c]])
        # Half step: the opponent is π_k.
        half = argmax_on_simplex(proximal_objective(P, ref, centre, centre, float(eta), float(beta)), game.n)
        np.testing.assert_allclose(to_float(b, step.half[c]), half, atol=2e-7, rtol=0)
        # Full step: the opponent is π_{k+½} (our own numerical one), the centre is still π_k.
        full = argmax_on_simplex(proximal_objective(P, ref, centre, half, float(eta), float(beta)), game.n)
        np.testing.assert_allclose(to_float(b, step.policy[c]), full, atol=2e-7, rtol=0)


@settings(max_examples=30, deadline=None)
@given(
    games(max_n=5, max_contexts=2),
    st.sampled_from([F(1, 5), F(1), F(4)]),
    st.sampled_from([F(1, 10), F(1, 2), F(2)]),
    st.integers(0, 10**6),
)
def test_mmd_step_maximises_the_proximal_objective(game: Game, eta: Fraction, beta: Fraction, seed: int) -> None:
    rng = random.Random(seed)
    pk = [random_policy(rng, game.n) for _ in game.contexts]
    assume(any(p != c.reference for p, c in zip(pk, game.contexts, strict=True)))
    b = MpmathBackend(30)
    ng = NumericGame(game, b)
    step = MMD(beta, eta).step(ng, log_policy(ng, pk), 0, Oracle(ng))
    assert step.half is None
    for c, ctx in enumerate(game.contexts):
        P = float_matrix(ctx.preference)
        ref = np.array([float(r) for r in ctx.reference])
        centre = np.array([float(p) for p in pk[c]])
        best = argmax_on_simplex(proximal_objective(P, ref, centre, centre, float(eta), float(beta)), game.n)
        np.testing.assert_allclose(to_float(b, step.policy[c]), best, atol=2e-7, rtol=0)


def test_direct_argmax_is_sensitive_to_the_anchor() -> None:
    """Guard for the two tests above: a step anchored at π_ref instead of π_k would be caught."""
    game = build_family("cyclic:n=5,skew=1/3")
    ctx = game.contexts[0]
    P = float_matrix(ctx.preference)
    ref = np.array([float(r) for r in ctx.reference])
    pk = np.array([float(p) for p in random_policy(random.Random(3), 5)])
    right = argmax_on_simplex(proximal_objective(P, ref, pk, pk, 2.0, 0.1), 5)
    wrong = argmax_on_simplex(proximal_objective(P, ref, ref, pk, 2.0, 0.1), 5)
    assert np.max(np.abs(right - wrong)) > 1e-3


# ------------------------------------------------------------- hand formulas for the other solvers


def _init(game: Game, seed: int) -> list[tuple[Fraction, ...]]:
    rng = random.Random(seed)
    return [random_policy(rng, game.n) for _ in game.contexts]


@pytest.mark.parametrize("eta", [F(1, 20), F(1, 4)])
def test_nash_md_step_matches_spec_formula(eta: Fraction) -> None:
    game = build_family("contextual:n=4,contexts=2,skew=1/2")
    beta = F(1, 2)
    pk = _init(game, 11)
    b = MpmathBackend(40)
    ng = NumericGame(game, b)
    new = NashMD(beta, eta).step(ng, log_policy(ng, pk), 0, Oracle(ng)).policy
    M = mp_ctx(60)
    w = eta * beta
    for c, ctx in enumerate(game.contexts):
        lp = [M.log(x) for x in mpv(M, pk[c])]
        lr = [M.log(x) for x in mpv(M, ctx.reference)]
        mu = [M.exp(t) for t in normalize_logs(M, [(1 - w) * a + w * r for a, r in zip(lp, lr, strict=True)])]
        q = matvec(M, ctx.preference, mu)
        expect = normalize_logs(M, [(1 - w) * a + w * r + eta * qi for a, r, qi in zip(lp, lr, q, strict=True)])
        assert max(abs(M.mpf(x) - y) for x, y in zip(new[c], expect, strict=True)) < 1e-35


def test_nash_md_schedule() -> None:
    s = NashMD(F(1, 4))
    assert [s.eta_at(t) for t in range(3)] == [F(8, 2), F(8, 3), F(8, 4)]
    assert NashMD(F(1, 4), F(1, 2)).eta_at(7) == F(1, 2)


def test_omd_step_matches_spec_formula() -> None:
    game = build_family("random:n=5,seed=4,skew=1/2")
    beta, eta = F(1, 3), F(1, 2)
    pk = _init(game, 5)
    b = MpmathBackend(40)
    ng = NumericGame(game, b)
    new = OMD(beta, eta).step(ng, log_policy(ng, pk), 0, Oracle(ng)).policy[0]
    M = mp_ctx(60)
    ctx = game.contexts[0]
    w = eta * beta
    pi = mpv(M, pk[0])
    q = matvec(M, ctx.preference, pi)
    z = [(1 - w) * M.log(a) + w * M.log(r) + eta * qi for a, r, qi in zip(pi, mpv(M, ctx.reference), q, strict=True)]
    expect = normalize_logs(M, z)
    assert max(abs(M.mpf(x) - y) for x, y in zip(new, expect, strict=True)) < 1e-35


# ----------------------------------------------------------------------- fixed point π*_β


FIXED_POINT_GAME = "contextual:n=4,contexts=3,skew=1/2"


@pytest.fixture(scope="module")
def star40() -> tuple[Game, Fraction, MpmathBackend, Any]:
    game = build_family(FIXED_POINT_GAME)
    beta = F(1, 10)
    b = MpmathBackend(40)
    return game, beta, b, solve_equilibrium(game, beta, b)


# Nash-MD is deliberately absent: its step is taken against the geometric mixture π^μ, and its
# fixed point for a constant η is not π*_β (see test_nash_md_is_not_stationary_at_the_equilibrium);
# mwu (the negative control) ignores β and π_ref.
#: The exact solvers (the inexact and sampled ones of nashproof.solvers.inexact have their own tests).
EXACT = [name for name, cls in SOLVERS.items() if not issubclass(cls, InexactSolver)]
STATIONARY = [name for name in EXACT if name not in ("nash-md", "mwu")]


@pytest.mark.parametrize("name", STATIONARY)
@pytest.mark.parametrize("eta", [None, F(1, 2)])
def test_equilibrium_is_a_fixed_point(star40: Any, name: str, eta: Fraction | None) -> None:
    game, beta, b, eq = star40
    ng = NumericGame(game, b)
    solver = make_solver(name, beta, eta)
    step = solver.step(ng, eq.logpi, 0, Oracle(ng))
    for c in range(ng.k):
        assert max(abs(x - y) for x, y in zip(step.policy[c], eq.logpi[c], strict=True)) < 1e-30
        if step.half is not None:
            assert max(abs(x - y) for x, y in zip(step.half[c], eq.logpi[c], strict=True)) < 1e-30


def test_fixed_point_test_is_sensitive(star40: Any) -> None:
    """From a policy 1e-10 away from π*, a Nash-MP step moves by far more than the 1e-30 tolerance."""
    game, beta, b, eq = star40
    ng = NumericGame(game, b)
    moved = [lp + b.vector([F(1, 10**10) * i for i in range(game.n)]) for lp in eq.logpi]
    moved = [b.log_normalize(lp) for lp in moved]
    step = NashMP(beta).step(ng, moved, 0, Oracle(ng))
    assert max(abs(x - y) for x, y in zip(step.policy[0], moved[0], strict=True)) > 1e-13


def test_nash_md_is_not_stationary_at_the_equilibrium(star40: Any) -> None:
    """Nash-MD with a constant η moves off π*_β by O(η²): halving η divides the move by about 4."""
    game, beta, b, eq = star40
    ng = NumericGame(game, b)
    moves = []
    for eta in (F(1, 10), F(1, 20), F(1, 40)):
        step = NashMD(beta, eta).step(ng, eq.logpi, 0, Oracle(ng))
        moves.append(_max_diff(step.policy, eq.logpi))
    assert moves[0] > 1e-6
    assert 3.0 < moves[0] / moves[1] < 5.0
    assert 3.0 < moves[1] / moves[2] < 5.0


# ------------------------------------------------------------------------------ equivalences


def _run(game: Game, solver: Solver, steps: int, b: MpmathBackend, pk: list[tuple[Fraction, ...]]) -> Any:
    ng = NumericGame(game, b)
    return run(game, solver, steps, b, init=log_policy(ng, pk))


def _max_diff(x: LogPolicy, y: LogPolicy) -> float:
    return max(float(abs(a - c)) for u, v in zip(x, y, strict=True) for a, c in zip(u, v, strict=True))


@pytest.mark.parametrize(("beta", "eta_e"), [(F(1, 10), F(1, 2)), (F(1, 2), F(1)), (F(2), F(1, 4))])
def test_extragradient_equals_nash_mp(beta: Fraction, eta_e: Fraction) -> None:
    game = build_family("contextual:n=4,contexts=2,skew=1/3")
    b = MpmathBackend(40)
    pk = _init(game, 7)
    eg = _run(game, Extragradient(beta, eta_e), 8, b, pk)
    nmp = _run(game, NashMP(beta, eta_e / (1 - eta_e * beta)), 8, b, pk)
    assert len(eg.policies) == len(nmp.policies) == 9
    for k in range(9):
        assert _max_diff(eg.policies[k], nmp.policies[k]) < 1e-35, k
    for k in range(8):
        assert _max_diff(eg.halves[k], nmp.halves[k]) < 1e-35, k
    # ...and with the spec's relation η_e = η/(1+ηβ) the other way round.
    eta = eta_e / (1 - eta_e * beta)
    assert eta / (1 + eta * beta) == eta_e
    # A wrong conversion (η = η_e) is detected by the same comparison.
    other = _run(game, NashMP(beta, eta_e), 8, b, pk)
    assert _max_diff(eg.policies[8], other.policies[8]) > 1e-6


@pytest.mark.parametrize(("beta", "gamma"), [(F(1, 10), F(1, 5)), (F(1, 3), F(2))])
def test_nash_mp_gamma_normalisation(beta: Fraction, gamma: Fraction) -> None:
    game = build_family("random:n=4,seed=9,skew=1/2")
    b = MpmathBackend(40)
    pk = _init(game, 2)
    by_gamma = NashMP(beta, gamma=gamma)
    by_eta = NashMP(beta, gamma / beta)
    assert by_gamma.eta == gamma / beta
    assert "γ" in by_gamma.describe() and "secondary" in by_gamma.describe()
    assert "canonical" in by_eta.describe()
    t1 = _run(game, by_gamma, 6, b, pk)
    t2 = _run(game, by_eta, 6, b, pk)
    for k in range(7):
        assert _max_diff(t1.policies[k], t2.policies[k]) == 0.0
    t3 = _run(game, make_solver("nash-mp", beta, gamma=gamma), 6, b, pk)
    assert _max_diff(t1.policies[6], t3.policies[6]) == 0.0


# ------------------------------------------------------------------------------- query counting

EXPECTED_QUERIES = {"nash-mp": 2, "extragradient": 2, "nash-md": 1, "omd": 1, "mmd": 1, "proximal-point": 1, "mwu": 1}


def test_every_solver_has_an_expected_query_cost() -> None:
    assert set(EXACT) == set(EXPECTED_QUERIES)


@pytest.mark.parametrize("name", sorted(EXPECTED_QUERIES))
def test_query_counting(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    game = build_family("rps:skew=1/2")
    calls = []
    original = Oracle.query

    def spy(self: Oracle, logsigma: LogPolicy) -> Any:
        calls.append(1)
        return original(self, logsigma)

    monkeypatch.setattr(Oracle, "query", spy)
    steps = 6
    traj = run(game, make_solver(name, F(1, 5)), steps, MpmathBackend(20))
    per = EXPECTED_QUERIES[name]
    assert traj.queries == [per * k for k in range(steps + 1)]
    if name != "proximal-point":  # the idealised inner solve does not go through the oracle
        assert len(calls) == per * steps


# ----------------------------------------------------------------------------- proximal point


@pytest.mark.parametrize("eta", [F(1, 2), F(2), F(50)])
def test_proximal_point_solves_its_implicit_equation(eta: Fraction) -> None:
    game = build_family("contextual:n=4,contexts=2,skew=1/3")
    beta = F(1, 10)
    pk = _init(game, 21)
    b = MpmathBackend(40)
    ng = NumericGame(game, b)
    new = ProximalPoint(beta, eta).step(ng, log_policy(ng, pk), 0, Oracle(ng)).policy
    M = mp_ctx(60)
    for c, ctx in enumerate(game.contexts):
        x = [M.mpf(t) for t in new[c]]
        pi = [M.exp(t) for t in x]
        assert abs(M.fsum(pi) - 1) < 1e-35
        q = matvec(M, ctx.preference, pi)
        rhs = [(M.log(a) + eta * beta * M.log(r) + eta * qi) / (1 + eta * beta)
               for a, r, qi in zip(mpv(M, pk[c]), mpv(M, ctx.reference), q, strict=True)]
        diff = [xi - ri for xi, ri in zip(x, rhs, strict=True)]
        assert max(diff) - min(diff) < 1e-33  # equal up to the normalising constant
        # The explicit (MMD) step solves a different equation: the check discriminates.
        explicit = [M.mpf(t) for t in MMD(beta, eta).step(ng, log_policy(ng, pk), 0, Oracle(ng)).policy[c]]
        assert max(abs(u - v) for u, v in zip(explicit, x, strict=True)) > 1e-6


# ------------------------------------------------------------------ KL contraction of Nash-MP


@pytest.mark.parametrize(
    ("spec", "beta"),
    [
        ("cyclic:n=5,skew=1/3", F(1, 10)),
        ("random:n=4,seed=1,skew=1/2", F(1, 5)),
        ("contextual:n=3,contexts=2,skew=1/3", F(1, 20)),
        ("rps:skew=1/4", F(1)),
        ("disjoint-cycles:m=3,k=2,dominant=1,skew=1/2", F(1, 8)),
    ],
)
def test_nash_mp_kl_contraction(spec: str, beta: Fraction) -> None:
    game = build_family(spec)
    eta = F(2)
    b = MpmathBackend(45)
    eq = solve_equilibrium(game, beta, b)
    traj = run(game, NashMP(beta, eta), 15, b)
    M = mp_ctx(45)
    bound = 1 / (1 + float(eta * beta))
    for c in range(len(game.contexts)):
        star = [M.exp(M.mpf(t)) for t in eq.logpi[c]]
        kls = [kl_mp(M, star, [M.exp(M.mpf(t)) for t in pol[c]]) for pol in traj.policies]
        assert kls[0] > 1e-6  # a skewed π_ref: the test is not 0/0
        checked = 0
        for k in range(len(kls) - 1):
            if kls[k] < 1e-30:
                break
            assert kls[k + 1] <= kls[k] * bound * (1 + 1e-12), (c, k, float(kls[k + 1] / kls[k]))
            checked += 1
        assert checked >= 5


# ------------------------------------------------------------------------- float backend, large n


@pytest.fixture(scope="module")
def big_game() -> Game:
    return build_family("random:n=1024,seed=5,skew=999/1000")


@pytest.mark.slow
def test_float_backend_large_game(big_game: Game) -> None:
    b = FloatBackend()
    beta, eta = F(1, 10), F(2)
    traj = run(big_game, NashMP(beta, eta), 3, b)
    assert traj.queries == [0, 2, 4, 6]
    P = float_matrix(big_game.contexts[0].preference)
    logref = np.log(np.array([float(r) for r in big_game.contexts[0].reference]))

    def mix(centre: np.ndarray, opp: np.ndarray) -> np.ndarray:
        z = (centre + 0.2 * logref + 2.0 * (P @ np.exp(opp))) / 1.2
        return z - (np.max(z) + np.log(np.sum(np.exp(z - np.max(z)))))

    x = logref
    for k in range(1, 4):
        lp = np.asarray(traj.policies[k][0], dtype=np.float64)
        assert lp.shape == (1024,)
        assert np.all(np.isfinite(lp))
        assert abs(np.sum(np.exp(lp)) - 1) < 1e-12
        x = mix(x, mix(x, x))
        np.testing.assert_allclose(lp, x, atol=1e-10, rtol=0)
    # The iterate actually moved away from π_ref.
    assert np.max(np.abs(np.asarray(traj.policies[3][0], dtype=np.float64) - logref)) > 1e-3


def test_float_backend_agrees_with_mpmath() -> None:
    game = build_family("contextual:n=5,contexts=2,skew=1/2")
    beta = F(1, 10)
    for name in EXACT:
        tf = run(game, make_solver(name, beta), 5, FloatBackend())
        tm = run(game, make_solver(name, beta), 5, MpmathBackend(30))
        assert _max_diff(tf.policies[5], tm.policies[5]) < 1e-11, name


# ------------------------------------------------------------------------------ parameter errors


@pytest.mark.parametrize(
    "make",
    [
        lambda: NashMP(F(0)),
        lambda: NashMP(F(-1)),
        lambda: NashMP(F(1), F(0)),
        lambda: NashMP(F(1), F(-1, 2)),
        lambda: NashMP(F(1), F(1), gamma=F(1)),
        lambda: NashMP(F(1), gamma=F(0)),
        lambda: NashMD(F(1), F(2)),
        lambda: OMD(F(1), F(2)),
        lambda: Extragradient(F(1), F(1)),
        lambda: Extragradient(F(1, 2), F(3)),
        lambda: make_solver("nope", F(1)),
        lambda: make_solver("mmd", F(1), gamma=F(1)),
        lambda: run(build_family("rps"), NashMP(F(1)), -1, MpmathBackend(20)),
    ],
)
def test_solver_parameter_errors(make: Any) -> None:
    with pytest.raises(InputError):
        make()


def test_defaults_from_spec() -> None:
    beta = F(1, 5)
    assert NashMP(beta).eta == 2
    assert MMD(beta).eta == 4 * beta
    assert Extragradient(beta).eta == 1 / (beta + 1)
    assert NashMP(beta).queries_per_step == 2


def test_run_rejects_a_solver_returning_garbage() -> None:
    class Broken(MMD):
        name = "broken"

        def step(self, ng: NumericGame, logpi: LogPolicy, t: int, oracle: Oracle) -> Step:
            return Step([lp + ng.backend.scalar(1) for lp in logpi])  # sums to e, not 1

    with pytest.raises(SolverError):
        run(build_family("rps:skew=1/2"), Broken(F(1)), 2, MpmathBackend(20))


def test_run_starts_at_reference_and_keeps_every_iterate() -> None:
    game = build_family("rps:skew=1/2")
    b = MpmathBackend(20)
    traj = run(game, NashMP(F(1, 2)), 4, b)
    assert len(traj.policies) == 5 and len(traj.halves) == 4
    M = mp_ctx(40)
    ref = mpv(M, game.contexts[0].reference)
    assert max(abs(M.mpf(b.exp(traj.policies[0][0])[i]) - ref[i]) for i in range(3)) < 1e-18


# ------------------------------------------------------------------------------ the float64 hot path


def test_float_run_is_the_benchmarks_numpy_loop_bit_for_bit() -> None:
    """`nashproof bench` times the float run against a hand-written numpy loop: both must compute the same
    iterates (bit for bit), so the ratio compares equal work."""
    from nashproof.bench import numpy_step

    game = build_family("random:n=48,seed=4,skew=3/4")
    traj = run(game, NashMP(F(1, 10)), 40, FloatBackend())
    step = numpy_step(game, 0.1, 2.0)
    for k in range(1, 41):
        assert np.array_equal(step(), traj.policies[k][0]), k
    assert np.max(np.abs(traj.policies[40][0] - traj.policies[0][0])) > 1e-3  # the iterates moved


def test_float_prox_is_the_generic_expression_bit_for_bit() -> None:
    """The float backend's fused, in-place proximal step against the Backend default (the same expression)."""
    from nashproof.backends import Backend

    b, rng = FloatBackend(), np.random.default_rng(7)
    for scale in (1.0, 50.0, 800.0):  # 800: exp underflows for most entries
        a, f = rng.normal(size=33) * scale, rng.random(33)
        e, d = b.scalar(F(3, 7)), b.scalar(F(11, 10))
        fused = b.prox(a, f, e, d)
        assert np.array_equal(fused, Backend.prox(b, a, f, e, d))
        assert np.array_equal(fused, (a + f * e) / d - b.logsumexp((a + f * e) / d))
        assert fused is not a and fused is not f and abs(np.exp(fused).sum() - 1) < 1e-13


def test_float_batch_ignores_underflow_inside_and_restores_the_callers_error_state() -> None:
    b = FloatBackend()
    tiny = np.array([-800.0, 0.0])
    with np.errstate(under="raise"):
        assert b.exp(tiny)[0] == 0.0 and np.isfinite(b.logsumexp(tiny))  # outside a batch: each call
        with b.batch():
            assert np.geterr()["under"] == "ignore"
            assert b.exp(tiny)[0] == 0.0 and np.isfinite(b.logsumexp(tiny))
        assert np.geterr()["under"] == "raise"
        with pytest.raises(FloatingPointError):
            np.exp(tiny)
        # a whole run whose probabilities underflow float64 (π_ref ∝ 10⁻³ⁱ), under the caller's "raise"
        traj = run(build_family("random:n=150,seed=2,skew=1/1000"), NashMP(F(1, 10)), 3, b)
    assert np.exp(traj.policies[3][0])[-1] == 0.0 and abs(np.exp(traj.policies[3][0]).sum() - 1) < 1e-12


def test_a_run_remembers_the_products_of_its_iterates_not_of_its_half_steps() -> None:
    """Metrics after a run reuse Pπ of every iterate (no second product); half steps' products are dropped,
    and a float run keeps Pπ but not π (recomputed from log π, the same bits)."""
    from nashproof.numeric import numeric_game

    game = build_family("random:n=12,seed=3,skew=1/2")
    for b in (FloatBackend(), MpmathBackend(20)):
        traj = run(game, NashMP(F(1, 10)), 6, b)
        ng = numeric_game(game, b)
        for k, lp in enumerate(traj.policies[1:], start=1):
            kept = ng.products[id(lp[0])]
            assert kept[0] is lp[0] and (kept[1] is None) is (b.name == "float")
            pi, field_ = ng.field_of(0, lp[0])
            assert field_ is kept[2]
            assert np.array_equal(pi, b.exp(lp[0])) and abs(sum(pi) - 1) < 1e-12, k
            direct = ng.P[0] @ b.exp(lp[0])
            assert max(abs(float(x - y)) for x, y in zip(field_, direct)) == 0
        for half in traj.halves:
            assert half is not None and id(half[0]) not in ng.products
