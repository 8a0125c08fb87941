"""Inexact and stochastic Nash-MP: solvers, derived claims, statistical verdicts, complexity (issue 11)."""

from __future__ import annotations

import itertools
import math
import re
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from nashproof.backends import make_backend
from nashproof.claims import Claim, builtin_catalogue, delta
from nashproof.claims.catalogue import APPROX_CLAIMS, DELTA_SAMPLED, RHO, approx_sqrt_floor
from nashproof.cli import main
from nashproof.equilibrium import solve_equilibrium
from nashproof.families import load_game
from nashproof.metrics import kl
from nashproof.numeric import NumericGame, Oracle
from nashproof.query_complexity import complexity, inexact_bound, inexact_complexity
from nashproof.solvers import NashMP, make_solver, run
from nashproof.solvers.inexact import InexactNashMP, SampledOracle, adversarial_full, inner_delta
from nashproof.verify import check_inexact, collect_inexact
from nashproof.verify.statistical import StatVerdict, clopper_pearson, runs_for

F = Fraction
FLOAT = make_backend("float")


def kl_series(game_spec: str, solver_spec: str, beta: Fraction, steps: int) -> list[float]:
    game = load_game(game_spec)
    traj = run(game, make_solver(solver_spec, beta), steps, FLOAT)
    eq = solve_equilibrium(game, beta, FLOAT)
    ng = NumericGame(game, FLOAT)
    return [float(ng.average([kl(ng, eq.logpi[c], p[c]) for c in range(ng.k)])) for p in traj.policies]


# ------------------------------------------------------------------ solvers


@pytest.mark.parametrize("spec", ["nash-mp-inexact:delta=0,perturb=adversarial",
                                  "nash-mp-inexact:delta=0,perturb=random", "nash-mp-pg:T=1,lam=1"])
def test_zero_error_is_exact_nash_mp(spec: str) -> None:
    game, beta = load_game("cyclic:n=5,skew=1/3"), F(1, 10)
    a = run(game, make_solver(spec, beta), 8, FLOAT)
    b = run(game, NashMP(beta), 8, FLOAT)
    for pa, pb in zip(a.policies, b.policies):
        assert np.max(np.abs(pa[0] - pb[0])) < 1e-12
    assert a.queries == b.queries


@pytest.mark.parametrize("perturb", ["adversarial", "random"])
@pytest.mark.parametrize("metric", ["span", "sup"])
def test_every_returned_step_is_within_delta(perturb: str, metric: str) -> None:
    """Recompute the exact half and full steps independently and measure the perturbation."""
    game, beta, d = load_game("random:n=6,seed=1,skew=1/2"), F(1, 2), F(1, 20)
    solver = make_solver(f"nash-mp-inexact:delta={d},perturb={perturb},seed=3,metric={metric}", beta)
    traj = run(game, solver, 6, FLOAT)
    P = np.array([[float(x) for x in row] for row in game.contexts[0].preference])
    logref = np.log(np.array([float(x) for x in game.contexts[0].reference]))

    def prox(centre: np.ndarray, field: np.ndarray) -> np.ndarray:
        z = (centre + float(beta) * 2 * logref + 2 * field) / (1 + 2 * float(beta))
        return z - np.log(np.sum(np.exp(z - z.max()))) - z.max()

    for t in range(6):
        lp, half, nxt = traj.policies[t][0], traj.halves[t][0], traj.policies[t + 1][0]
        for got, exact in ((half, prox(lp, P @ np.exp(lp))), (nxt, prox(lp, P @ np.exp(half)))):
            diff = got - exact
            size = np.ptp(diff) if metric == "span" else np.max(np.abs(diff))
            assert size <= float(d) * (1 + 1e-9) + 1e-12
            assert np.ptp(diff) >= float(d) * 0.999  # the built-in perturbations use the whole budget


def test_adversarial_full_step_is_the_exact_maximiser() -> None:
    """KL(π*‖·) is convex in the log-perturbation, so its maximum over span ≤ δ is a two-level vertex:
    brute force over every subset, and 500 random directions never do better."""
    rng = np.random.default_rng(0)
    b = FLOAT
    for trial in range(40):
        n = int(rng.integers(2, 7))
        p = rng.dirichlet(np.ones(n) * 0.7)
        s = rng.dirichlet(np.ones(n) * 0.7)
        d = F(int(rng.integers(1, 40)), 20)
        lp, ls = np.log(p), np.log(s)
        got = adversarial_full(b, lp, ls, d)
        value = float(np.sum(s * (ls - got)))

        def kl_after(u: np.ndarray, lp: np.ndarray = lp, s: np.ndarray = s, ls: np.ndarray = ls) -> float:
            q = lp + u
            q = q - np.log(np.sum(np.exp(q)))
            return float(np.sum(s * (ls - q)))

        best = max(kl_after(float(d) * np.array(bits, dtype=float)) for bits in itertools.product((0, 1), repeat=n))
        assert value == pytest.approx(best, rel=1e-9, abs=1e-12), trial
        for _ in range(500 // 40):
            u = rng.random(n)
            u = float(d) * (u - u.min()) / (u.max() - u.min())
            assert kl_after(u) <= value + 1e-12


def test_sampled_oracle_is_reproducible_unbiased_and_counted() -> None:
    game = load_game("bradley-terry:n=4,skew=1/3")
    ng = NumericGame(game, FLOAT)
    sigma = [np.log(np.array([0.1, 0.2, 0.3, 0.4]))]
    exact = ng.P[0] @ np.exp(sigma[0])
    base = Oracle(ng)
    one = SampledOracle(base, 50, seed=5, t=3).query(sigma)[0]
    again = SampledOracle(Oracle(ng), 50, seed=5, t=3).query(sigma)[0]
    assert np.array_equal(one, again)
    assert base.count == 1 and base.samples == 4 * 50
    assert all(float(x) * 50 == int(float(x) * 50) for x in one)  # win counts / m, exactly
    means = np.mean([SampledOracle(Oracle(ng), 200, seed=s, t=0).query(sigma)[0] for s in range(300)], axis=0)
    # 300 × 200 duels per action: the standard error is ≤ 0.5/√60000 ≈ 0.002; allow 5 of them.
    assert np.max(np.abs(means - exact)) < 0.011
    # Hoeffding: P(|ĝ − g| > τ) ≤ 2 exp(−2mτ²) per entry; at τ = 0.2, m = 50 that is 0.037.
    devs = [np.max(np.abs(SampledOracle(Oracle(ng), 50, seed=s, t=1).query(sigma)[0] - exact)) for s in range(300)]
    assert np.mean(np.array(devs) > 0.2) <= 4 * 0.037


def test_inner_loop_error_contracts_by_one_minus_lambda() -> None:
    """The natural-gradient inner loop is linear in log space: error_T = (1−λ)^T error_0 exactly."""
    game, beta = load_game("cyclic:n=5,skew=1/3"), F(1, 10)
    errs = {}
    for T in (1, 2, 3, 5):
        solver = make_solver(f"nash-mp-pg:T={T},lam=1/2", beta)
        run(game, solver, 1, FLOAT)
        errs[T] = solver.step_errors[-1][0]  # type: ignore[attr-defined]
    # the error of iteration 0 is that of its full step; both start from π_0, half steps differ only by T
    assert errs[2] / errs[1] == pytest.approx(0.5, rel=0.1)
    assert errs[5] < errs[3] < errs[2]
    assert inner_delta(beta, F(2), 1, F(1)) == 0
    assert inner_delta(beta, F(2), 2, F(1, 2)) == F(1, 4) * 4 / (F(6, 5) * F(3, 4))


# ------------------------------------------------------------------ claims


def test_approx_claims_are_derived_and_replace_the_existence_claim() -> None:
    cat = builtin_catalogue()
    ids = {c.id for c in APPROX_CLAIMS}
    assert ids <= set(cat.ids())
    assert cat.get("NMP-APPROX").kind == "bound" and "D" in cat.get("NMP-APPROX").tags
    assert cat.get("NMP-APPROX-HP").kind == "probability"
    assert all("D" in cat.get(i).tags for i in ids)


def test_floor_formula_against_a_hand_computation() -> None:
    """φ(δ) = δ(1 + η/(1+ηβ))/(2√2(1 − (1+ηβ)^(−1/2))), at β = 1, η = 2, δ = 1/10."""
    beta_s, eta_s = sp.Symbol("beta", positive=True), sp.Symbol("eta", positive=True)
    value = float(approx_sqrt_floor(delta).subs({beta_s: 1, eta_s: 2, delta: sp.Rational(1, 10)}))
    assert value == pytest.approx(0.1 * (1 + 2 / 3) / (2 * math.sqrt(2) * (1 - 1 / math.sqrt(3))))
    assert float(RHO.subs({beta_s: 1, eta_s: 2})) == pytest.approx(1 / math.sqrt(3))


@pytest.mark.parametrize("game", ["cyclic:n=5,skew=1/3", "ties:n=4,skew=1/2", "contextual:n=4,contexts=3,skew=1/2"])
def test_adversarial_run_stays_under_the_derived_bound(game: str) -> None:
    cat = builtin_catalogue()
    solver = make_solver("nash-mp-inexact:delta=1/100,perturb=adversarial", F(1))
    vs = check_inexact(load_game(game), solver, [cat.get("NMP-APPROX"), cat.get("NMP-APPROX-STEP")], 25, 20)  # type: ignore[arg-type]
    assert [v.status for v in vs] == ["pass", "pass"]
    assert float(vs[0].tightness or 0) > 0.1


def test_halved_floor_is_flagged() -> None:
    """At β = 10 on the all-ties game the adversary reaches more than half the floor: a halved floor fails."""
    beta_s, eta_s = sp.Symbol("beta", positive=True), sp.Symbol("eta", positive=True)
    good = builtin_catalogue().get("NMP-APPROX")
    k, rkl = sp.Symbol("k", positive=True), sp.Symbol("RKL_k", nonnegative=True)
    rkl0 = sp.Symbol("RKL_0", nonnegative=True)
    phi = approx_sqrt_floor(delta)
    halved = sp.Le(rkl, RHO**k * rkl0 + phi / sp.sqrt(2) * (1 - RHO**k))  # √KL floor / √2: the KL floor halved
    wrong = Claim("HALVED", "halved floor", "bound", "kl", (halved,), good.hypotheses, good.solvers, "D", "test")
    assert sp.simplify(good.statements[0].rhs.subs(delta, 1) - halved.rhs.subs(delta, 1)) != 0
    game = load_game("ties:n=4,skew=1/2")
    solver = make_solver("nash-mp-inexact:delta=1/10,perturb=adversarial", F(10))
    ok, bad = check_inexact(game, solver, [good, wrong], 30, 20)  # type: ignore[arg-type]
    assert ok.status == "pass" and bad.status == "violated"
    # the adversarial plateau sits within a factor 2 of the floor here: KL_30 ≥ floor/2
    floor = float(phi.subs({beta_s: 10, eta_s: 2, delta: sp.Rational(1, 10)})) ** 2
    assert kl_series("ties:n=4,skew=1/2", "nash-mp-inexact:delta=1/10,perturb=adversarial", F(10), 30)[-1] > floor / 2


def test_sampled_claim_passes_and_an_optimistic_one_is_flagged() -> None:
    """NMP-APPROX-HP over 12 seeded runs: no failure, but 12 runs cannot show a rate ≤ 5 % (inconclusive, with
    the runs that would settle it); the same claim pretending 10⁴× more duels fails every run."""
    cat = builtin_catalogue()
    good = cat.get("NMP-APPROX-HP")
    m = sp.Symbol("m", positive=True)
    wrong_stmt = tuple(s.subs(DELTA_SAMPLED, DELTA_SAMPLED.subs(m, 10**4 * m)) for s in good.statements)
    assert wrong_stmt != good.statements
    wrong = Claim("TOO-FEW-DUELS", "m too small for the claim", "probability", "kl", wrong_stmt, good.hypotheses,
                  good.solvers, "D", "test")
    solver = make_solver("nash-mp-sampled:m=20,seed=0", F(1))
    ok, bad = check_inexact(load_game("cyclic:n=5,skew=1/3"), solver, [good, wrong], 8, 15, runs=12)  # type: ignore[arg-type]
    assert ok.status == "inconclusive" and ok.extra["failures"] == 0 and "runs at this failure rate" in ok.note
    assert bad.status == "violated" and bad.extra["failures"] == 12
    assert bad.extra["interval"][0] > 0.05  # type: ignore[index]


def test_collect_inexact_counts_queries_and_samples() -> None:
    game = load_game("contextual:n=4,contexts=3,skew=1/2")
    solver = make_solver("nash-mp-pg-sampled:T=3,m=7,seed=1", F(1, 2))
    data = collect_inexact(game, solver, 4, 15, "float", F(1, 20))  # type: ignore[arg-type]
    assert float(data.values["N"][4]) == 4 * 2 * 3
    assert float(data.values["samples"][4]) == 4 * 2 * 3 * 4 * 7 * 3
    assert float(data.statics["Q"]) == 24 and float(data.statics["contexts"]) == 3
    traj = run(game, make_solver("nash-mp-pg-sampled:T=3,m=7,seed=1", F(1, 2)), 4, FLOAT)
    assert traj.samples[-1] == 4 * 2 * 3 * 4 * 7 * 3 and traj.queries[-1] == 24


# ------------------------------------------------------------------ statistics


@pytest.mark.parametrize("k, n", [(0, 10), (1, 10), (5, 10), (10, 10), (3, 72), (0, 72), (40, 100)])
def test_clopper_pearson_against_scipy(k: int, n: int) -> None:
    stats = pytest.importorskip("scipy.stats")
    lo, hi = clopper_pearson(k, n, F(95, 100))
    ref_lo = 0.0 if k == 0 else stats.beta.ppf(0.025, k, n - k + 1)
    ref_hi = 1.0 if k == n else stats.beta.ppf(0.975, k + 1, n - k)
    assert lo == pytest.approx(ref_lo, abs=1e-12) and hi == pytest.approx(ref_hi, abs=1e-12)


def test_runs_for_and_the_verdict_rule() -> None:
    r = runs_for(0.05)
    assert clopper_pearson(0, r)[1] <= 0.05 < clopper_pearson(0, r - 1)[1]
    assert r == math.ceil(math.log(0.025) / math.log(0.95))
    # 2 failures in 10 at α = 0.05: undecided either way; 6 in 10: the lower bound clears α
    lo, hi = clopper_pearson(2, 10)
    assert StatVerdict(2, 10, 0.05, 0.95, lo, hi).status == "inconclusive"
    lo, hi = clopper_pearson(0, r)
    assert StatVerdict(0, r, 0.05, 0.95, lo, hi).status == "pass"
    lo, hi = clopper_pearson(6, 10)
    assert StatVerdict(6, 10, 0.05, 0.95, lo, hi).status == "violated"


# ------------------------------------------------------------------ complexity


def test_inexact_iterations_are_the_first_k_below_eps() -> None:
    beta, eps, d = F(1, 2), F(1, 1000), F(1, 1000)
    r = inexact_complexity(beta, eps, delta=d, actions=3)
    assert r.reachable and r.iterations is not None and r.queries == 2 * r.iterations
    k0 = 1 / (2 * 0.5)

    def bound(kk: int) -> float:  # independent float evaluation of NMP-APPROX
        rho, a = 1 / math.sqrt(2), 2.0
        phi = 0.001 * (1 + 2 / a) / (2 * math.sqrt(2) * (1 - rho))
        lin = a**-kk * k0 + 0.001 * (1 + 2 / (2 * a)) * a / (a - 1) * (1 - a**-kk)
        return min((rho**kk * math.sqrt(k0) + phi * (1 - rho**kk)) ** 2, lin)

    assert bound(r.iterations) <= 1e-3 < bound(r.iterations - 1)
    assert float(inexact_bound(beta, F(2), k0, 0.001, r.iterations)) == pytest.approx(bound(r.iterations))


def test_floor_above_eps_is_reported_not_counted() -> None:
    r = complexity("1/10", "1e-3", delta="1/10")
    assert r.inexact is not None and not r.inexact.reachable and r.inexact.iterations is None
    assert float(r.inexact.floor) > 1e-3


def test_best_m_is_a_local_minimum_and_n_dependence_is_near_linear() -> None:
    r = inexact_complexity(F(1), F(1, 100), m=100, actions=4, with_best_m=True)
    assert r.best_m is not None and r.best_samples is not None
    for mv in (r.best_m - 1, r.best_m + 1):
        other = inexact_complexity(F(1), F(1, 100), m=mv, actions=4, with_best_m=False)
        assert other.samples is None or other.samples >= r.best_samples
    assert r.n_exponent is not None and 1.0 < float(r.n_exponent) < 1.3


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("argv", [
    ["run", "rps", "--solver", "nash-mp-inexact:delta=-1/10", "--beta", "1/10"],
    ["run", "rps", "--solver", "nash-mp-sampled:m=0", "--beta", "1/10"],
    ["run", "rps", "--solver", "nash-mp-pg:T=0", "--beta", "1/10"],
    ["run", "rps", "--solver", "nash-mp-sampled:m=5,seed=1.5", "--beta", "1/10"],
    ["run", "rps", "--solver", "nash-mp-inexact:delta=1/10,bogus=1", "--beta", "1/10"],
    ["complexity", "--beta", "1", "--eps", "1e-2", "--samples-per-query", "0"],
    ["complexity", "--beta", "1", "--eps", "1e-2", "--delta", "-1"],
    ["complexity", "--beta", "1", "--eps", "1e-2", "--samples-per-query", "5", "--confidence", "1.5"],
    ["complexity", "--beta", "1", "--eps", "1e-2", "--samples-per-query", "5", "--seed", "x"],
    ["check", "--game", "rps", "--solver", "nash-mp-sampled:m=5", "--beta", "1", "--confidence", "0"],
    # out of float range or hours of work: refused up front (were a traceback, and hangs)
    ["run", "rps", "--solver", "nash-mp-inexact:delta=1e400", "--beta", "1/10"],
    ["complexity", "--beta", "1", "--eps", "1e-2", "--delta", "1e400"],
    ["run", "rps", "--solver", "nash-mp-sampled:m=99999999999999999999", "--beta", "1/10"],
    ["run", "rps", "--solver", "nash-mp-pg:T=99999999999999", "--beta", "1/10"],
    ["run", "rps", "--solver", "nash-mp-inexact:delta=1/10,delta=1/5", "--beta", "1/10"],
])
def test_bad_input_is_one_error_line_and_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")


def test_sampled_claims_on_a_game_started_at_equilibrium(capsys: pytest.CaptureFixture[str]) -> None:
    """rps with a uniform π_ref: π_0 = π*, KL_0 is 0 within rounding (was √ of a negative: a traceback)."""
    rc = main(["check", "--game", "rps", "--solver", "nash-mp-sampled:m=5,seed=1", "--beta", "1", "--steps", "3",
               "--digits", "20", "--claim", "NMP-APPROX-HP", "--runs", "4"])
    out = capsys.readouterr().out
    assert rc == 3 and "NMP-APPROX-HP" in out  # 4 runs cannot show a failure rate ≤ 5 %: inconclusive


@pytest.mark.parametrize("extra", [["--samples-per-query", "3"], ["--delta", "1/100"], []])
def test_complexity_on_a_game_whose_reference_is_already_close(capsys: pytest.CaptureFixture[str],
                                                               extra: list[str]) -> None:
    """KL₀ ≤ ε (rps: π_ref = π*, KL₀ = 0): k = 0 for every method; was log(0) tracebacks and a division by 0."""
    assert main(["complexity", "--beta", "1", "--eps", "1e-2", "--game", "rps", *extra]) == 0
    out = capsys.readouterr().out
    assert "Traceback" not in out and "None" not in out
    assert re.search(r"nash-mp\s+0\s+0\s+0", out), out


def test_cli_run_with_a_sampled_solver(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "rps:skew=1/2", "--solver", "nash-mp-sampled:m=10,seed=2", "--beta", "1/2", "--steps", "3",
                 "--backend", "float"]) == 0
    assert "sampled" in capsys.readouterr().out


def test_user_perturbation_outside_delta_is_a_solver_error() -> None:
    def bad(b: object, lp: np.ndarray, role: str, t: int, c: int) -> np.ndarray:
        return lp + np.arange(len(lp)) * 0.5

    solver = InexactNashMP(F(1), delta=F(1, 10), perturbation=bad)  # type: ignore[arg-type]
    with pytest.raises(Exception, match="perturbation has size"):
        run(load_game("rps:skew=1/2"), solver, 1, FLOAT)


def test_adversary_approaches_the_floor_within_the_documented_factor() -> None:
    """A game outside the suite's families: plateau ≤ floor (proved) and ≥ floor / approach_factor (stated)."""
    from nashproof.query_complexity import approach_factor, inexact_floor

    beta = F(1)
    kls = kl_series("random:n=5,seed=11,denominator=3", "nash-mp-inexact:delta=1/50,perturb=adversarial", beta, 60)
    plateau = max(kls[30:])
    floor = float(inexact_floor(beta, F(2), 0.02))
    assert floor / approach_factor(beta) <= plateau <= floor


SKEWED_GAME = {"actions": ["a0", "a1", "a2", "a3"],
               "preference": [["1/2", "7/97", "11/97", "10/97"], ["90/97", "1/2", "46/97", "21/97"],
                              ["86/97", "51/97", "1/2", "94/97"], ["87/97", "76/97", "3/97", "1/2"]],
               "reference": ["430/449", "5/449", "17/1796", "39/1796"]}


def test_approach_factor_accounts_for_a_concentrated_equilibrium() -> None:
    """A random rational game with π_ref ≈ 0.96 on one action: π* is concentrated, the adversary's plateau is
    floor/30 at β = 1, beyond 3τ² (20.7); the factor computed from π*'s split balance covers it."""
    from nashproof.games import game_from_dict
    from nashproof.query_complexity import approach_factor, inexact_floor, split_balance

    beta = F(1)
    game = game_from_dict(SKEWED_GAME)
    traj = run(game, make_solver("nash-mp-inexact:delta=1/1000,perturb=adversarial", beta), 60, FLOAT)
    eq = solve_equilibrium(game, beta, FLOAT)
    ng = NumericGame(game, FLOAT)
    kls = [float(kl(ng, eq.logpi[0], p[0])) for p in traj.policies]
    plateau, floor = max(kls[30:]), float(inexact_floor(beta, F(2), 0.001))
    pistar = np.exp(np.asarray(eq.logpi[0], dtype=float))
    brute = max(q * (1 - q) for r in range(1, 4) for c in itertools.combinations(pistar, r) for q in [sum(c)])
    assert split_balance(pistar) == pytest.approx(brute) and brute < 0.07
    assert floor / approach_factor(beta, pistar=[pistar]) <= plateau <= floor
    assert floor / plateau > approach_factor(beta)  # the balanced-π* factor alone would not cover it


def test_approx_suite_loads_and_rejects_bad_solver_parameters(tmp_path: object) -> None:
    from pathlib import Path

    from nashproof.errors import InputError
    from nashproof.suite import load_suite

    root = Path(__file__).resolve().parent.parent
    suite = load_suite(root / "checks" / "approx.toml", builtin_catalogue())
    assert all(t.slow for t in suite.tasks)
    assert {t.solver.partition(":")[0] for t in suite.tasks} >= {"nash-mp-inexact", "nash-mp-pg", "nash-mp-sampled"}
    bad = Path(str(tmp_path)) / "bad.toml"
    bad.write_text('[[run]]\ngames = ["rps"]\nbetas = ["1"]\nsolvers = ["nash-mp-sampled:m=0"]\n')
    with pytest.raises(InputError, match="m"):
        load_suite(bad, builtin_catalogue())


def test_check_cli_single_shot_on_an_inexact_solver(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["check", "--game", "rps:skew=1/2", "--solver", "nash-mp-inexact:delta=1/100,perturb=random,seed=4",
               "--beta", "1", "--steps", "15", "--digits", "20", "--claim", "NMP-APPROX", "--claim", "NMP-APPROX-HP"])
    out = capsys.readouterr().out
    assert rc == 0 and "NMP-APPROX" in out


def test_sampled_step_error_is_recorded_exactly() -> None:
    """The recorded step error is η·span(ĝ − Pσ)/(1+ηβ): recompute it from the same seeded duels."""
    game, beta = load_game("bradley-terry:n=4,skew=1/3"), F(1)
    solver = make_solver("nash-mp-sampled:m=30,seed=9", beta)
    traj = run(game, solver, 2, FLOAT)
    ng = NumericGame(game, FLOAT)
    spans = []
    for call, sigma in ((1, traj.policies[0]), (2, traj.halves[0])):
        oracle = SampledOracle(Oracle(ng), 30, 9, 0)
        oracle.calls = call - 1
        est = oracle.query(sigma)[0]
        spans.append(np.ptp(est - ng.P[0] @ np.exp(sigma[0])))
    assert solver.step_errors[-1][0] == pytest.approx(2 / 3 * max(spans))  # type: ignore[attr-defined]
    cat = builtin_catalogue()
    (v,) = check_inexact(game, solver, [cat.get("SAMPLED-STEP-ERR")], 10, 15, runs=25)  # type: ignore[arg-type]
    assert v.status == "inconclusive" and v.extra["failures"] == 0  # 25 runs: upper end 0.14 > α
    assert v.extra["runs"] == 25 and 0.2 < float(v.tightness or 0) <= 1
