"""The update rules public code implements, written once for float64 and for 40-digit mpmath.

Each map takes log π_k (and, for optimistic MWU, log π_(k−1)), P, log π_ref, β, η and the opponents'
temperature τ, and returns log π_(k+1) normalised. Opponents "at temperature τ" are drawn from
softmax(log π / τ) (τ = 1: from π itself); a sampled opponent enters the maps through its expectation.

* ``omwu``: optimistic MWU, log π' = log π + η(2Pπ_k − Pπ_(k−1)) (β is ignored; a fresh start has
  π_(−1) = π_0, so its first step is MWU's);
* ``mirror-prox``: mirror prox (entropic extragradient) at β = 0: the half step log π + ηPπ, the full
  step log π + ηPπ_half (Nash-MP without the regulariser; β is ignored);
* ``replicator``: the Euler (linear) replicator step π' = π ⊙ (1 + η(Pπ − ⟨π, Pπ⟩));
* ``sppo``: SPPO's step as the argmin of its square loss, Σ_y π_k(y) (log π'(y)/π_k(y) − η(Pπ_k(y) − ½))²
  over distributions π' (½ stands for log Z/η, SPPO's normaliser approximation); the minimiser solves
  d_y + μ e^(d_y) = η(Pπ_k(y) − ½) with Σ π_k e^d = 1 (d = log π'/π_k), found by nested Newton steps;
* ``mmd``, ``nash-mp``, ``nash-md`` with opponents at temperature τ (τ = 1 is the checker's rule).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import numpy.typing as npt

Vec = npt.NDArray[Any]  # float64, or objects holding mpmath numbers

#: Rules only the audit knows (the checker's solvers do not implement them).
EXTRA = ("omwu", "mirror-prox", "replicator", "sppo")
#: Rules that take an opponent temperature.
TEMPERED = ("mmd", "nash-mp", "nash-md", "mwu", "omwu", "mirror-prox")


@dataclass(frozen=True)
class Ops:
    exp: Callable[[Vec], Vec]
    log: Callable[[Vec], Vec]
    num: Callable[[float], Any]
    eps: float  # relative accuracy of an iterative solve


F64OPS = Ops(np.exp, np.log, float, 1e-16)
MPOPS = Ops(np.vectorize(mpmath.exp, otypes=[object]), np.vectorize(mpmath.log, otypes=[object]), mpmath.mpf,
            1e-45)


def lognorm(z: Vec, ops: Ops) -> Vec:
    m = max(z.tolist())
    out: Vec = z - (m + ops.log(np.array([sum(ops.exp(z - m).tolist())], dtype=z.dtype))[0])
    return out


def opponent(lp: Vec, tau: Any, ops: Ops) -> Vec:
    return ops.exp(lognorm(lp / tau, ops)) if tau != 1 else ops.exp(lp)


def field(P: Vec, lp: Vec, tau: Any, ops: Ops) -> Vec:
    out: Vec = P @ opponent(lp, tau, ops)
    return out


def _prox(lp: Vec, lr: Vec, fld: Vec, eta: Any, beta: Any, ops: Ops) -> Vec:
    return lognorm((lp + eta * beta * lr + eta * fld) / (1 + eta * beta), ops)


def step(rule: str, lp: Vec, P: Vec, lr: Vec, beta: Any, eta: Any, tau: Any = 1, lprev: Vec | None = None,
         ops: Ops = F64OPS) -> Vec:
    """One step of ``rule`` (log-probabilities in, log-probabilities out)."""
    if rule == "mmd":
        return _prox(lp, lr, field(P, lp, tau, ops), eta, beta, ops)
    if rule == "nash-mp":
        half = _prox(lp, lr, field(P, lp, tau, ops), eta, beta, ops)
        return _prox(lp, lr, field(P, half, tau, ops), eta, beta, ops)
    if rule == "nash-md":
        w = eta * beta
        mu = lognorm((1 - w) * lp + w * lr, ops)
        return lognorm(mu + eta * field(P, mu, tau, ops), ops)
    if rule == "mwu":
        return lognorm(lp + eta * field(P, lp, tau, ops), ops)
    if rule == "omwu":
        prev = lp if lprev is None else lprev
        return lognorm(lp + eta * (2 * field(P, lp, tau, ops) - field(P, prev, tau, ops)), ops)
    if rule == "mirror-prox":
        half = lognorm(lp + eta * field(P, lp, tau, ops), ops)
        return lognorm(lp + eta * field(P, half, tau, ops), ops)
    if rule == "replicator":
        p = ops.exp(lp)
        f = field(P, lp, tau, ops)
        q = p * (1 + eta * (f - sum((p * f).tolist())))
        if min(q.tolist()) <= 0:
            return np.full(len(lp), ops.num(float("nan")), dtype=lp.dtype)
        return lognorm(ops.log(q), ops)
    if rule == "sppo":
        return _sppo(lp, eta * (field(P, lp, tau, ops) - ops.num(0.5)), ops)
    raise ValueError(f"unknown rule {rule}")


def _sppo(lp: Vec, a: Vec, ops: Ops) -> Vec:
    """argmin over distributions of Σ π_k (d − a)²: d + μe^d = a, Σ π_k e^d = 1 (Newton on μ, Newton on d)."""
    p = ops.exp(lp)
    mu = ops.num(0.0)
    d = a.copy()
    for _ in range(100):
        for _ in range(3):
            ed = ops.exp(d)
            d = d - (d + mu * ed - a) / (1 + mu * ed)
        ed = ops.exp(d)
        h = sum((p * ed).tolist()) - 1
        dh = sum((p * ed * (-ed / (1 + mu * ed))).tolist())
        new = mu - h / dh
        if abs(new - mu) <= abs(mu) * ops.num(ops.eps) + ops.num(ops.eps**1.5):
            mu = new
            break
        mu = new
    for _ in range(4):
        ed = ops.exp(d)
        d = d - (d + mu * ed - a) / (1 + mu * ed)
    return lognorm(lp + d, ops)


def exact_step(rule: str, pi: npt.NDArray[np.float64], P: Sequence[Sequence[Any]], ref: Sequence[Any], beta: Any,
               eta: Any, tau: Any = 1, prev: npt.NDArray[np.float64] | None = None, digits: int = 40
               ) -> npt.NDArray[np.float64]:
    """``step`` at ``digits`` digits from float64 π (read exactly); P, π_ref, β, η, τ exact (Fractions)."""
    with mpmath.workdps(digits):
        def mp_vec(xs: Any) -> Vec:
            return np.array([mpmath.mpf(x.numerator) / x.denominator if hasattr(x, "numerator")
                             else mpmath.mpf(float(x)) for x in xs], dtype=object)

        def logs(v: npt.NDArray[np.float64]) -> Vec:
            return lognorm(MPOPS.log(np.array([mpmath.mpf(float(x)) for x in v], dtype=object)), MPOPS)

        Pm = np.array([mp_vec(row) for row in P], dtype=object)
        r = mp_vec(ref)
        lr = lognorm(MPOPS.log(r), MPOPS)
        b, e, t = (mp_vec([x])[0] for x in (beta, eta, tau))
        out = step(rule, logs(pi), Pm, lr, b, e, t if tau != 1 else 1, None if prev is None else logs(prev), MPOPS)
        return np.array([float(x) for x in out], dtype=np.float64)
