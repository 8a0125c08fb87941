"""Binding a run's values at each point: which iterates a claim is evaluated at, and the value of every
symbol there (metrics, η_t, k, β, statics, ε targets) from the run's own record, for every method."""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np
import sympy as sp

from ..backends.balls import (
    BallBackend,
    to_arb,
)
from ..claims import SYMBOLS, Claim
from ..games import Game
from ..solvers import NashMD
from .collect_certified import FIELD_FREE, ball_series, field_free_series
from .record import METRIC_SERIES, RunData, mpf_of_fraction

mp = mpmath.mp


Point = tuple[int, dict[str, mpmath.mpf], dict[str, mpmath.mpf], dict[str, tuple[str, int]]]


def floor_index(data: RunData, metric: str, last: int) -> int:
    """Last k ≤ ``last`` before the metric has fewer than 9 correct digits (0 values are exact)."""
    for t in range(last + 1):
        if not above_floor(data, metric, t):
            return t - 1
    return last


def param_values(data: RunData) -> dict[sp.Symbol, sp.Expr]:
    from ..claims import beta, eta, inner_pg, n, sched, start_ref

    solver = data.solver
    return {inner_pg: sp.Integer(1 if solver.name in ("nash-mp-pg", "nash-mp-pg-sampled") else 0),
            beta: sp.Rational(solver.beta.numerator, solver.beta.denominator),
            eta: sp.Rational(solver.eta_at(0).numerator, solver.eta_at(0).denominator),
            n: sp.Integer(data.game.n),
            sched: sp.Integer(1 if isinstance(solver, NashMD) and solver.schedule else 0),
            start_ref: sp.Integer(1 if data.game.starts_at_reference() else 0)}


def claim_points(claim: Claim, data: RunData, until_floor: bool) -> tuple[list[int], int | None]:
    last = data.steps - (1 if claim.kind == "step" else 0)
    if claim.kind == "static":
        return [0], None
    stop = floor_index(data, claim.metric, data.steps) if until_floor else data.steps
    if claim.kind == "step":
        stop = min(stop - 1, last)
    cut = stop if stop < last else None
    return list(range(max(stop, -1) + 1)), cut


def above_floor(data: RunData, metric: str, t: int) -> bool:
    value, error = data.values[metric][t], data.errors[metric][t]
    return bool(value == 0 or error <= value * mp.mpf("1e-9"))


def digits_for_floor(data: RunData, metric: str) -> int:
    """Digits that would bring the first iterate below the floor (the one that cut the evaluation
    short) to 9 correct digits, plus 5."""
    t = next((t for t in range(len(data.values[metric])) if not above_floor(data, metric, t)), 0)
    value, error = abs(data.values[metric][t]), data.errors[metric][t]
    if value == 0 or error == 0:
        return 2 * data.digits
    return data.digits + max(1, int(mp.ceil(mp.log10(error / value)))) + 9 + 5


def proved_identity(statement: sp.Basic, game: Game) -> str | None:
    """Why ``statement`` holds with equality at every π on this game, when that is proved exactly."""
    from ..claims import Expl, KL_rev, beta

    if statement == sp.Le(beta * KL_rev, Expl) and _field_gaps_constant(game):
        return ("in every context P(e_i − e_1) is a constant vector (e.g. 2 actions), so Pπ − Pπ* is "
                "constant, D_F(Pπ, Pπ*) = 0 and Expl_β(π) = β KL(π‖π*) exactly (docs/proofs.md §4.2)")
    return None


def _field_gaps_constant(game: Game) -> bool:
    """Exact test: A δ ∈ span(1) for every δ with Σδ = 0, i.e. every column difference of P is constant."""
    for c in game.contexts:
        P = c.preference
        for i in range(1, c.n):
            if len({row[i] - row[0] for row in P}) != 1:
                return False
    return True


def hitting_points(data: RunData, claim: Claim, grid: int) -> list[Point]:
    """Targets ε = M_0·10^(−j/2); K_ε is the first k with M_k ≤ ε, for targets reached above the floor."""
    series, errors = data.values[claim.metric], data.errors[claim.metric]
    out: list[Point] = []
    m0 = series[0]
    if m0 == 0:
        return out
    for j in range(1, 2 * grid + 1):
        target = m0 * mp.mpf(10) ** (-mp.mpf(j) / 2)
        hit = next((t for t, m in enumerate(series) if m <= target), None)
        if hit is None or (errors[hit] > abs(series[hit] - target) / 2 and series[hit] != target):
            break
        vals, errs, ident = data.at(0)
        vals["eps"], errs["eps"] = target, mp.zero
        vals["k_eps"], errs["k_eps"] = mp.mpf(hit), mp.zero
        out.append((hit, vals, errs, ident))
    return out


def local_values(claim: Claim, data: RunData) -> dict[sp.Symbol, sp.Expr]:
    """ρ_loc (the linearised Nash-MP step's asymptotic KL rate), computed only for claims that use it."""
    from ..claims import rho_loc

    used = set().union(*(e.free_symbols for e in (*claim.hypotheses, *claim.statements)),
                       claim.rate.free_symbols if claim.rate is not None else set())
    if rho_loc not in used:
        return {}
    from .local import local_radius2, local_spectrum

    with mpmath.workdps(data.digits + data.guard):
        mus = [m for ctx in local_spectrum(data.game, data.beta, data.digits) for m in ctx]
        value = local_radius2(mpf_of_fraction(data.solver.eta_at(0)), mpf_of_fraction(data.beta), mus)
        return {rho_loc: sp.Float(mp.nstr(value, data.digits), data.digits)}


def ball_point(data: RunData, k: int, series: dict[str, list[Any]],
             at: int | None = None) -> tuple[dict[str, Any], dict[str, tuple[str, int]]]:
    """Balls of every symbol at index k of ``series``; the run's parameters (k, η_t) are those of iterate
    ``at`` (default k): a step point's two-entry series is indexed 0, 1 but stands for iterate ``at``."""
    from flint import arb, fmpq

    assert data.balls is not None
    vals: dict[str, Any] = dict(data.balls.statics)
    ident: dict[str, tuple[str, int]] = {}
    for name, s in series.items():
        for suffix, t in (("", k), ("@0", 0), ("@next", k + 1)):
            if t < len(s):
                vals[name + suffix] = s[t]
                ident[name + suffix] = (name, t)
    if at is not None:  # a step point: X_0 is the run's own π_0, not the exact point standing for iterate ``at``
        for name, s in data.balls.series.items():
            vals[name + "@0"], ident[name + "@0"] = s[0], (name, 0)
    t = k if at is None else at
    eta = data.solver.eta_at(t)
    vals["k"], vals["eta"] = arb(t), arb(fmpq(eta.numerator, eta.denominator))
    return vals, ident


def step_point_series(data: RunData, t: int, names: frozenset[str] | None = None) -> dict[str, list[Any]]:
    """Metrics at π = normalize(exp(mid log π_t)) (an exact distribution) and one exact step from it.

    ``names``: the series the claim reads (default: all). The step is taken once per t; series are
    computed once and shared by every claim; those that need no field P·π are computed alone.
    """
    from ..numeric import Oracle

    assert data.balls is not None
    br = data.balls
    cached = br.points.setdefault(t, {})
    missing = (names if names is not None else frozenset({*METRIC_SERIES, "l1_half"})) - set(cached)
    if missing:
        b = br.ng.backend
        assert isinstance(b, BallBackend)
        b.activate()
        if t not in br.steps:
            x = [b.log_normalize(np.array([to_arb(v).mid() for v in c], dtype=object)) for c in br.policies[t]]
            br.steps[t] = (x, data.solver.step(br.ng, x, t, Oracle(br.ng)))
        x, step = br.steps[t]
        if missing <= FIELD_FREE:
            cached.update(field_free_series(br.ng, br.star, [x, step.policy], [step.half], missing))
        else:
            full = ball_series(br.ng, br.star, data.beta, [x, step.policy], [step.half])
            cached.update({name: vals for name, vals in full.items() if name not in cached})
    return cached


def series_read(claim: Claim) -> frozenset[str]:
    """The metric series a claim's statements read (``kl`` for KL_k, KL_{k+1} and KL_0)."""
    return frozenset(SYMBOLS[sym][0].split("@")[0] for rel in claim.statements for sym in rel.free_symbols
                     if sym in SYMBOLS) & frozenset({*METRIC_SERIES, "l1_half"})


def ball_floor(data: RunData, claim: Claim) -> int:
    """Last k before any series the claim reads has a relative radius above 1e-9 (exact zeros are exact)."""
    names = {SYMBOLS[sym][0].split("@")[0] for rel in claim.statements for sym in rel.free_symbols if sym in SYMBOLS}
    stop = data.steps
    for name in names & set(METRIC_SERIES):
        stop = min(stop, floor_index(data, name, data.steps))
    return stop


def ball_hitting_points(data: RunData, claim: Claim, grid: int) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    """Targets ε = mid(M_0)·10^(−j/2), exact; K_ε is certain: M_t > ε for t < K_ε and M_K_ε ≤ ε, for every point."""
    from flint import arb

    assert data.balls is not None
    series = data.balls.series[claim.metric]
    out: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    if series[0].is_zero():
        return out
    targets = [(series[0].mid() * arb(10) ** (arb(-j) / 2)).mid() for j in range(1, 2 * grid + 1)]
    if not series[-1] <= targets[1]:  # slow decay: targets spread over the decay seen in the run instead
        ratio = series[-1].mid() / series[0].mid()
        targets = [(series[0].mid() * ratio ** (arb(j) / (2 * grid))).mid() for j in range(1, 2 * grid + 1)]
    for target in targets:
        hit = None
        for t, m in enumerate(series):
            if m <= target:
                hit = t
                break
            if not m > target:
                break
        if hit is None:
            break
        vals, ident = ball_point(data, 0, data.balls.series)
        vals["eps"], vals["k_eps"] = target, arb(hit)
        out.append((hit, vals, ident))
    return out
