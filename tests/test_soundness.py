"""Soundness: no method ever returns a verdict on the wrong side of a claim's known margin.

Claims are generated from identities of the mathematics that hold exactly at every point (η_tβ(t+2) = 2
on Nash-MD's schedule; ‖π−π*‖₁² = its ρ-average with one context; Expl_β = β KL(π‖π*) on 2-action
games; the minimum of π_ref), shifted by ±10^−m so that the truth of every claim is known exactly in
advance, for m from 5 to 90. Each is checked by every method (certified balls, estimated precision
doubling, float64 screening, rate with a constant, statistical over seeded runs, dimension), on runs
with schedules, several contexts, a tiny π_ref entry and β at both ends. The property: a true claim is
never ``violated``, a false one never ``pass`` or ``equality``; ``inconclusive`` is always allowed.
Nothing here is tuned to the engine: the expected side comes from the identity and the sign alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from fractions import Fraction
from functools import cache

import pytest
import sympy as sp

from nashproof.claims import KL, L1, C, Claim, Expl, KL_rev, L1_sq, beta, builtin_catalogue, eta, k, min_ref
from nashproof.families import load_game
from nashproof.solvers import make_solver
from nashproof.verify import RunData, check_claim, check_dimension, check_dimension_certified, check_inexact, collect

F = Fraction
FAST_MARGINS = (5, 12, 30, 60, 90)
SLOW_MARGINS = tuple(range(5, 91, 5))
BACKENDS = {"certified": "arb", "estimated": "mpmath", "screened": "float"}
TALLY: Counter[tuple[str, str]] = Counter()
TINY_REF = "rps:ref=1/2+1e-300+0.4" + "9" * 299  # π_ref with an entry of 10^−300

#: run name -> (game, solver, β, η)
RUNS = {
    "nash-md schedule": ("cyclic:n=5,skew=1/3", "nash-md", F(1, 10), None),
    "nash-mp one context": ("cyclic:n=5,skew=1/3", "nash-mp", F(1, 10), F(2)),
    "nash-mp contexts": ("contextual:n=4,contexts=2,seed=3,skew=1/3", "nash-mp", F(1, 10), F(1)),
    "2 actions, β = 1/1000": ("bradley-terry:scores=1+3,skew=1/3", "nash-mp", F(1, 1000), F(2)),
    "2 actions, β = 1000": ("bradley-terry:scores=1+3,skew=1/3", "nash-mp", F(1000), F(1, 1000)),
    "tiny π_ref": (TINY_REF, "mmd", F(1, 10), F(1, 10)),
}


@cache
def record(run: str, method: str) -> RunData:
    spec, solver, b, e = RUNS[run]
    return collect(load_game(spec), make_solver(solver, b, e), 5, 30, backend=BACKENDS[method])


def shift(m: int, sign: int) -> sp.Expr:
    return 1 + sign * sp.Rational(1, 10**m)


def claims_for(run: str, m: int) -> Iterator[tuple[Claim, bool]]:
    """(claim, truth) pairs whose truth on this run follows from an exact identity and the sign of the shift."""
    spec, solver, _, _ = RUNS[run]
    game = load_game(spec)
    for sign in (1, -1):
        s = shift(m, sign)
        tag = f"{m}{'+' if sign > 0 else '-'}"
        if solver == "nash-md":  # η_tβ(t+2) = 2 exactly at every t: a step and a bound claim
            for kind in ("step", "bound"):
                yield _c(f"SCHED-{kind}-{tag}", kind, "kl", sp.Le(eta * beta * (k + 2), 2 * s)), sign > 0
        if len(game.contexts) == 1:  # one context: the ρ-average of ‖π−π*‖₁² is ‖π−π*‖₁² (L1 > 0 along the run)
            yield _c(f"L1SQ-{tag}", "bound", "l1", sp.Le(L1_sq, L1**2 * s)), sign > 0
            yield (Claim(f"RATE-C-{tag}", "identity as a rate with constant C", "rate", "l1",
                         (sp.Le(L1_sq, C * L1**2),), (), ("*",), "E", "soundness", rate=sp.Integer(1), constant=s),
                   sign > 0)
        else:  # Jensen: the square of the average ≤ the average of the squares (true side only)
            yield _c(f"JENSEN-{tag}", "bound", "l1", sp.Le(L1**2, L1_sq * s)), True
        if game.n == 2:  # Expl_β = β KL(π‖π*) exactly on 2 actions; KL(π‖π*) > 0 along the run from π_ref
            yield _c(f"SANDWICH-{tag}", "bound", "exploitability", sp.Le(beta * KL_rev * s, Expl)), sign < 0
        q = game.min_reference()
        yield _c(f"MINREF-{tag}", "static", "min_ref", sp.Le(min_ref, sp.Rational(q.numerator, q.denominator) * s)), \
            sign > 0


def _c(cid: str, kind: str, metric: str, *statements: sp.Basic) -> Claim:
    assert all(isinstance(st, sp.LessThan) for st in statements), statements  # sympy did not pre-decide it
    return Claim(cid, cid, kind, metric, tuple(statements), (), ("*",), "E", "soundness")


def sound(status: str, truth: bool) -> bool:
    return status in (("pass", "equality", "inconclusive") if truth else ("violated", "inconclusive"))


def check_run(run: str, method: str, margins: tuple[int, ...]) -> None:
    data = record(run, method)
    for m in margins:
        for claim, truth in claims_for(run, m):
            v = check_claim(claim, data)
            assert sound(v.status, truth), (run, method, claim.id, truth, v.status, v.note)
            TALLY[(f"{method}, {claim.kind}", "decided" if v.status != "inconclusive" else "inconclusive")] += 1


@pytest.mark.parametrize("method", list(BACKENDS))
@pytest.mark.parametrize("run", list(RUNS))
def test_point_methods_never_decide_on_the_wrong_side(run: str, method: str) -> None:
    check_run(run, method, FAST_MARGINS)


@pytest.mark.slow
@pytest.mark.parametrize("method", list(BACKENDS))
@pytest.mark.parametrize("run", list(RUNS))
def test_point_methods_never_decide_on_the_wrong_side_every_margin(run: str, method: str) -> None:
    check_run(run, method, SLOW_MARGINS)


def test_rate_claims_without_a_constant_are_violated_only_by_proof_when_false() -> None:
    """∃C ∀k: KL_k ≤ C·r^k. No finite run refutes it; it is false exactly when r is below the trajectory's
    asymptotic rate, ρ_loc (docs/proofs.md §3.4, in closed form here: an independent computation). Then
    only the invariant-cone proof may say so; at or above ρ_loc it is never violated."""
    import mpmath

    from nashproof.verify.local import local_radius2, local_spectrum

    for run in ("nash-mp one context", "2 actions, β = 1/1000"):
        spec, _, b, e = RUNS[run]
        assert e is not None
        mus = [m for ctx in local_spectrum(load_game(spec), b, 30) for m in ctx]
        rho = local_radius2(mpmath.mpf(e.numerator) / e.denominator, mpmath.mpf(b.numerator) / b.denominator, mus)
        for method in ("certified", "estimated"):
            data = record(run, method)
            for r in (sp.Rational(1, 10**6), sp.Rational(1, 2), sp.Integer(1),
                      sp.Rational(int(rho * 10**12) + 1, 10**12)):
                claim = Claim("RATE", "rate", "rate", "kl", (sp.Le(KL, C * r**k),), (), ("*",), "E", "soundness",
                              rate=r)
                v = check_claim(claim, data)
                if v.status == "violated":
                    assert r < rho and v.method == "certified" and "invariant-cone" in v.note, (run, method, r)
                TALLY[(f"{method}, rate (no constant)", "decided" if v.status != "inconclusive" else
                       "inconclusive")] += 1


@pytest.mark.parametrize("m", [5, 30, 90])
def test_statistical_method_never_decides_on_the_wrong_side(m: int) -> None:
    """Seeded sampled runs: a claim true at every point of every run, and the same claim false at every point."""
    game = load_game("cyclic:n=5,skew=1/3")
    solver = make_solver("nash-mp-sampled:m=20,seed=0", F(1, 10), F(1))
    for sign in (1, -1):
        claim = Claim(f"PROB-{m}{sign}", "identity over seeds", "probability", "l1",
                      (sp.Le(L1_sq, L1**2 * shift(m, sign)),), (), ("*",), "E", "soundness")
        for runs in (6, 80):
            (v,) = check_inexact(game, solver, [claim], 4, 20, runs=runs)  # type: ignore[arg-type]
            assert sound(v.status, sign > 0), (m, sign, runs, v.status, v.note)
            TALLY[("statistical, probability", "decided" if v.status != "inconclusive" else "inconclusive")] += 1


def test_dimension_method_never_violates_a_proved_contraction() -> None:
    """NMP-DIM with η ≤ η̄ is NMP-KL at every n (proved): never violated, by balls or by estimates."""
    claim = builtin_catalogue().get("NMP-DIM")
    for b, e in ((F(1, 10), F(2)), (F(1, 1000), F(2))):
        certified = check_dimension_certified(claim, "cyclic:n={n},skew=1/3", [3, 4, 5], b, e, 6, 20)
        estimated = check_dimension(claim, "cyclic:n={n},skew=1/3", [3, 4, 5], b, e, 6, 20, float_from=5)
        for v, method in ((certified, "certified"), (estimated, "estimated and screened")):
            assert v.status in ("pass", "inconclusive"), (method, v.note)
            TALLY[(f"{method}, dimension", "decided" if v.status != "inconclusive" else "inconclusive")] += 1


def test_zz_report_counts(capsys: pytest.CaptureFixture[str]) -> None:
    """Print decided vs inconclusive per method and kind (pytest -s shows it; the README quotes one run)."""
    rows = sorted({key for key, _ in TALLY})
    with capsys.disabled():
        for key in rows:
            print(f"{key:40s} decided {TALLY[(key, 'decided')]:4d}  inconclusive {TALLY[(key, 'inconclusive')]:4d}")
