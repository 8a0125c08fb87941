"""Rate claims: with a proved constant checked as a bound; without one, fitted (never violated)."""

from __future__ import annotations

import mpmath
import sympy as sp

from ..claims import Claim, hypotheses_hold
from .asymptotic import proof_applies, prove_rate_floor
from .binding import floor_index, local_values, param_values
from .certified import check_certified
from .estimated import check_estimated
from .record import RunData
from .semantics import Verdict, fmt_num

mp = mpmath.mp


def constant_applies(claim: Claim, data: RunData) -> bool:
    return claim.constant is not None and hypotheses_hold(
        Claim(claim.id, "", "bound", claim.metric, (), claim.constant_hypotheses, claim.solvers, "D", ""),
        param_values(data))[0]


def check_rate_constant(claim: Claim, data: RunData, v: Verdict, until_floor: bool, eps_grid: int) -> Verdict:
    """A rate claim whose constant C is known (catalogue or user): check rate and constant as a bound."""
    from ..claims import C

    statements = tuple(s.subs(C, claim.constant) for s in claim.statements)
    bound = Claim(claim.id, claim.title, "bound", claim.metric, statements, (), claim.solvers, claim.provenance,
                  claim.source)
    check = check_certified if data.method == "certified" else check_estimated
    out = check(bound, data, v, until_floor, eps_grid)
    out.kind, out.note = "rate", (out.note + f" constant C = {sp.sstr(claim.constant)} checked as a bound").strip()
    return out


def check_rate_fit(claim: Claim, data: RunData, v: Verdict, until_floor: bool) -> Verdict:
    assert claim.rate is not None
    # A fitted rate is evidence from a finite run, never a certificate, whatever the data's method.
    v.method = "estimated"
    subs = {**param_values(data), **local_values(claim, data)}
    r = mp.mpf(sp.N(claim.rate.subs(subs), data.digits + data.guard))
    scale = mp.mpf(sp.N(claim.scale.subs(subs), data.digits + data.guard))
    # A rate is only ever fitted on iterates above the rounding floor, whatever ``until_floor`` says.
    stop = floor_index(data, claim.metric, data.steps)
    series = data.values[claim.metric][: stop + 1]
    pts = [(t, m) for t, m in enumerate(series) if m > 0]
    v.claimed_rate = fmt_num(r, 8)
    v.evaluated = f"k = 0..{stop}" + (" (later iterates are below the rounding floor)" if stop < data.steps else "")
    if data.exact_equilibrium or len(pts) < 4:
        v.note = "metric is exactly 0 (π_ref is the equilibrium)" if data.exact_equilibrium else (
            "too few iterates above the rounding floor to fit a rate")
        v.status = "pass" if data.exact_equilibrium else "inconclusive"
        return v
    ratios = [m / (scale * r**t) for t, m in pts]
    c_min = max(ratios)
    arg = ratios.index(c_min)
    tail = pts[len(pts) // 2:]
    xs = [mp.mpf(t) for t, _ in tail]
    ys = [mp.log(m) for _, m in tail]
    xbar, ybar = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - xbar) * (y - ybar) for x, y in zip(xs, ys)) / sum((x - xbar) ** 2 for x in xs)
    fitted = mp.exp(slope)
    v.fitted_rate, v.min_constant = fmt_num(fitted, 8), fmt_num(c_min, 6)
    # Slower: the tail decays less than 90 % as fast as claimed, and M_k/r^k still peaks in the last quarter.
    v.slower = bool(-slope < -mp.log(r) * mp.mpf("0.9") and arg >= 3 * len(pts) // 4)
    # ∃C: M_k ≤ C·scale·r^k holds on every finite run (C = the largest ratio): without a proof a run
    # cannot refute the rate. A proof is an invariant cone near π* in which KL decays more slowly.
    if proof_applies(claim, data):
        proof = prove_rate_floor(claim, data)
        if proof is not None:
            floor, claimed = proof
            v.status, v.method, v.first_k = "violated", "certified", floor.entered
            v.certified_at = "on the exact trajectory, from the iterate given on (a proof, not a fit)"
            rate_floor = mp.sqrt(mp.mpf(floor.growth_sq.lower())) ** floor.power  # the metric's per-step floor
            v.margin = f"g^{floor.power} − ρ ≥ {fmt_num(rate_floor - mp.mpf(claimed), 6)}"
            v.note = (f"no constant C makes the rate hold: {floor.describe()}, and g^{floor.power} > the claimed "
                      f"rate {claimed}")
            return v
    # A slower-looking tail without such a proof is evidence only: inconclusive, never violated.
    if v.slower:
        v.status, v.first_k = "inconclusive", pts[arg][0]
        v.note = ("the fitted tail rate looks slower than the claimed rate (evidence from a finite run, not a "
                  "proof: the constant is unknown, so no finite run can refute the rate; run longer)")
    else:
        v.note = ("holds on this run with C ≥ the smallest constant shown (a finite run always admits some C); "
                  "the fitted tail rate is consistent with the claimed one")
    return v
