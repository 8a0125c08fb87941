"""Complexity of inexact and sampled Nash-MP (issue 11): the floor, reachability, iterations, queries
and samples that NMP-APPROX (given δ) and NMP-APPROX-HP (m duels per action) predict for ε.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import mpmath

from .errors import InputError
from .numbers import check_beta, fraction_str


@dataclass
class InexactComplexity:
    """Floor, reachability, iterations, queries and samples of inexact or sampled Nash-MP (NMP-APPROX[-HP])."""

    model: str  # "deterministic" (given δ) or "sampled" (m duels per action)
    beta: Fraction
    eps: Fraction
    eta: Fraction
    kl0: str
    actions: int
    contexts: int
    delta: str  # per-step span error (for sampled: 2η/(1+ηβ)·τ at the horizon found)
    floor: str
    reachable: bool
    iterations: int | None
    queries: int | None
    samples: int | None  # queries × n × m × contexts (sampled only)
    m: int | None = None
    confidence: str | None = None
    best_m: int | None = None
    best_samples: int | None = None
    best_iterations: int | None = None
    n_exponent: str | None = None  # local exponent of min-over-m total samples in n, d log S / d log n
    formula: str = ""
    claim: str = "NMP-APPROX"
    measured_iterations: int | None = None
    measured_samples: int | None = None
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return {key: (fraction_str(v) if isinstance(v, Fraction) else v) for key, v in self.__dict__.items()}


def _inexact_terms(beta: Fraction, eta: Fraction) -> tuple[mpmath.mpf, mpmath.mpf, mpmath.mpf, mpmath.mpf]:
    """ρ = (1+ηβ)^(−1/2), e(1) (√KL error per unit δ), c(1) (KL error per unit δ), 1+ηβ, at working precision."""
    eb = mpmath.mpf(eta.numerator) / eta.denominator * mpmath.mpf(beta.numerator) / beta.denominator
    et = mpmath.mpf(eta.numerator) / eta.denominator
    rho = 1 / mpmath.sqrt(1 + eb)
    e1 = (1 + et / (1 + eb)) / (2 * mpmath.sqrt(2))
    c1 = 1 + et / (2 * (1 + eb))
    return rho, e1, c1, 1 + eb


def inexact_bound(beta: Fraction, eta: Fraction, kl0: mpmath.mpf, delta: mpmath.mpf, kk: int) -> mpmath.mpf:
    """NMP-APPROX at iteration k: min of the √KL form and the linear form."""
    rho, e1, c1, a = _inexact_terms(beta, eta)
    phi = delta * e1 / (1 - rho)
    sq = (rho**kk * mpmath.sqrt(kl0) + phi * (1 - rho**kk)) ** 2
    lin = a ** (-kk) * kl0 + delta * c1 * a / (a - 1) * (1 - a ** (-kk))
    return min(sq, lin)


def inexact_floor(beta: Fraction, eta: Fraction, delta: mpmath.mpf) -> mpmath.mpf:
    rho, e1, c1, a = _inexact_terms(beta, eta)
    return min((delta * e1 / (1 - rho)) ** 2, delta * c1 * a / (a - 1))


def sampled_delta(beta: Fraction, eta: Fraction, m: int, alpha: mpmath.mpf, queries: int, n: int, contexts: int
                  ) -> mpmath.mpf:
    """2η/(1+ηβ)·√(log(2QnX/α)/(2m)): each step's span error at confidence 1 − α (Hoeffding + union bound)."""
    _, _, _, a = _inexact_terms(beta, eta)
    et = mpmath.mpf(eta.numerator) / eta.denominator
    return 2 * et / a * mpmath.sqrt(mpmath.log(2 * queries * n * contexts / alpha) / (2 * m))


def _first_k(bound_at: Callable[[int], mpmath.mpf], target: mpmath.mpf, cap: int = 1 << 40) -> int | None:
    """Least k with bound_at(k) ≤ target, for a bound that decreases and then (sampled) rises slowly."""
    if bound_at(0) <= target:
        return 0
    kk, prev = 1, bound_at(0)
    while kk <= cap:
        cur = bound_at(kk)
        if cur <= target:
            lo, hi = kk // 2, kk
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (lo, mid) if bound_at(mid) <= target else (mid, hi)
            return hi
        if cur >= prev and kk > 64:  # past the minimum without reaching the target
            return None
        prev, kk = cur, kk * 2
    return None


def inexact_complexity(beta: Fraction, eps: Fraction, delta: Fraction | None = None, m: int | None = None,
                       eta: Fraction = Fraction(2), kl0: Fraction | str | None = None, actions: int = 2,
                       contexts: int = 1, confidence: Fraction = Fraction(95, 100), with_best_m: bool = True
                       ) -> InexactComplexity:
    """What NMP-APPROX (given δ) or NMP-APPROX-HP (m duels per action, confidence 1 − α) predicts for ε."""
    from .solvers.inexact import check_confidence, check_delta, check_m

    check_beta(beta)
    if (delta is None) == (m is None):
        raise InputError("give exactly one of delta (per-step error) and samples per query m")
    if eps <= 0:
        raise InputError("eps must be > 0")
    if actions < 1 or contexts < 1:
        raise InputError("actions and contexts must be ≥ 1")
    if (eta / 2) ** 2 > 1 + eta * beta:
        raise InputError("the step violates (η/2)² ≤ 1 + ηβ, the hypothesis of NMP-APPROX")
    conf = check_confidence(confidence)
    with mpmath.workdps(40):
        k0 = (mpmath.mpf(kl0) if isinstance(kl0, str) else mpmath.mpf(kl0.numerator) / kl0.denominator
              if kl0 is not None else 1 / (2 * mpmath.mpf(beta.numerator) / beta.denominator))
        target = mpmath.mpf(eps.numerator) / eps.denominator
        kl0_text = mpmath.nstr(k0, 12) + ("" if kl0 is not None else " (NMP-KL0 bound 1/(2β))")
        alpha = 1 - mpmath.mpf(conf.numerator) / conf.denominator
        if delta is not None:
            d = mpmath.mpf(check_delta(delta).numerator) / delta.denominator
            floor = inexact_floor(beta, eta, d)
            kk = _first_k(lambda t: inexact_bound(beta, eta, k0, d, t), target) if floor < target or k0 <= target \
                else None
            return InexactComplexity(
                "deterministic", beta, eps, eta, kl0_text, actions, contexts, mpmath.nstr(d, 12),
                mpmath.nstr(floor, 12), kk is not None, kk, None if kk is None else 2 * kk, None,
                formula="least k with min((ρ^k√KL₀ + φ(δ)(1−ρ^k))², (1+ηβ)^−k KL₀ + c(δ)(1+ηβ)/(ηβ)(1−(1+ηβ)^−k)) ≤ ε",
                note="" if kk is not None else "the floor is above ε: ε is not reachable with this δ")
        mm = check_m(m)

        def solve(mv: int) -> tuple[int | None, mpmath.mpf]:
            def at(t: int) -> mpmath.mpf:
                return inexact_bound(beta, eta, k0, sampled_delta(beta, eta, mv, alpha, max(2 * t, 1), actions,
                                                                  contexts), t)
            kk = _first_k(at, target)
            horizon = max(kk or 0, 1)  # k = 0 (KL₀ ≤ ε already) still quotes δ for one iteration, not log(0)
            return kk, sampled_delta(beta, eta, mv, alpha, 2 * horizon, actions, contexts)

        kk, d = solve(mm)
        per_query = actions * mm * contexts
        result = InexactComplexity(
            "sampled", beta, eps, eta, kl0_text, actions, contexts, mpmath.nstr(d, 12),
            mpmath.nstr(inexact_floor(beta, eta, d), 12), kk is not None, kk, None if kk is None else 2 * kk,
            None if kk is None else 2 * kk * per_query, m=mm, confidence=fraction_str(conf), claim="NMP-APPROX-HP",
            formula="δ = 2η/(1+ηβ)·√(log(2QnX/α)/(2m)) with Q = 2k; least k with NMP-APPROX(δ) ≤ ε; "
                    "samples = 2k·n·m·X",
            note="" if kk is not None else "the floor is above ε at this m: ε is not reachable; raise m")
        if with_best_m:
            best = best_m(beta, eps, eta, k0, actions, contexts, alpha)
            if best is not None:
                result.best_m, result.best_iterations, result.best_samples = best
            big = best_m(beta, eps, eta, k0, 2 * actions, contexts, alpha)
            if best is not None and big is not None and best[2] > 0 and big[2] > 0:  # 0 when KL₀ ≤ ε already
                result.n_exponent = f"{math.log(big[2] / best[2]) / math.log(2):.4f}"
        return result


def best_m(beta: Fraction, eps: Fraction, eta: Fraction, k0: mpmath.mpf, actions: int, contexts: int,
           alpha: mpmath.mpf) -> tuple[int, int, int] | None:
    """(m, iterations, total samples) minimising total samples 2k·n·m·X to reach ε (grid ×1.05, then ±1)."""
    target = mpmath.mpf(eps.numerator) / eps.denominator

    def total(mv: int) -> tuple[int, int] | None:
        def at(t: int) -> mpmath.mpf:
            return inexact_bound(beta, eta, k0, sampled_delta(beta, eta, mv, alpha, max(2 * t, 1), actions,
                                                              contexts), t)
        kk = _first_k(at, target)
        return None if kk is None else (kk, 2 * kk * actions * mv * contexts)

    with mpmath.workdps(30):
        best: tuple[int, int, int] | None = None
        mv, seen_ok, worse = 1, False, 0
        while mv < 10**15 and worse < 40:
            r = total(mv)
            if r is not None:
                seen_ok = True
                if best is None or r[1] < best[2]:
                    best, worse = (mv, r[0], r[1]), 0
                else:
                    worse += 1
            elif seen_ok:
                worse += 1
            mv = max(mv + 1, int(mv * 1.05))
        if best is None:
            return None
        lo, hi = max(1, int(best[0] / 1.06)), int(best[0] * 1.06) + 1
        for mv in range(lo, hi + 1) if hi - lo < 2000 else ():
            r = total(mv)
            if r is not None and r[1] < best[2]:
                best = (mv, r[0], r[1])
        return best


def split_balance(probs: Sequence[float]) -> float:
    """max q(1 − q) over the splits of the actions into two sets, q the probability of one set (1/4 when even).

    Exact for up to 14 actions; beyond, the greedy split (largest first, onto the lighter side), a lower bound,
    so a factor computed from it is only looser.
    """
    p = sorted((float(x) for x in probs), reverse=True)
    if len(p) <= 14:
        sums = [0.0]
        for x in p[1:]:
            sums += [s + x for s in sums]
        return max((p[0] + s) * (1 - p[0] - s) for s in sums[:-1] or [0.0])
    a = b = 0.0
    for x in p:
        a, b = (a + x, b) if a <= b else (a, b + x)
    return a * b / (a + b) ** 2


def approach_factor(beta: Fraction, eta: Fraction = Fraction(2), pistar: Sequence[Sequence[float]] | None = None,
                    weights: Sequence[float] | None = None) -> float:
    """3τ(ηβ)²·(1/4)/b: the factor within which adversarial runs approach the NMP-APPROX floor (docs/proofs.md §9.3).

    τ(ηβ) = (1 + η/(1+ηβ))·(ηβ/(1+ηβ))/(1 − (1+ηβ)^(−1/2)) is the exact gap on the all-ties game; the factor 3
    is empirical. b is π*'s split balance (`split_balance`, averaged over contexts with their weights): a two-level
    log-perturbation of span d moves KL(π*‖·) by about b·d²/2, so a concentrated π* (small b) is approached less
    closely. Without ``pistar``, b = 1/4 (a π* that splits into two equal halves).
    """
    eb, et = float(eta * beta), float(eta)
    tau = (1 + et / (1 + eb)) * (eb / (1 + eb)) / (1 - (1 + eb) ** -0.5)
    balance = 0.25
    if pistar is not None:
        w = list(weights) if weights is not None else [1 / len(pistar)] * len(pistar)
        balance = sum(wc * split_balance(pc) for wc, pc in zip(w, pistar))
    return math.inf if balance <= 0 else float(3 * tau**2 * 0.25 / balance)
