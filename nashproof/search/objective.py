"""The float64 objective of a search and one search task (target × n × restart): CMA-ES on the unit
cube, then a Nelder–Mead refinement.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import mpmath
import numpy as np

from ..claims import Catalogue, Claim, builtin_catalogue
from ..errors import NashproofError
from ..parallel import task_seed
from ..verify import RunData
from ..verify import propagate_error as _propagate
from ..verify import symbol_args as _args
from .confirm import collect_instance
from .space import FLOAT_TOLERANCE, FloatHypotheses, Instance, Space, decode, to_unit
from .targets import Target, TargetFns, target_fns, target_ratio

mp = mpmath.mp

#: Where float64 is too inaccurate, the objective is recomputed in mpmath at this many digits.
FALLBACK_DIGITS = 30
_FAILURES = (NashproofError, ValueError, ZeroDivisionError, OverflowError, FloatingPointError, np.linalg.LinAlgError)


def float_ratio(claim: Claim, fns: TargetFns, inst: Instance, tolerance: float = FLOAT_TOLERANCE) -> float:
    """The target's worst ratio over the instance's iterates, in float64 (0 where undefined).

    The float backend's error estimate (rounding floor × logit scale) is propagated to the ratio; where it
    exceeds ``tolerance`` (cancellation, e.g. near π*) the instance is re-evaluated in mpmath at
    :data:`FALLBACK_DIGITS` digits, so rounding can neither fake a ratio nor hide one.
    """
    try:
        data = collect_instance(inst.game, inst.make_solver(), inst.steps, 15, backend="float")
    except _FAILURES:
        return 0.0
    best, rejected = _best_ratio(claim, fns, data, tolerance, _float_scale(inst))
    if rejected:
        try:
            data = collect_instance(inst.game, inst.make_solver(), inst.steps, FALLBACK_DIGITS, guard=10)
        except _FAILURES:
            return best
        with mpmath.workdps(FALLBACK_DIGITS + 15):
            best = max(best, _best_ratio(claim, fns, data, tolerance)[0])
    return best


def _float_scale(inst: Instance) -> float:
    """Largest log-magnitude in play: start logits, log π_ref, and |log π*| ≤ max|log π_ref| + 1/β."""
    logs = [abs(float(x)) for c in inst.game.contexts for x in (c.start or ())]
    refs = [abs(math.log(float(r))) if r > 0 else 700.0 for c in inst.game.contexts for r in c.reference]
    return 1 + max(logs, default=0.0) + 2 * max(refs) + 1 / float(inst.beta)


def _best_ratio(claim: Claim, fns: TargetFns, data: RunData, tolerance: float,
                float_scale: float | None = None) -> tuple[float, bool]:
    """Worst ratio over the points; float64 errors are 1000·n·u·(|v| + scale) per value when ``float_scale``."""
    best, rejected = 0.0, False
    unit = mp.mpf(1000 * data.game.n) * mp.mpf(2.0**-52)
    with np.errstate(all="ignore"):
        for t in _eval_points(claim, data.steps):
            vals, errs, ident = data.at(t)
            if float_scale is not None:
                errs = {name: unit * (abs(vals[name]) + float_scale) if errs.get(name) else mp.zero
                        for name in vals}
            args = [float(a) for a in _args(vals)]
            try:
                r = float(target_ratio(fns, args))  # type: ignore[arg-type]
                denom = float(fns.rhs(*args) if fns.term is None else fns.term(*args))
                gap = float(fns.rhs(*args) - fns.lhs(*args))
                err = float(_propagate(fns.compiled, _args(vals), errs, ident)) / denom if fns.compiled else 0.0
            except (ValueError, ZeroDivisionError, OverflowError, TypeError):
                continue
            if gap == 0 and err == 0:  # an identity such as KL_0 ≤ KL_0 at k = 0, not a tight instance
                continue
            if not (math.isfinite(r) and denom > 0):
                continue
            if 0 <= err <= tolerance:
                best = max(best, r)
            else:
                rejected = True
    return best, rejected


def _eval_points(claim: Claim, steps: int) -> range:
    if claim.kind == "static":
        return range(1)
    return range(steps) if claim.kind == "step" else range(steps + 1)


@dataclass(frozen=True)
class SearchTask:
    target: Target
    space: Space
    evals: int
    restart: int
    seed: int
    claim_modules: tuple[str, ...] = ()

    @property
    def identity(self) -> tuple[object, ...]:
        return (self.target.label, self.space.n, self.space.contexts, self.restart, self.seed)


@dataclass
class TaskResult:
    task: SearchTask
    x: list[float]
    ratio: float
    evaluations: int
    seconds: float


@lru_cache(maxsize=8)
def _catalogue(modules: tuple[str, ...]) -> Catalogue:
    cat = builtin_catalogue()
    for m in modules:
        cat.load(m)
    return cat


def run_search_task(task: SearchTask) -> TaskResult:
    """CMA-ES on the unit cube, then Nelder–Mead from the best point; deterministic given the task."""
    import cma
    from scipy.optimize import minimize

    start = time.monotonic()
    claim = _catalogue(task.claim_modules).get(task.target.claim)
    fns = target_fns(claim, task.target, "math")
    hyp = FloatHypotheses(claim)
    evals = 0
    best_x: list[float] = []
    best = -1.0

    def f(x: Sequence[float]) -> float:
        nonlocal evals, best, best_x
        evals += 1
        xs = [to_unit(v) for v in x]
        try:
            r = float_ratio(claim, fns, decode(task.space, xs, hyp), task.space.float_tolerance)
        except NashproofError:
            r = 0.0
        if r > best:
            best, best_x = r, xs
        return -r

    rng = np.random.default_rng(task_seed(*task.identity))
    dim = task.space.dimension()
    x0 = list(rng.uniform(0.2, 0.8, dim))
    es = cma.CMAEvolutionStrategy(x0, 0.3, {"seed": int(rng.integers(1, 2**31 - 1)), "bounds": [0, 1],
                                             "maxfevals": max(10, task.evals * 3 // 4), "verbose": -9})
    while not es.stop():
        xs = es.ask()
        es.tell(xs, [f(x) for x in xs])
    if best_x:
        minimize(f, best_x, method="Nelder-Mead",
                 options={"maxfev": max(10, task.evals // 4), "xatol": 1e-12, "fatol": 1e-15})
    return TaskResult(task, best_x, best, evals, time.monotonic() - start)
