"""The record of one run: every metric series with its error (estimate or ball radius), the statics."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np

from ..games import Game
from ..numeric import LogPolicy, NumericGame
from ..solvers import NashMD, Solver

mp = mpmath.mp


Series = dict[str, list[mpmath.mpf]]


def eta_bar(beta: Fraction) -> float:
    """Largest step of NMP-KL-STEP: η̄(β) = 2(β + √(1+β²))."""
    return 2 * (float(beta) + math.sqrt(1 + float(beta) ** 2))


def eta_bar_below(beta: Fraction, digits: int = 12) -> Fraction:
    """A rational just below η̄(β), exactly admissible: (η/2)² ≤ 1 + ηβ."""
    scale = 10**digits
    x = Fraction(math.floor(eta_bar(beta) * scale) - 1, scale)
    while (x / 2) ** 2 > 1 + x * beta:
        x -= Fraction(1, scale)
    return x


@dataclass
class RunData:
    """Every metric of a trajectory, at D + G digits, with an error estimate for each value.

    ``lows`` holds the same series at D digits (empty when only one precision was run), kept for
    inspection: no verdict rests on a gap shrinking with precision (an unproved equality is
    ``inconclusive``).
    """

    game: Game
    solver: Solver
    beta: Fraction
    digits: int
    guard: int
    steps: int
    values: Series
    errors: Series
    statics: dict[str, mpmath.mpf]
    exact_equilibrium: bool = False
    backend_name: str = "mpmath"
    static_errors: dict[str, mpmath.mpf] = field(default_factory=dict)
    lows: Series = field(default_factory=dict)
    static_lows: dict[str, mpmath.mpf] = field(default_factory=dict)
    method: str = "estimated"  # certified (balls) | estimated (precision doubling) | screened (float64)
    balls: BallRun | None = None
    #: Statics known as exact rationals (an inexact solver's δ, m, α, …): bound exactly, never rounded.
    exact_statics: dict[str, Fraction] = field(default_factory=dict)

    def exact_at(self, k: int) -> dict[str, Fraction]:
        """The run's exact values at iterate k: its parameters (β, η_t, k, n, π_ref's minimum, the
        schedule flag) and its exact statics. The engine binds these as exact balls."""
        scheduled = isinstance(self.solver, NashMD) and self.solver.schedule
        return {**self.exact_statics, "beta": self.beta, "eta": self.solver.eta_at(k), "k": Fraction(k),
                "n": Fraction(self.game.n), "min_ref": self.game.min_reference(), "schedule": Fraction(int(scheduled))}

    def at(self, k: int, low: bool = False) -> tuple[dict[str, mpmath.mpf], dict[str, mpmath.mpf],
                                                    dict[str, tuple[str, int]]]:
        """Values, errors and identities of every symbol at iterate k (``@next``: k+1, ``@0``: 0).

        The identity (metric, index) lets the checker see that, e.g., KL_k and KL_0 at k = 0 are one
        number, so their rounding errors cancel instead of adding up. ``low``: the values at D digits.
        """
        statics, values = (self.static_lows, self.lows) if low else (self.statics, self.values)
        vals: dict[str, mpmath.mpf] = dict(statics)
        errs: dict[str, mpmath.mpf] = {key: self.static_errors.get(key, mp.zero) for key in statics}
        ident: dict[str, tuple[str, int]] = {}
        last = len(self.values["kl"]) - 1
        for name, series in values.items():
            for suffix, t in (("", k), ("@0", 0), ("@next", k + 1)):
                if t <= last:
                    vals[name + suffix], errs[name + suffix] = series[t], self.errors[name][t]
                    ident[name + suffix] = (name, t)
        vals["k"], errs["k"] = mp.mpf(k), mp.zero
        vals["eta"] = mp.mpf(self.solver.eta_at(k).numerator) / self.solver.eta_at(k).denominator
        errs["eta"] = mp.zero
        return vals, errs, ident

    @property
    def has_lows(self) -> bool:
        return bool(self.lows)


@dataclass
class BallRun:
    """What a certified check needs beyond RunData: the balls, and the run to re-step from exact points."""

    ng: NumericGame
    star: LogPolicy
    policies: list[LogPolicy]
    series: dict[str, list[Any]]
    statics: dict[str, Any]
    bits: int
    points: dict[int, dict[str, list[Any]]] = field(default_factory=dict)  # step claims: series by k
    steps: dict[int, tuple[Any, Any]] = field(default_factory=dict)  # step claims: (exact point, its step) by k


def mpf_of_fraction(x: Fraction) -> mpmath.mpf:
    return mp.mpf(x.numerator) / x.denominator


METRIC_SERIES = ("kl", "kl_reverse", "l1", "l1_sq", "exploitability", "exploitability_unreg", "span", "gap")


def mpf_of(x: object) -> mpmath.mpf:
    """A backend scalar as an mpmath number, exactly for ``longdouble`` (mpf(x) would go through float)."""
    if isinstance(x, np.floating) and x.dtype.itemsize > 8:
        num, den = x.as_integer_ratio()
        return mp.mpf(num) / den
    return mp.mpf(x)


def pi_ref_is_equilibrium(game: Game) -> bool:
    """Exact test: Pπ_ref constant in every context means π* = π_ref (and every solver stays there).

    In integers over common denominators, stopping at the first row that differs.
    """
    for c in game.contexts:
        den = math.lcm(*{x.denominator for row in c.preference for x in row})
        ref_den = math.lcm(*{r.denominator for r in c.reference})
        ref = [r.numerator * (ref_den // r.denominator) for r in c.reference]
        first = None
        for row in c.preference:
            value = sum(x.numerator * (den // x.denominator) * r for x, r in zip(row, ref))
            if first is None:
                first = value
            elif value != first:
                return False
    return True
