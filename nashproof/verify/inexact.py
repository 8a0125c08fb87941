"""Inexact and stochastic solvers: their record (√KL, step errors, samples) and the task that checks them.

Deterministic error models keep the ordinary verdicts of :func:`nashproof.verify.check_claim`
(precision doubling; the two precisions see the same perturbation directions and the same
duels). A claim of kind ``probability`` is checked over R seeded runs (seeds s, s+1, …) by the
statistical method (:mod:`.statistical`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from fractions import Fraction

import mpmath

from ..claims import Claim
from ..errors import InputError
from ..families import load_game
from ..games import Game
from ..numbers import fraction_str
from ..solvers import Solver
from ..solvers.inexact import InexactSolver
from .check import check_claim
from .collect import collect
from .record import RunData
from .semantics import Verdict
from .statistical import POWER_FACTOR, VERDICT_CONFIDENCE, check_probability, runs_for, runs_for_power

mp = mpmath.mp


def _mpf(x: Fraction) -> mpmath.mpf:
    return mp.mpf(x.numerator) / x.denominator


def collect_inexact(game: Game, solver: InexactSolver, steps: int, digits: int = 30, backend: str = "mpmath",
                    alpha: Fraction | None = None) -> RunData:
    """:func:`collect`, plus √KL, the measured step errors, exact query and duel counts, and the claim values."""
    solver.step_errors = []
    data = collect(game, solver, steps, digits, backend=backend)
    with mpmath.workdps(digits + data.guard):
        kl, err = data.values["kl"], data.errors["kl"]
        # KL is ≥ 0 but may come out slightly negative within rounding (π_0 = π*): √ of its positive part
        data.values["rootkl"] = [mp.sqrt(max(v, mp.zero)) for v in kl]
        data.errors["rootkl"] = [mp.sqrt(max(v + e, mp.zero)) - mp.sqrt(max(v - e, mp.zero)) for v, e in zip(kl, err)]
        runs = solver.step_errors or [[0.0] * steps]
        hi, lo = runs[-1], runs[0]
        floor = mp.mpf(10) ** (-min(digits, 15)) * 100 * game.n
        data.values["step_err"] = [mp.mpf(hi[t]) if t < len(hi) else mp.zero for t in range(steps + 1)]
        data.errors["step_err"] = [2 * abs(mp.mpf(hi[t]) - mp.mpf(lo[t])) + floor * (1 + mp.mpf(hi[t]))
                                   if t < len(hi) and t < len(lo) else mp.zero for t in range(steps + 1)]
        per_iter = solver.queries_per_iteration()
        data.values["N"] = [mp.mpf(t * per_iter) for t in range(steps + 1)]
        m = getattr(solver, "m", None) or 0
        data.values["samples"] = [mp.mpf(t * per_iter * game.n * m * len(game.contexts)) for t in range(steps + 1)]
        data.errors["samples"] = [mp.zero] * (steps + 1)
        extra = {key: _mpf(value) for key, value in solver.claim_values().items()}
        extra["Q"] = mp.mpf(steps * per_iter)
        extra["contexts"] = mp.mpf(len(game.contexts))
        extra["alpha"] = _mpf(alpha) if alpha is not None else mp.nan
        data.statics.update(extra)
        data.exact_statics.update(solver.claim_values())
        if alpha is not None:
            data.exact_statics["alpha"] = alpha
        if data.lows:  # the D-digit values, for the checker's comparison of the two precisions
            data.lows["rootkl"] = [mp.sqrt(max(v, mp.zero)) for v in data.lows["kl"]]
            data.lows["step_err"] = [mp.mpf(lo[t]) if t < len(lo) else mp.zero for t in range(steps + 1)]
            for key in ("N", "samples"):
                data.lows[key] = data.values[key]
            data.static_lows.update(extra)
    return data


def seeded(solver: InexactSolver, seed: int) -> InexactSolver:
    clone = copy.copy(solver)
    clone.seed = seed  # type: ignore[attr-defined]
    clone.step_errors = []
    return clone


def check_inexact(game: Game, solver: InexactSolver, claims: list[Claim], steps: int, digits: int = 30,
                  confidence: Fraction = Fraction(95, 100), runs: int = 0, backend: str | None = None,
                  until_floor: bool = True, ignore_hypotheses: bool = False,
                  on_run: Callable[[int], None] | None = None, power: Fraction | None = None) -> list[Verdict]:
    """Every claim on an inexact solver: ordinary verdicts, and statistical ones for probability claims."""
    alpha = 1 - confidence
    det = [c for c in claims if c.kind != "probability"]
    prob = [c for c in claims if c.kind == "probability"]
    out: dict[str, Verdict] = {}
    data: RunData | None = None
    if det:
        data = collect_inexact(game, solver, steps, digits, backend or "mpmath", alpha)
        # With δ > 0 the metric plateaus far above the rounding floor but may start at 0 (π_0 = π*): evaluate
        # every k; a point inside its rounding error is inconclusive, never silently skipped.
        floor_cut = until_floor and solver.delta_bound() == 0
        for c in det:
            out[c.id] = check_claim(c, data, ignore_hypotheses, floor_cut)
    applicable = [c for c in prob if c.applies_to(solver.name) and solver.stochastic]
    if applicable:
        r = runs or (runs_for_power(float(alpha), float(power), POWER_FACTOR, VERDICT_CONFIDENCE) if power is not None
                     else runs_for(float(alpha), VERDICT_CONFIDENCE))
        base = getattr(solver, "seed", 0)
        datas = []
        for i in range(r):
            datas.append(collect_inexact(game, seeded(solver, base + i), steps, digits, backend or "float", alpha))
            if on_run is not None:
                on_run(i + 1)
        for c in applicable:  # float64 runs: the KL plateau sits far above the rounding error, evaluate every k
            out[c.id] = check_probability(c, datas, alpha, until_floor and (backend or "float") != "float",
                                          power if not runs else None)
    for c in prob:
        if c.id not in out:
            probe = data if data is not None else collect_inexact(game, solver, 1, 15, "float", alpha)
            out[c.id] = check_claim(c, probe, ignore_hypotheses, until_floor)
            if out[c.id].status != "not-applicable":
                out[c.id].status, out[c.id].note = "not-applicable", "a probability claim needs a stochastic solver"
    return [out[c.id] for c in claims]


def is_inexact(solver: Solver) -> bool:
    return isinstance(solver, InexactSolver)


def run_inexact_task(game_spec: str, solver: InexactSolver, claims: list[Claim], steps: int, digits: int,
                     confidence: Fraction | None, runs: int, ignore_hypotheses: bool, until_floor: bool,
                     power: Fraction | None = None) -> list[Verdict]:
    conf = confidence if confidence is not None else Fraction(95, 100)
    if not 0 < conf < 1:
        raise InputError(f"confidence must lie strictly between 0 and 1, got {fraction_str(conf)}")
    return check_inexact(load_game(game_spec), solver, claims, steps, digits, conf, runs,
                         until_floor=until_floor, ignore_hypotheses=ignore_hypotheses, power=power)

