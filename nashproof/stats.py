"""Exact binomial statistics for checking high-probability claims over seeded runs.

The Clopper–Pearson interval is computed from the regularised incomplete beta function with
mpmath (bisection to 40 digits), not from a normal approximation. scipy is not needed at run
time; the tests cross-check against ``scipy.stats.beta``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import mpmath

from .errors import InputError


def _beta_quantile(q: mpmath.mpf, a: int, b: int) -> mpmath.mpf:
    """x with I_x(a, b) = q, by bisection (I is increasing in x)."""
    lo, hi = mpmath.mpf(0), mpmath.mpf(1)
    for _ in range(160):
        mid = (lo + hi) / 2
        if mpmath.betainc(a, b, 0, mid, regularized=True) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def clopper_pearson(failures: int, runs: int, confidence: Fraction | float = Fraction(95, 100)) -> tuple[float, float]:
    """The exact two-sided interval for a binomial proportion at the given confidence."""
    if runs < 1 or not 0 <= failures <= runs:
        raise InputError(f"need 0 ≤ failures ≤ runs and runs ≥ 1, got {failures}/{runs}")
    conf = Fraction(confidence) if not isinstance(confidence, Fraction) else confidence
    if not 0 < conf < 1:
        raise InputError("confidence must lie strictly between 0 and 1")
    with mpmath.workdps(40):
        tail = (1 - mpmath.mpf(conf.numerator) / conf.denominator) / 2
        lower = mpmath.mpf(0) if failures == 0 else _beta_quantile(tail, failures, runs - failures + 1)
        upper = mpmath.mpf(1) if failures == runs else _beta_quantile(1 - tail, failures + 1, runs - failures)
        return float(lower), float(upper)


def runs_for(alpha: float, confidence: Fraction | float = Fraction(95, 100)) -> int:
    """Fewest runs R for which zero failures puts the upper Clopper–Pearson bound at or below α."""
    if not 0 < alpha < 1:
        raise InputError("alpha must lie strictly between 0 and 1")
    tail = (1 - float(confidence)) / 2
    r = max(1, math.ceil(math.log(tail) / math.log(1 - alpha)))
    while clopper_pearson(0, r, confidence)[1] > alpha:
        r += 1
    return r


#: The failure rate, as a multiple of α, that a run count chosen for a power must detect.
POWER_FACTOR = 2.0


def _upper_tails(runs: int, p: float) -> list[float]:
    """P(X ≥ f) for f = 0..runs+1, X ~ Binomial(runs, p) (float64 via log-gamma: for choosing R, not for verdicts)."""
    logs = [math.lgamma(runs + 1) - math.lgamma(f + 1) - math.lgamma(runs - f + 1) + f * math.log(p)
            + (runs - f) * math.log1p(-p) for f in range(runs + 1)]
    tails = [0.0] * (runs + 2)
    for f in range(runs, -1, -1):
        tails[f] = tails[f + 1] + math.exp(logs[f])
    return tails


def detection_power(runs: int, alpha: float, rate: float, confidence: Fraction | float = Fraction(95, 100)) -> float:
    """P(the Clopper–Pearson lower end exceeds α) over ``runs`` runs whose true failure rate is ``rate``.

    The lower end at f failures exceeds α exactly when P_α(X ≥ f) < (1 − confidence)/2, so the violating counts
    are f ≥ f*, and the power is P_rate(X ≥ f*)."""
    tail = (1 - float(confidence)) / 2
    null = _upper_tails(runs, alpha)
    first = next((f for f in range(runs + 1) if null[f] < tail), runs + 1)
    return _upper_tails(runs, rate)[first] if first <= runs else 0.0


def runs_for_power(alpha: float, power: float, factor: float = 2.0, confidence: Fraction | float = Fraction(95, 100),
                   limit: int = 10_000) -> int:
    """Fewest runs R that can show a failure rate ≤ α (zero failures: upper end ≤ α) and that detect a true rate of
    ``factor``·α with probability ≥ ``power`` (lower end > α, a violation)."""
    if not 0 < power < 1 or factor <= 1 or not 0 < factor * alpha < 1:
        raise InputError("power must lie in (0, 1) and factor·α in (α, 1)")
    r = runs_for(alpha, confidence)
    while detection_power(r, alpha, factor * alpha, confidence) < power:
        r += 1
        if r > limit:
            raise InputError(f"more than {limit} runs would be needed for power {power:g} at α = {alpha:g}")
    return r


@dataclass
class StatVerdict:
    """Failures over R seeded runs against a claimed failure probability α."""

    failures: int
    runs: int
    alpha: float
    confidence: float
    lower: float
    upper: float
    inconclusive_runs: int = 0

    @property
    def status(self) -> str:
        """``violated`` when even the lower bound exceeds α; ``inconclusive`` if undecided runs could flip it."""
        if self.lower > self.alpha:
            return "violated"
        if self.inconclusive_runs:
            worst = clopper_pearson(self.failures + self.inconclusive_runs, self.runs, self.confidence)[0]
            if worst > self.alpha:
                return "inconclusive"
        return "pass"

    def text(self) -> str:
        rate = self.failures / self.runs
        side = ("the rate is ≤ α at this confidence" if self.upper <= self.alpha
                else "not enough runs to show the rate ≤ α, but no evidence it exceeds α")
        if self.status == "violated":
            side = "the failure rate exceeds α at this confidence"
        extra = f"; {self.inconclusive_runs} run(s) undecided" if self.inconclusive_runs else ""
        return (f"{self.failures}/{self.runs} runs failed (rate {rate:.3g}); {self.confidence:.0%} Clopper–Pearson "
                f"interval [{self.lower:.3g}, {self.upper:.3g}] vs α = {self.alpha:.3g}: {side}{extra}")
