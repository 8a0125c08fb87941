"""Metrics of spec §5, per context and ρ-averaged.

All take policies as log-probabilities in one backend. ``star`` is π*_β (log-probabilities), or a
:class:`Reference` that also holds its probabilities, so a trajectory's metrics do not recompute
them at every iterate. Vectors are multiplied as ``vector * scalar`` (never ``scalar * vector``:
an mpmath scalar on the left first fails on the array and formats it for the error message).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .backends import Backend, Scalar, Vec
from .numeric import LogPolicy, NumericGame


def kl(ng: NumericGame, logp: Vec, logq: Vec, p: Vec | None = None) -> Scalar:
    """KL(p‖q) = Σ p (log p − log q); ``p`` = exp(logp) when the caller already has it."""
    probs = ng.backend.exp(logp) if p is None else p
    return ordered_sum(probs * (logp - logq))


def l1(ng: NumericGame, logp: Vec, logq: Vec) -> Scalar:
    b = ng.backend
    return ordered_sum(abs(b.exp(logp) - b.exp(logq)))


def ordered_sum(v: Vec) -> Scalar:
    """Python's ``sum(v)``: left to right from 0, in the backend's arithmetic. A float64 array takes numpy's
    running sum (the same additions in the same order; ``+ 0.0`` turns an all-(−0) sum into sum's +0)."""
    if v.dtype == np.float64 and v.size:
        return np.add.accumulate(v)[-1] + 0.0
    return sum(v)


def max_abs(v: Vec) -> float:
    """max |x| over a vector, as a float (a float64 array: one numpy reduction, the same value)."""
    if v.dtype == np.float64 and v.size:
        m = float(np.max(np.abs(v)))
        if m == m:
            return m
    return max(abs(float(x)) for x in v)


def span(v: Vec, b: Backend | None = None) -> Scalar:
    return max(v) - min(v) if b is None else b.vmax(v) - b.vmin(v)


def _exploitability(ng: NumericGame, c: int, logpi: Vec, pi: Vec, field_: Vec, beta: Scalar) -> Scalar:
    """Expl_β(π) from π = exp(logpi) and its field Pπ (both already computed)."""
    b = ng.backend
    # Centre the field at its π_ref-mean c: β·LSE(log π_ref + Pπ/β) = c + β·LSE(log π_ref + (Pπ − c)/β),
    # which keeps the small differences when β is large.
    centre = ng.ref[c] @ field_
    y = (field_ - centre) / beta
    if max_abs(y) < 1:  # log Σ π_ref e^y = log1p(Σ π_ref (e^y − 1)), no cancellation
        lse = b.log1p_scalar(ng.ref[c] @ b.expm1(y))
    else:
        lse = b.logsumexp(ng.logref[c] + y)
    return centre + beta * lse + beta * kl(ng, logpi, ng.logref[c], pi) - b.scalar("0.5")


def exploitability(ng: NumericGame, c: int, logpi: Vec, beta: Scalar) -> Scalar:
    """Expl_β(π) = β log Σ_y π_ref(y) exp(P(y ≻ π)/β) + β KL(π‖π_ref) − ½ (one context)."""
    pi = ng.backend.exp(logpi)
    return _exploitability(ng, c, logpi, pi, ng.P[c] @ pi, beta)


def exploitability_unregularized(ng: NumericGame, c: int, logpi: Vec) -> Scalar:
    """Expl_0(π) = max_y P(y ≻ π) − ½ (one context)."""
    return ng.backend.vmax(ng.P[c] @ ng.backend.exp(logpi)) - ng.backend.scalar("0.5")


def utility(ng: NumericGame, c: int, logpi: Vec, logcmp: Vec, beta: Scalar) -> Scalar:
    """J_β(π, π') = P(π ≻ π') − β KL(π‖π_ref) + β KL(π'‖π_ref) (one context)."""
    b = ng.backend
    pref = b.exp(logpi) @ (ng.P[c] @ b.exp(logcmp))
    return pref - beta * kl(ng, logpi, ng.logref[c]) + beta * kl(ng, logcmp, ng.logref[c])


class Reference:
    """π*_β as log-probabilities and probabilities, computed once for a whole trajectory."""

    def __init__(self, ng: NumericGame, logstar: LogPolicy) -> None:
        self.logpi = logstar
        self.probs = [ng.backend.exp(s) for s in logstar]


@dataclass(frozen=True)
class Metrics:
    """Every metric of one policy, ρ-averaged (``span`` is the maximum over contexts)."""

    kl: Scalar
    kl_reverse: Scalar
    l1: Scalar
    l1_sq: Scalar  # ρ-average of ‖π − π*‖₁² (not the square of the average)
    exploitability: Scalar
    gap: Scalar
    exploitability_unreg: Scalar
    span: Scalar
    span_avg: Scalar
    per_context: tuple[dict[str, Scalar], ...]

    def get(self, name: str) -> Scalar:
        value: Scalar = getattr(self, name)
        return value


#: Metrics that are ≥ 0 for every policy in exact arithmetic.
NONNEGATIVE = frozenset({"kl", "kl_reverse", "l1", "l1_sq", "exploitability", "gap", "exploitability_unreg",
                         "span", "span_avg"})


def rounding_floor(ng: NumericGame, logpi: LogPolicy, star: LogPolicy, beta: Scalar) -> Scalar:
    """An estimate of the rounding in a metric of ``logpi`` at the backend's precision (not a bound):
    100·n·ε·(1 + max|log π| + max|log π*|)·(1 + β), the checker's floor with β's weight added. A
    backend scalar (ε may be below float64's range)."""
    scale = 1 + max(max_abs(lp) for lp in (*logpi, *star))
    return ng.backend.eps * (100 * ng.n * scale * (1 + abs(float(beta))))


def shown(ng: NumericGame, name: str, value: Scalar, floor: Scalar, digits: int) -> tuple[str, str]:
    """(text, JSON) of a metric. A metric that is ≥ 0 in exact arithmetic but came out negative within
    the rounding floor is shown as ``< floor`` in text and clamped to 0 in JSON; a negative value
    beyond the floor is shown as it is (it would be a defect, not rounding)."""
    b = ng.backend
    if name in NONNEGATIVE and value < 0 and -value <= floor * (1 + abs(value)):
        return f"< {b.to_str(floor, 2)}", "0"
    text = b.to_str(value, digits)
    return text, text


def _context_metrics(ng: NumericGame, c: int, logpi: Vec, ref: Reference, beta: Scalar) -> dict[str, Scalar]:
    """Every metric of one context: π = exp(log π) and Pπ are computed once and shared."""
    b = ng.backend
    pi, field_ = ng.field_of(c, logpi)
    logstar, star = ref.logpi[c], ref.probs[c]
    expl = _exploitability(ng, c, logpi, pi, field_, beta)
    dist = ordered_sum(abs(pi - star))
    return {
        "kl": kl(ng, logstar, logpi, star),
        "kl_reverse": kl(ng, logpi, logstar, pi),
        "l1": dist,
        "l1_sq": dist * dist,
        "exploitability": expl,
        "gap": 2 * expl,
        "exploitability_unreg": b.vmax(field_) - b.scalar("0.5"),
        "span": span(logpi - logstar, b),
    }


def evaluate(ng: NumericGame, logpi: LogPolicy, star: LogPolicy | Reference, beta: Scalar) -> Metrics:
    """All metrics of ``logpi`` against π*_β = ``star``."""
    ref = star if isinstance(star, Reference) else Reference(ng, star)
    rows = [_context_metrics(ng, c, logpi[c], ref, beta) for c in range(ng.k)]

    def avg(key: str) -> Scalar:
        return ng.average([r[key] for r in rows])

    return Metrics(
        kl=avg("kl"), kl_reverse=avg("kl_reverse"), l1=avg("l1"), l1_sq=avg("l1_sq"),
        exploitability=avg("exploitability"),
        gap=avg("gap"), exploitability_unreg=avg("exploitability_unreg"),
        span=ng.backend.vmax([r["span"] for r in rows]), span_avg=avg("span"), per_context=tuple(rows),
    )
