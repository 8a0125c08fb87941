"""One compared step of an audit (the candidate's answer beside the declared map's input) and how it
becomes an observation for the fits: its tolerance (rounding; in the statistical mode z standard errors
and a Jensen allowance) and its log coordinates."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from ..games import Game
from .ident import Obs
from .steps import tolerance

F64 = npt.NDArray[np.float64]


@dataclass
class Observed:
    """One compared step: context ``c`` of a game at β, from ``pi``; ``out`` is the candidate's answer."""

    spec: str
    game: Game
    c: int
    beta: Fraction
    label: str
    t: int
    eta: float  # the step, in Nash-MP/MMD's normalisation (η_t for a schedule)
    pi: F64
    out: F64  # for the statistical mode: the mean of the centred logs, normalised back
    u: float
    stderr: F64 | None = None  # statistical mode: standard error of the mean centred log, per entry
    prev: F64 | None = None  # π_(k−1) on its own trajectory (optimistic MWU's memory); None: a fresh start
    expected: F64 | None = None  # the declared map's log π_(k+1) (set by the conformance check)
    spread: float = 0.0  # statistical mode: the largest per-call variance of a centred log (Jensen allowance)


def to_obs(o: Observed, tol: float) -> Obs:
    ctx = o.game.contexts[o.c]
    P = np.array([[float(p) for p in row] for row in ctx.preference])
    ref = np.array([float(r) for r in ctx.reference])
    prev = None if o.prev is None else np.log(o.prev) - math.log(float(o.prev.sum()))
    return Obs(np.log(o.pi) - math.log(float(o.pi.sum())), np.log(o.out), P, np.log(ref / ref.sum()),
               float(o.beta), o.eta, tol, prev, o.expected)


def observations(observed: list[Observed], confidence: float) -> dict[float, list[Obs]]:
    by_beta: dict[float, list[Obs]] = {}
    for o in observed:
        by_beta.setdefault(float(o.beta), []).append(to_obs(o, step_bound(o, z_score(confidence, 1))))
    return by_beta


def step_bound(o: Observed, z: float) -> float:
    """The step's tolerance: rounding; in the statistical mode also z standard errors and the Jensen
    allowance (1 + η)·(largest per-call variance), which bounds the bias of a mean of logs of a map that
    is smooth but not linear in the noise (its second-order term; it does not shrink with R)."""
    ref = np.array([float(r) for r in o.game.contexts[o.c].reference])
    tol = tolerance(o.pi, ref, float(o.beta), o.eta, o.game.n, o.u)
    if o.stderr is None:
        return tol
    return tol + z * float(np.max(o.stderr)) + (1 + o.eta) * o.spread


def z_score(confidence: float, tests: int) -> float:
    return statistics.NormalDist().inv_cdf(1 - (1 - confidence) / (2 * max(tests, 1)))
