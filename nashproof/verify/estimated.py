"""The ``estimated`` (and ``screened``) method: balls built from error estimates decide each point.

A point passes or fails only when the ball of rhs − lhs (midpoints: the values; radii: the error
estimates; constants and arithmetic enclosed exactly) lies on one side of 0. Equality only when proved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath
import sympy as sp

from ..backends.balls import (
    to_arb,
    to_mpf,
)
from ..claims import Claim
from .binding import Point, above_floor, claim_points, digits_for_floor, hitting_points, proved_identity
from .compiler import SYMBOL_NAMES, ExactStatement, ball_statement, compile_statement, symbol_args
from .record import RunData
from .semantics import Verdict, fmt_num

mp = mpmath.mp


def check_estimated(claim: Claim, data: RunData, v: Verdict, until_floor: bool, eps_grid: int) -> Verdict:
    compiled = [compile_statement(s) for s in claim.statements]
    identities = [proved_identity(s, data.game) for s in claim.statements]
    points, cut = claim_points(claim, data, until_floor)
    if claim.kind == "hitting":
        evaluations = hitting_points(data, claim, eps_grid)
    else:
        evaluations = [(t, *data.at(t)) for t in points]
    tally = _Tally()
    for t, vals, errs, _ident in evaluations:
        args = symbol_args(vals)
        first = t == 0 or claim.kind == "hitting"  # hitting points read the run at k = 0
        for rel, comp, identity in zip(claim.statements, compiled, identities):
            p = _point(comp, args, errs, rel, first, identity is not None,
                       data.exact_at(0 if claim.kind == "hitting" else t))
            tally.add(t, p)
            if p.status == "violated":
                v.status, v.first_k = "violated", t
                v.observed, v.bound = fmt_num(p.lhs, 12), fmt_num(p.rhs, 12)
                v.margin, v.error = fmt_num(p.gap), fmt_num(p.err, 3)
                if claim.kind == "hitting":
                    v.note = (v.note + f" at ε = {fmt_num(vals['eps'])}").strip()
                v.tightness = tally.tightness()
                v.evaluated = _range_text(claim, evaluations, cut)
                return v
            if p.status == "equal" and identity is not None:
                tally.proved = identity
    v.tightness = tally.tightness()
    v.evaluated = _range_text(claim, evaluations, cut)
    if data.exact_equilibrium:
        v.note = (v.note + " π_ref is the equilibrium exactly (Pπ_ref constant): every metric is exactly 0").strip()
    return _conclude(claim, data, v, tally, bool(evaluations))


@dataclass
class _PointResult:
    status: str  # pass, violated, undecided, equal
    lhs: mpmath.mpf
    rhs: mpmath.mpf
    gap: mpmath.mpf
    err: mpmath.mpf
    prop: mpmath.mpf


def _point(comp: ExactStatement, args: list[mpmath.mpf], errs: dict[str, mpmath.mpf], rel: sp.Basic, first: bool,
           identity: bool, exact: dict[str, Fraction]) -> _PointResult:
    """One statement at one point: pass or violated only when the ball of rhs − lhs lies on one side of 0.

    The balls have the estimated values as midpoints and their error estimates as radii; constants and
    the arithmetic of the statement are enclosed exactly (:func:`ball_statement`), so the rounding of
    the working precision never decides. An identity is ``equal`` only when it is proved.
    """
    lhs, rhs = comp.lhs(*args), comp.rhs(*args)
    gap = rhs - lhs
    ball = ball_statement(rel, first)
    if ball is True or ball is False:
        return _PointResult("pass" if ball else "violated", lhs, rhs, gap, mp.zero, mp.zero)

    with _ball_precision():
        balls = [_estimate_ball(a, errs.get(name, mp.zero), exact.get(name)) for a, name in zip(args, SYMBOL_NAMES)]
        g = ball.gap(*balls)
    err = to_mpf(g.rad().upper())
    if g < 0:
        status = "violated"
    elif g >= 0:
        status = "pass"
    elif identity:
        status = "equal"
    else:
        status = "undecided"
    return _PointResult(status, lhs, rhs, gap, err, err)


def _estimate_ball(value: mpmath.mpf, error: mpmath.mpf, exact: Fraction | None) -> Any:
    """The ball of one estimated value: exact for the run's rationals, else value ± (error estimate + the
    rounding of the stored value; none for integers, 1/2 and exact zeros, which are stored exactly)."""
    from flint import arb

    if exact is not None:
        return to_arb(exact)
    if mp.isnan(value):
        return None
    stored_exactly = error == 0 and (value == mp.floor(value) or value == mp.mpf(0.5))
    return arb(to_arb(value), to_arb(error + (mp.zero if stored_exactly else abs(value) * mp.eps)))


def _ball_precision() -> Any:
    """flint at the current mpmath working precision plus a guard."""
    from ..backends.balls import precision

    return precision(mp.prec + 64)


@dataclass
class _Tally:
    """What the points of one claim gave: the worst ratio, undecided points, points of equality."""

    worst_ratio: mpmath.mpf | None = None
    undecided: list[tuple[int, mpmath.mpf, mpmath.mpf]] = field(default_factory=list)
    equal: list[int] = field(default_factory=list)
    proved: str = ""

    def add(self, t: int, p: _PointResult) -> None:
        if p.rhs > 0 and p.lhs >= 0 and not (p.gap == 0 and p.prop == 0):  # skip identities such as KL_0 ≤ KL_0
            ratio = p.lhs / p.rhs
            self.worst_ratio = ratio if self.worst_ratio is None or ratio > self.worst_ratio else self.worst_ratio
        if p.status == "undecided":
            self.undecided.append((t, p.gap, p.err))
        elif p.status == "equal":
            self.equal.append(t)

    def tightness(self) -> str | None:
        return fmt_num(self.worst_ratio) if self.worst_ratio is not None else None


def _conclude(claim: Claim, data: RunData, v: Verdict, tally: _Tally, evaluated: bool) -> Verdict:
    """The verdict of a claim with no certain violation: pass, equality or inconclusive."""
    if not evaluated:
        if claim.kind == "hitting" and data.exact_equilibrium:
            v.note = (v.note + " KL_0 = 0 exactly: K_ε = 0 for every ε").strip()
            return v
        v.status = "inconclusive"
        if claim.kind == "hitting" and above_floor(data, claim.metric, 0):
            v.note = (v.note + " nothing evaluated: the first target ε = KL_0/√10 is not reached within the "
                      "run; rerun with more --steps").strip()
        else:
            v.needed_digits = digits_for_floor(data, claim.metric)
            v.note = (v.note + " nothing evaluated: no iterate clears the rounding floor; rerun with "
                      f"--digits {v.needed_digits}").strip()
    elif tally.undecided:
        t, gap, err = tally.undecided[0]
        v.status, v.first_k, v.margin, v.error = "inconclusive", t, fmt_num(gap), fmt_num(err, 3)
        need = data.digits + (int(mp.ceil(mp.log10(err / abs(gap)))) if gap != 0 else data.digits) + 5
        v.needed_digits = need
        v.note = (v.note + f" {len(tally.undecided)} point(s) inside the rounding error; "
                  f"rerun with --digits {need}").strip()
    elif tally.equal:
        v.status, v.first_k = "equality", tally.equal[0]
        v.note = (v.note + f" {len(tally.equal)} point(s) hold with equality, proved: {tally.proved}").strip()
    return v


def _range_text(claim: Claim, evaluations: list[Point], cut: int | None) -> str:
    if not evaluations:
        return "no point above the rounding floor"
    if claim.kind == "hitting":
        return f"{len(evaluations)} targets ε"
    text = f"k = {evaluations[0][0]}..{evaluations[-1][0]}"
    if cut is not None:
        text += " (later iterates are below the rounding floor)"
    return text
