"""Regression tests for verdicts that were wrong (issue 17): each case failed before its fix.

The expected verdicts are derived by hand from the mathematics, not from the code under test:
the margins are exact (a claim shifted by a known constant) or the counts are exact binomial
arithmetic checked against scipy.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import sympy as sp

from nashproof.claims import KL, Claim, Expl_0, KL_next, beta, builtin_catalogue, eta, k
from nashproof.cli import main
from nashproof.errors import InputError
from nashproof.families import load_game
from nashproof.solvers import make_solver
from nashproof.verify import check_claim, collect

F = Fraction


def _claim(cid: str, kind: str, *statements: sp.Basic, solvers: tuple[str, ...] = ("*",)) -> Claim:
    return Claim(cid, cid, kind, "kl", tuple(statements), (), solvers, "D", "test")


# ------------------------------------------------------------------ 1. per-step parameters


@pytest.mark.parametrize("method", ["certified", "estimated"])
def test_scheduled_step_claims_bind_eta_t_at_each_step(method: str) -> None:
    """Nash-MD with η_t = 2/(β(t+2)): η_tβ(t+2) = 2 exactly at every t; the Munos step bound with its constant
    divided by 100 is false at t = 2 on this game (KL_3 > (1 − η_2β)KL_2 + 2η_2²/100)."""
    game = load_game("cyclic:n=5,skew=1/3")
    solver = make_solver("nash-md", F(1, 10))
    backend = "arb" if method == "certified" else "mpmath"
    data = collect(game, solver, 6, 30, backend=backend)
    identity = _claim("ETA-T", "step", sp.Le(eta * beta * (k + 2), 2))
    # an identity at every t: never violated (balls of 20/(t+2) are not exact: inconclusive is honest)
    assert check_claim(identity, data).status in ("pass", "equality", "inconclusive")
    too_strong = _claim("ETA-T-UP", "step", sp.Le(2 - sp.Rational(1, 10**20), eta * beta * (k + 2)))
    assert check_claim(too_strong, data).status == "pass"
    # a false per-step identity: η_t β (t+2) ≤ 2 − 10^−20 fails at every t
    false = _claim("ETA-T-FALSE", "step", sp.Le(eta * beta * (k + 2), 2 - sp.Rational(1, 10**20)))
    assert check_claim(false, data).status == "violated"
    weak = _claim("MUNOS-100", "step", sp.Le(KL_next, (1 - eta * beta) * KL + 2 * eta**2 / 200))
    v = check_claim(weak, data)
    assert v.status == "violated" and v.first_k == 2


# ------------------------------------------------------------------ 2. decimal constants


@pytest.mark.parametrize("method", ["certified", "estimated"])
def test_float_constants_are_enclosed_exactly(method: str) -> None:
    """c = 0.1 − 10^−30 (a 60-digit Float) < 1/10 < 0.1 + 10^−30: the relative margins are 10^−29, far above
    60 digits but far below float64 (which rounds both to 0.1000000000000000055…)."""
    game = load_game("rps:skew=1/2")
    data = collect(game, make_solver("nash-mp", F(1, 10), F(1)), 4, 40, backend="arb" if method == "certified"
                   else "mpmath")
    below = sp.Float("0.1", 60) - sp.Float("1e-30", 60)
    above = sp.Float("0.1", 60) + sp.Float("1e-30", 60)
    assert below < sp.Rational(1, 10) < above  # sympy's own exact comparison: the margins are real
    x = Expl_0  # > 0 at every iterate here; sympy does not know its sign, so it keeps the relations
    true_low = _claim("F1", "bound", sp.Le(x * below, x / 10))
    false_low = _claim("F2", "bound", sp.Le(x / 10, x * below))
    true_high = _claim("F3", "bound", sp.Le(x / 10, x * above))
    false_high = _claim("F4", "bound", sp.Le(x * above, x / 10))
    for claim, truth in ((true_low, True), (false_low, False), (true_high, True), (false_high, False)):
        status = check_claim(claim, data).status
        assert status == ("pass" if truth else "violated"), (claim.id, status)


def test_claim_with_a_constant_that_has_no_enclosure_is_refused_at_load(tmp_path: Path) -> None:
    module = tmp_path / "euler_claims.py"
    module.write_text("import sympy as sp\nfrom nashproof.claims import KL, KL0, Claim\n"
                      "CLAIMS = [Claim('EG', 'EG', 'bound', 'kl', (sp.Le(KL, sp.EulerGamma * KL0),), (), ('*',), "
                      "'D', 'test')]\n")
    cat = builtin_catalogue()
    with pytest.raises(InputError, match="EulerGamma has no exact enclosure"):
        cat.load(str(module))
    code = main(["check", "--claims-module", str(module), "--game", "rps", "--solver", "nash-mp", "--beta",
                 "1/10", "--eta", "1", "--steps", "2", "--claim", "EG"])
    assert code == 2


# ------------------------------------------------------------------ 3. statistical verdicts


@pytest.mark.parametrize(("failures", "runs", "expected"), [
    (1, 1, "inconclusive"), (3, 20, "inconclusive"), (0, 20, "inconclusive"), (0, 73, "pass"),
    (20, 20, "violated"), (10, 40, "violated"), (1, 100, "inconclusive"), (0, 200, "pass"),
])
def test_statistical_verdict_needs_the_interval_on_one_side_of_alpha(failures: int, runs: int,
                                                                       expected: str) -> None:
    """α = 5 %, 95 % two-sided Clopper–Pearson: pass iff the upper end ≤ α, violated iff the lower end > α
    (ends cross-checked against scipy's beta quantiles)."""
    scipy_stats = pytest.importorskip("scipy.stats")
    from nashproof.verify.statistical import StatVerdict, clopper_pearson

    lo, hi = clopper_pearson(failures, runs)
    ref_lo = 0.0 if failures == 0 else scipy_stats.beta.ppf(0.025, failures, runs - failures + 1)
    ref_hi = 1.0 if failures == runs else scipy_stats.beta.ppf(0.975, failures + 1, runs - failures)
    assert lo == pytest.approx(ref_lo, rel=1e-9, abs=1e-12) and hi == pytest.approx(ref_hi, rel=1e-9, abs=1e-12)
    truth = "pass" if ref_hi <= 0.05 else "violated" if ref_lo > 0.05 else "inconclusive"
    assert truth == expected
    v = StatVerdict(failures, runs, 0.05, 0.95, lo, hi)
    assert v.status == expected
    if expected == "inconclusive" and failures / runs != 0.05:
        need = v.runs_to_settle()
        assert need is not None and need > runs
        assert "runs" in v.text()


# ------------------------------------------------------------------ 4. estimated equality


@pytest.mark.parametrize("m", [60, 90])
@pytest.mark.parametrize("sign", [1, -1])
def test_estimated_never_calls_an_unproved_near_identity_equality(m: int, sign: int) -> None:
    """β KL(π‖π*) ≤ Expl_β(π) holds with equality on 2-action games (proved); shifted by a relative
    10^−m it is false (sign = −1: rhs made smaller) or true but undecidable at 50 digits."""
    from nashproof.claims import Expl, KL_rev

    game = load_game("transitive:n=3")  # 3 actions: the identity is NOT proved here, just a near miss
    data = collect(game, make_solver("nash-mp", F(1, 10), F(1)), 6, 50)
    shift = 1 + sign * sp.Rational(1, 10**m)
    v = check_claim(_claim("SHIFT", "bound", sp.Le(Expl_0, Expl_0 * shift)), data)  # Expl_0 > 0 here
    assert v.status != "equality"
    assert v.status in (("pass", "inconclusive") if sign > 0 else ("violated", "inconclusive"))
    two = collect(load_game("rps:skew=1/2").__class__(load_game("bradley-terry:scores=1+2").actions,
                                                    load_game("bradley-terry:scores=1+2").contexts),
                  make_solver("nash-mp", F(1, 10), F(1)), 6, 50)
    proved = check_claim(_claim("SANDWICH", "bound", sp.Le(beta * KL_rev, Expl)), two)
    assert proved.status in ("pass", "equality") and ("proved" in proved.note or proved.status == "pass")


# ------------------------------------------------------------------ 5. rate claims without a constant


def test_rate_claim_without_a_constant_is_violated_only_by_proof() -> None:
    """A transient longer than the run: KL_k (1+2β)^{2k} still rising at the end. ∃C: KL_k ≤ C r^k can only be
    refuted with a proved constant; the fitted tail is evidence, inconclusive at most."""
    cat = builtin_catalogue()
    game = load_game("bradley-terry:scores=1+1000,skew=1/1000")
    data = collect(game, make_solver("nash-mp", F(1, 100), F(2)), 40, 30)
    for cid in ("NMP-KL-LOCAL", "NMP-EXPL"):
        v = check_claim(cat.get(cid), data)
        assert v.status in ("pass", "inconclusive"), (cid, v.status, v.note)
    slow = Claim("FAST", "FAST", "rate", "kl", (sp.Le(KL, sp.Symbol("C", positive=True) * sp.Rational(1, 10)**k),),
                 (), ("*",), "D", "test", rate=sp.Rational(1, 10))
    # For MMD no proof applies: the slower-looking tail is evidence only.
    v = check_claim(slow, collect(game, make_solver("mmd", F(1, 100), F(2)), 40, 30))
    assert v.status == "inconclusive" and v.slower
    # For Nash-MP an invariant cone near π* proves the decay slower than 10^(−k): violated, by that proof only.
    v = check_claim(slow, data)
    assert v.status == "violated" and v.method == "certified" and "invariant-cone" in v.note


# ------------------------------------------------------------------ 6. labels


def test_dimension_screened_sizes_are_not_labelled_certified() -> None:
    from nashproof.verify import CERTIFIED_DIM_MAX, check_dimension_certified

    claim = builtin_catalogue().get("NMP-DIM")
    size = CERTIFIED_DIM_MAX + 1
    v = check_dimension_certified(claim, "transitive:n={n}", [size], F(1, 10), F(1), 3, 20)
    assert v.method == "screened" and "certified" not in v.method
    assert all(row["backend"] == "float" for row in v.extra["sizes"])  # type: ignore[union-attr]


# ------------------------------------------------------------------ 7. metric too uncertain at k = 0


def test_metric_too_uncertain_at_k0_gives_a_verdict_not_a_crash() -> None:
    rest = "0.4" + "9" * 299  # 1/2 − 10^−300
    game = load_game(f"rps:ref=1/2+1e-300+{rest}")
    data = collect(game, make_solver("nash-mp", F(1, 10), F(1)), 3, 10, backend="arb")
    for cid in ("NMP-KL", "EXPL-SANDWICH", "NMP-UNREG"):
        v = check_claim(builtin_catalogue().get(cid), data)
        assert v.status in ("pass", "inconclusive", "equality")
    # the record of a run whose metric is already wider than the floor at k = 0 (as with π_ref entries near
    # 1e-300 at low digits): the claim is inconclusive, asking for more digits
    for name in ("kl", "exploitability"):
        data.errors[name] = [abs(x) + 1 for x in data.values[name]]
    for cid in ("NMP-KL", "EXPL-SANDWICH"):
        v = check_claim(builtin_catalogue().get(cid), data)
        assert v.status == "inconclusive" and v.needed_digits is not None


# ------------------------------------------------------------------ 8. run --json radius


def test_run_json_radius_covers_the_printed_digits(capsys: pytest.CaptureFixture[str]) -> None:
    """Every printed value ± radius contains the ball (so the exact value): checked against the balls of an
    independent run at twice the digits."""
    import json

    from flint import arb

    from nashproof.backends.balls import BallBackend
    from nashproof.equilibrium import solve_equilibrium
    from nashproof.metrics import evaluate
    from nashproof.numeric import NumericGame
    from nashproof.solvers import run

    args = ["run", "cyclic:n=5,skew=1/3", "--solver", "nash-mp", "--beta", "1/10", "--eta", "1",
            "--steps", "8", "--digits", "20", "--backend", "arb", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    game, beta = load_game("cyclic:n=5,skew=1/3"), F(1, 10)
    b = BallBackend(60, 400)
    eq = solve_equilibrium(game, beta, b)
    traj = run(game, make_solver("nash-mp", beta, F(1)), 8, b)
    ng = NumericGame(game, b)
    checked = 0
    for row, lp in zip(out["iterations"], traj.policies, strict=True):
        m = evaluate(ng, lp, eq.logpi, b.scalar(beta))
        for name in ("kl", "kl_reverse", "exploitability", "gap", "l1"):
            printed, radius = F(row[name]), F(row["radius"][name])
            lo, hi = arb(printed.numerator) / printed.denominator - arb(radius.numerator) / radius.denominator, \
                arb(printed.numerator) / printed.denominator + arb(radius.numerator) / radius.denominator
            assert lo.lower() <= m.get(name).lower() and m.get(name).upper() <= hi.upper(), \
                (row["k"], name)
            checked += 1
    assert checked == 45


# ------------------------------------------------------------------ 9. catalogue hypotheses


def test_inner_loop_claims_require_the_start_their_proof_uses() -> None:
    """From logits (0, −50, 0) on rock-paper-scissors the inner loop's first span error exceeds the bound
    (4.43 > 3.33): INNER-ERR is proved only from π_0 = π_ref and now says so."""
    from nashproof.solvers.inexact import InexactSolver
    from nashproof.verify import check_inexact

    cat = builtin_catalogue()
    for cid in ("INNER-ERR", "INNER-ERR-HP"):
        assert any("start_ref" in sp.sstr(h) for h in cat.get(cid).hypotheses), cid
    assert any("start_ref" in sp.sstr(h) for h in cat.get("NMP-APPROX").hypotheses)
    game = load_game("rps").with_start([[F(0), F(-50), F(0)]])
    solver = make_solver("nash-mp-pg:T=3,lam=1/2", F(1, 10), F(1))
    assert isinstance(solver, InexactSolver)
    v = check_inexact(game, solver, [cat.get("INNER-ERR")], 4, 20)[0]
    assert v.status == "not-applicable"
    ignored = check_inexact(game, solver, [cat.get("INNER-ERR")], 4, 20, ignore_hypotheses=True)[0]
    assert ignored.status == "violated"  # the counterexample is real
    from_ref = check_inexact(load_game("rps"), solver, [cat.get("INNER-ERR")], 4, 20)[0]
    assert from_ref.status == "pass"


def test_nmp_kl_beyond_no_longer_claims_convergence_from_pi_ref() -> None:
    claim = builtin_catalogue().get("NMP-KL-BEYOND")
    assert claim.kind == "existence"
    assert "period-3" in claim.derivation


def test_certified_step_points_bind_kl0_from_the_run() -> None:
    """A step claim that reads KL_0: at a step point standing for iterate t, KL_0 is the run's KL(π*‖π_0), not
    the point's own KL. KL_{t+1} ≤ KL_0 holds along a contracting run (KL_{t+1} < KL_t ≤ … ≤ KL_0) and
    KL_0 ≤ KL_t fails at every t ≥ 1 (strict decrease)."""
    from nashproof.claims import KL0

    data = collect(load_game("cyclic:n=5,skew=1/3"), make_solver("nash-mp", F(1, 10), F(2)), 5, 30, backend="arb")
    kl = data.values["kl"]
    assert all(kl[t + 1] < kl[t] for t in range(5))  # the run contracts (NMP-KL-STEP)
    assert check_claim(_claim("NEXT-BELOW-0", "step", sp.Le(KL_next, KL0)), data).status == "pass"
    v = check_claim(_claim("0-BELOW-K", "step", sp.Le(KL0, KL)), data)
    assert v.status == "violated" and v.first_k == 1


def test_compile_claim_public_api_decides_over_exact_and_ball_values() -> None:
    """The compiler's public entry point (for nashproof.prove and search): exact rationals stay exact,
    Float constants are enclosed, balls are taken as sets."""
    from flint import arb

    from nashproof.verify import compile_claim

    c = compile_claim(sp.Le(KL, eta * sp.Rational(1, 4)))
    assert c.decide({"kl": F(1, 4), "eta": F(1)}) == "true"  # 1/4 ≤ 1/4: dyadic, exact balls
    assert c.decide({"kl": F(1, 4) + F(1, 10**25), "eta": F(1)}) == "false"
    assert c.decide({"kl": F(1, 4) + F(1, 10**80), "eta": F(1)}, bits=400) == "false"
    assert c.decide({"kl": arb("0.25", "1e-5"), "eta": F(1)}) == "unknown"
    third = compile_claim(sp.Le(KL, eta * sp.Rational(1, 3)))
    assert third.decide({"kl": F(1, 3), "eta": F(1)}) == "unknown"  # equal, but 1/3 has no exact ball
    assert third.decide({"kl": F(1, 3) + F(1, 10**25), "eta": F(1)}) == "false"
    f = compile_claim(sp.Le(KL, sp.Float("0.1", 60) - sp.Float("1e-40", 60)))
    assert f.decide({"kl": F(1, 10)}, bits=400) == "false"
    assert f.decide({"kl": F(1, 10) - F(2, 10**40)}, bits=400) == "true"
    assert f.decide({"kl": F(1, 10)}) == "unknown"  # 117 bits by default: the margin 1e-39 is below them
    with pytest.raises(InputError, match="no exact enclosure"):
        compile_claim(sp.Le(KL, sp.EulerGamma))
