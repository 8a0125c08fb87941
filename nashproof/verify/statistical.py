"""The statistical method: probability claims over R seeded runs, decided by an exact binomial interval.

Each run's ordinary verdict counts as a failure when ``violated`` and as undecided when
``inconclusive``. ``pass`` needs the Clopper–Pearson interval's upper end ≤ α (undecided runs counted
as failures); ``violated`` needs its lower end > α; otherwise ``inconclusive``, with the number of runs
that would settle it at the observed rate. The verdict holds at the interval's confidence (95 %), not
with certainty: the method says so.

The Clopper–Pearson interval is computed from the regularised incomplete beta function with
mpmath (bisection to 40 digits), not from a normal approximation. scipy is not needed at run
time; the tests cross-check against ``scipy.stats.beta``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from fractions import Fraction

import mpmath

from ..claims import Claim
from ..errors import InputError
from .check import check_claim
from .record import RunData
from .semantics import Verdict

#: Confidence of the statistical verdict itself (the interval), not of the claim.
VERDICT_CONFIDENCE = Fraction(95, 100)


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


def runs_for_power(alpha: float, power: float, factor: float = POWER_FACTOR,
                   confidence: Fraction | float = Fraction(95, 100), limit: int = 10_000) -> int:
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
        """``pass`` when the interval's upper end is ≤ α (undecided runs counted as failures); ``violated`` when
        its lower end exceeds α (undecided runs counted as passes); ``inconclusive`` otherwise."""
        if self.lower > self.alpha:
            return "violated"
        worst_upper = (clopper_pearson(self.failures + self.inconclusive_runs, self.runs, self.confidence)[1]
                       if self.inconclusive_runs else self.upper)
        if worst_upper <= self.alpha:
            return "pass"
        return "inconclusive"

    def runs_to_settle(self, limit: int = 10**6) -> int | None:
        """Fewest runs that would decide at the observed failure rate (None: none up to ``limit``, e.g. a rate
        equal to α)."""
        rate = Fraction(self.failures, self.runs)
        alpha = Fraction(self.alpha)
        if rate == alpha:
            return None

        def decides(r: int) -> bool:
            f = round(rate * r)
            lo, hi = clopper_pearson(f, r, self.confidence)
            return hi <= self.alpha if rate < alpha else lo > self.alpha

        r = self.runs
        while not decides(r):
            if r >= limit:
                return None
            r = min(limit, 2 * r)
        lo_r = max(self.runs, r // 2)
        while lo_r < r:  # the first r that decides, by bisection (decides is monotone up to rounding of f)
            mid = (lo_r + r) // 2
            if decides(mid):
                r = mid
            else:
                lo_r = mid + 1
        return r

    def text(self) -> str:
        rate = self.failures / self.runs
        status = self.status
        if status == "pass":
            side = "the failure rate is ≤ α at this confidence"
        elif status == "violated":
            side = "the failure rate exceeds α at this confidence"
        else:
            need = self.runs_to_settle()
            side = ("the interval contains α: undecided; "
                    + (f"about {need} runs at this failure rate would settle it" if need is not None
                       else "no number of runs settles a failure rate this close to α"))
        extra = f"; {self.inconclusive_runs} run(s) undecided (counted against a pass)" if self.inconclusive_runs \
            else ""
        return (f"{self.failures}/{self.runs} runs failed (rate {rate:.3g}); {self.confidence:.0%} Clopper–Pearson "
                f"interval [{self.lower:.3g}, {self.upper:.3g}] vs α = {self.alpha:.3g}: {side}{extra}")


def check_probability(claim: Claim, runs: list[RunData], alpha: Fraction, until_floor: bool = True,
                      power: Fraction | None = None) -> Verdict:
    """A probability claim over seeded runs: failures, their Clopper–Pearson interval, the verdict.

    The note also says how the runs were chosen (``power``: against a failure rate POWER_FACTOR·α) and, from the
    runs' tightness (lhs/rhs), how much the bound could shrink before failures exceed α."""
    first = check_claim(claim, runs[0], until_floor=until_floor)
    if first.status == "not-applicable":
        return first
    per_run = [first] + [check_claim(claim, d, until_floor=until_floor) for d in runs[1:]]
    failures = sum(v.status == "violated" for v in per_run)
    undecided = sum(v.status == "inconclusive" for v in per_run)
    lower, upper = clopper_pearson(failures, len(runs), VERDICT_CONFIDENCE)
    stat = StatVerdict(failures, len(runs), float(alpha), float(VERDICT_CONFIDENCE), lower, upper, undecided)
    v = copy.copy(first)
    v.status = stat.status
    tight = [float(r.tightness) for r in per_run if r.tightness not in (None, "nan")]
    v.tightness = f"{max(tight):.6g}" if tight else None
    chosen = (f"; {len(runs)} runs chosen for power {float(power):g} against a failure rate "
              f"{POWER_FACTOR:g}·α = {POWER_FACTOR * float(alpha):.3g}" if power is not None else "")
    slack, q = "", None
    if tight:  # a bound scaled by c fails on the runs whose lhs/rhs exceeds c: at most a fraction α when c ≥ q
        q = sorted(tight)[min(len(tight) - 1, int(len(tight) * (1 - float(alpha))))]
        slack = (f"; the runs' (1 − α) quantile of lhs/rhs is {q:.3g}" + (
            f": the bound is loose by about {1 - q:.0%} here (a bound tightened by less than that still holds)"
            if q < 0.9 else ""))
    v.note = stat.text() + chosen + slack
    bad = next((r for r in per_run if r.status == "violated"), None)
    v.first_k, v.observed, v.bound, v.margin, v.error = (
        (bad.first_k, bad.observed, bad.bound, bad.margin, bad.error) if bad is not None else (None,) * 5)
    v.evaluated = f"{len(runs)} seeded runs; {first.evaluated}"
    v.extra = {"failures": failures, "runs": len(runs), "alpha": float(alpha), "interval": [lower, upper],
               "interval_confidence": float(VERDICT_CONFIDENCE), "undecided_runs": undecided,
               "power": float(power) if power is not None else None, "quantile": q}
    return v
