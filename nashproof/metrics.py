"""Metrics of spec §5, per context and ρ-averaged.

All take policies as log-probabilities in one backend. ``star`` is π*_β (log-probabilities).
"""

from __future__ import annotations

from dataclasses import dataclass

from .backends import Backend, Scalar, Vec
from .numeric import LogPolicy, NumericGame


def kl(ng: NumericGame, logp: Vec, logq: Vec) -> Scalar:
    """KL(p‖q) = Σ p (log p − log q)."""
    p = ng.backend.exp(logp)
    return sum(p * (logp - logq))


def l1(ng: NumericGame, logp: Vec, logq: Vec) -> Scalar:
    b = ng.backend
    return sum(abs(t) for t in b.exp(logp) - b.exp(logq))


def span(v: Vec, b: Backend | None = None) -> Scalar:
    return max(v) - min(v) if b is None else b.vmax(v) - b.vmin(v)


def exploitability(ng: NumericGame, c: int, logpi: Vec, beta: Scalar) -> Scalar:
    """Expl_β(π) = β log Σ_y π_ref(y) exp(P(y ≻ π)/β) + β KL(π‖π_ref) − ½ (one context)."""
    b = ng.backend
    pi = b.exp(logpi)
    field_ = ng.P[c] @ pi
    # Centre the field at its π_ref-mean c: β·LSE(log π_ref + Pπ/β) = c + β·LSE(log π_ref + (Pπ − c)/β),
    # which keeps the small differences when β is large.
    centre = ng.ref[c] @ field_
    y = (field_ - centre) / beta
    if max(abs(t) for t in y) < 1:  # log Σ π_ref e^y = log1p(Σ π_ref (e^y − 1)), no cancellation
        lse = b.log1p_scalar(ng.ref[c] @ b.expm1(y))
    else:
        lse = b.logsumexp(ng.logref[c] + y)
    return centre + beta * lse + beta * kl(ng, logpi, ng.logref[c]) - b.scalar("0.5")


def exploitability_unregularized(ng: NumericGame, c: int, logpi: Vec) -> Scalar:
    """Expl_0(π) = max_y P(y ≻ π) − ½ (one context)."""
    return ng.backend.vmax(ng.P[c] @ ng.backend.exp(logpi)) - ng.backend.scalar("0.5")


def utility(ng: NumericGame, c: int, logpi: Vec, logcmp: Vec, beta: Scalar) -> Scalar:
    """J_β(π, π') = P(π ≻ π') − β KL(π‖π_ref) + β KL(π'‖π_ref) (one context)."""
    b = ng.backend
    pref = b.exp(logpi) @ (ng.P[c] @ b.exp(logcmp))
    return pref - beta * kl(ng, logpi, ng.logref[c]) + beta * kl(ng, logcmp, ng.logref[c])


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


def evaluate(ng: NumericGame, logpi: LogPolicy, star: LogPolicy, beta: Scalar) -> Metrics:
    """All metrics of ``logpi`` against π*_β = ``star``."""
    rows = []
    for c in range(ng.k):
        expl = exploitability(ng, c, logpi[c], beta)
        dist = l1(ng, logpi[c], star[c])
        rows.append({
            "kl": kl(ng, star[c], logpi[c]),
            "kl_reverse": kl(ng, logpi[c], star[c]),
            "l1": dist,
            "l1_sq": dist * dist,
            "exploitability": expl,
            "gap": 2 * expl,
            "exploitability_unreg": exploitability_unregularized(ng, c, logpi[c]),
            "span": span(logpi[c] - star[c], ng.backend),
        })

    def avg(key: str) -> Scalar:
        return ng.average([r[key] for r in rows])

    return Metrics(
        kl=avg("kl"), kl_reverse=avg("kl_reverse"), l1=avg("l1"), l1_sq=avg("l1_sq"),
        exploitability=avg("exploitability"),
        gap=avg("gap"), exploitability_unreg=avg("exploitability_unreg"),
        span=ng.backend.vmax([r["span"] for r in rows]), span_avg=avg("span"), per_context=tuple(rows),
    )
