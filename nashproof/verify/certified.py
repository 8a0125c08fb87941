"""The ``certified`` method: a claim is decided only when every point of the balls agrees."""

from __future__ import annotations

import math
from typing import Any

import mpmath

from ..backends.balls import (
    LOG2_10,
    log2_abs,
    log2_radius,
    to_arb,
    to_mpf,
)
from ..claims import Claim
from .binding import (
    ball_floor,
    ball_hitting_points,
    ball_point,
    claim_points,
    proved_identity,
    series_read,
    step_point_series,
)
from .collect_certified import MAX_RETRY_DIGITS
from .compiler import SYMBOL_NAMES, BallStatement, ball_statement
from .record import RunData
from .semantics import Verdict

mp = mpmath.mp


ON_TRAJECTORY = "exact trajectory"


_AT_POINTS = "exactly represented points (π ∝ exp(mid log π_k)), one exact step each"


def check_certified(claim: Claim, data: RunData, v: Verdict, until_floor: bool, eps_grid: int) -> Verdict:
    """A claim on certified data: decided only when every point of the balls agrees."""
    assert data.balls is not None
    v.method = "certified"
    step = claim.kind == "step" and not data.exact_equilibrium  # exact π*: the trajectory is exactly π_ref
    v.certified_at = _AT_POINTS if step else ON_TRAJECTORY
    evaluations: list[tuple[int, dict[str, Any], dict[str, tuple[str, int]]]] = []
    cut: int | None = None
    if claim.kind == "hitting":
        if data.exact_equilibrium:
            v.evaluated, v.note = "exact", "π_ref is the equilibrium exactly: KL_0 = 0, so K_ε = 0 for every ε > 0"
            return v
        evaluations = ball_hitting_points(data, claim, eps_grid)
    elif step:
        reads = series_read(claim)
        for t in range(data.steps):
            pair = step_point_series(data, t, reads)
            vals, ident = ball_point(data, 0, pair, at=t)
            evaluations.append((t, vals, ident))
    else:
        points, cut = claim_points(claim, data, until_floor)
        if until_floor and claim.kind != "static":  # the floor of every metric the claim reads, not only its own
            stop = ball_floor(data, claim)
            if points and stop < points[-1]:
                points, cut = points[: stop + 1], stop
        evaluations = [(t, *ball_point(data, t, data.balls.series)) for t in points]
    undecided: list[tuple[int, Any]] = []
    equal: list[int] = []
    proved = ""
    identities = {rel: proved_identity(rel, data.game) for rel in claim.statements}
    worst_ratio: Any = None
    for t, vals, _ident in evaluations:
        args = [vals.get(name, None) for name in SYMBOL_NAMES]
        for rel in claim.statements:
            comp = ball_statement(rel, first=t == 0 and not step)
            if comp is True:
                continue
            if comp is False:
                v.status, v.first_k, v.note = "violated", t, "the statement is identically false here"
                return v
            assert isinstance(comp, BallStatement)
            lhs, rhs, gap = comp.lhs(*args), comp.rhs(*args), comp.gap(*args)
            if rhs > 0 and lhs >= 0 and not gap.is_zero():
                ratio = lhs / rhs
                if worst_ratio is None or ratio.mid() > worst_ratio.mid():
                    worst_ratio = ratio
            if gap < 0:
                v.status, v.first_k = "violated", t
                v.observed, v.bound = _ball_s(lhs, 12), _ball_s(rhs, 12)
                v.margin, v.error = _ball_s(gap), _rad_s(gap)
                if claim.kind == "hitting":
                    v.note = (v.note + f" at ε = {_ball_s(vals['eps'])}").strip()
                v.tightness = _ball_s(worst_ratio) if worst_ratio is not None else None
                v.evaluated = _ball_range_text(claim, evaluations, cut, step)
                return v
            if not gap >= 0:
                identity = identities[rel]
                if identity is not None:  # equality proved exactly; the balls straddle 0 around it
                    equal.append(t)
                    proved = identity
                else:
                    undecided.append((t, gap))
    v.tightness = _ball_s(worst_ratio) if worst_ratio is not None else None
    v.evaluated = _ball_range_text(claim, evaluations, cut, step)
    if data.exact_equilibrium:
        v.note = (v.note + " π_ref is the equilibrium exactly (Pπ_ref constant): every metric is exactly 0").strip()
    if not evaluations:
        v.status = "inconclusive"
        if claim.kind == "hitting":
            v.note = (v.note + " no target ε was certainly reached within the horizon: raise the steps").strip()
        else:
            v.note = (v.note + " nothing could be evaluated: no point is certified; raise --digits").strip()
            v.needed_digits = min(2 * data.digits, MAX_RETRY_DIGITS)
        return v
    if undecided:
        t, gap = undecided[0]
        v.status, v.first_k, v.margin, v.error = "inconclusive", t, _ball_s(gap), _rad_s(gap)
        extra = 0
        for _, g in undecided:  # the balls' width over the gap's size; a gap inside its own radius: double
            lg_mid, lg_rad = log2_abs(g), log2_radius(g)
            extra = max(extra, math.ceil((lg_rad - lg_mid) / LOG2_10) + 5 if lg_mid > lg_rad else data.digits)
        v.needed_digits = min(data.digits + max(extra, 5), MAX_RETRY_DIGITS)
        v.note = (v.note + f" {len(undecided)} point(s) where the balls straddle the bound; "
                  f"rerun with --digits {v.needed_digits}").strip()
    elif equal:
        v.status, v.first_k = "equality", equal[0]
        v.note = (v.note + f" {len(equal)} point(s) hold with equality, proved: {proved}").strip()
    return v


def _rad_s(x: Any) -> str:
    """The ball's radius, printed rounded up (3 digits)."""
    return str(to_arb(x).rad().upper().str(3, radius=False))


def _ball_s(x: Any, d: int = 6) -> str:
    return str(mp.nstr(to_mpf(to_arb(x)), d))


def _ball_range_text(claim: Claim, evaluations: list[Any], cut: int | None, step: bool) -> str:
    if not evaluations:
        return "no point could be evaluated"
    if claim.kind == "hitting":
        return f"{len(evaluations)} targets ε"
    text = f"k = {evaluations[0][0]}..{evaluations[-1][0]}"
    if step:
        return text + " (each at an exactly represented point)"
    if cut is not None:
        text += " (later iterates: balls wider than 1e-9 relative)"
    return text
