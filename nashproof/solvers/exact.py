"""The exact methods: Nash-MP and its baselines, each written once against the backend interface.

Every solver acts on log-probabilities, one vector per context, and pays for every product
P·σ through the :class:`~nashproof.numeric.Oracle`, which counts preference queries.
Step sizes use the spec's canonical η (Munos normalisation) unless stated otherwise.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import ClassVar

from ..backends import Backend, Scalar, Vec
from ..equilibrium import solve_fixed_point
from ..errors import InputError
from ..numbers import check_beta, eta_str, fraction_str
from ..numeric import LogPolicy, NumericGame, Oracle


@dataclass
class Step:
    """One iteration's result: the new policy and, for two-step methods, the half step."""

    policy: LogPolicy
    half: LogPolicy | None = None


class Solver(ABC):
    """A method for the β-regularized game. ``eta`` is its step in the canonical normalisation."""

    name: ClassVar[str]
    title: ClassVar[str]
    queries_per_step: ClassVar[int]

    def __init__(self, beta: Fraction, eta: Fraction | None = None) -> None:
        check_beta(beta)
        if eta is not None and eta <= 0:
            raise InputError(f"eta must be > 0, got {fraction_str(eta)}")
        self.beta = beta
        self.eta = eta if eta is not None else self.default_eta(beta)
        self.validate()

    @staticmethod
    @abstractmethod
    def default_eta(beta: Fraction) -> Fraction: ...

    def validate(self) -> None:
        """Reject step sizes for which the update itself is undefined."""

    def eta_at(self, t: int) -> Fraction:
        return self.eta

    def describe(self) -> str:
        return f"{self.title}: β = {eta_str(self.beta)}, η = {eta_str(self.eta)}"

    @abstractmethod
    def step(self, ng: NumericGame, logpi: LogPolicy, t: int, oracle: Oracle) -> Step: ...


def mix(b: Backend, centre: Vec, logref: Vec, field_: Vec, eta: Fraction, beta: Fraction) -> Vec:
    """normalize([centre + ηβ log π_ref + η·field] / (1 + ηβ)): one exact proximal step."""
    eb, e, denom = _step_constants(b, eta.numerator, eta.denominator, beta.numerator, beta.denominator)
    return b.prox(centre + logref * eb, field_, e, denom)


@lru_cache(maxsize=64)
def _step_constants(b: Backend, eta_p: int, eta_q: int, beta_p: int, beta_q: int) -> tuple[Scalar, Scalar, Scalar]:
    """ηβ, η and 1 + ηβ in the backend, converted once per (backend, η, β) rather than every step
    (a ball backend's precision is fixed per instance, so its constants are too). Keyed by integers:
    hashing and comparing Fractions cost 10 % of a float64 step at n = 512."""
    eta = Fraction(eta_p, eta_q)
    eb = eta * Fraction(beta_p, beta_q)
    return b.scalar(eb), b.scalar(eta), b.scalar(1 + eb)


class NashMP(Solver):
    """Nash Mirror Prox: two proximal steps, both centred at π_k (2 queries per iteration)."""

    name = "nash-mp"
    title = "Nash-MP"
    queries_per_step = 2

    def __init__(self, beta: Fraction, eta: Fraction | None = None, gamma: Fraction | None = None) -> None:
        self.form = "canonical η (Munos normalisation)"
        if gamma is not None:
            if eta is not None:
                raise InputError("give either eta or gamma, not both")
            if gamma <= 0:
                raise InputError(f"gamma must be > 0, got {fraction_str(gamma)}")
            eta = gamma / beta if beta > 0 else None
            self.form = f"γ = ηβ = {fraction_str(gamma)} (secondary-source normalisation)"
        super().__init__(beta, eta)

    @staticmethod
    def default_eta(beta: Fraction) -> Fraction:
        return Fraction(2)

    def describe(self) -> str:
        return f"{super().describe()}, γ = ηβ = {eta_str(self.eta * self.beta)}; input form: {self.form}"

    def step(self, ng: NumericGame, logpi: LogPolicy, t: int, oracle: Oracle) -> Step:
        b = ng.backend
        eb, e, denom = _step_constants(b, self.eta.numerator, self.eta.denominator,
                                       self.beta.numerator, self.beta.denominator)
        # Both proximal steps are centred at π_k: π_k + ηβ log π_ref is formed once (the same operations as mix)
        anchor = [lp + lr * eb for lp, lr in zip(logpi, ng.logref, strict=True)]
        half = [b.prox(a, f, e, denom) for a, f in zip(anchor, oracle.query(logpi))]
        new = [b.prox(a, f, e, denom) for a, f in zip(anchor, oracle.query(half))]
        return Step(new, half)


class MMD(Solver):
    """Magnetic Mirror Descent: one Nash-MP half step per iteration (1 query)."""

    name = "mmd"
    title = "MMD"
    queries_per_step = 1

    @staticmethod
    def default_eta(beta: Fraction) -> Fraction:
        return 4 * beta  # β / L² with L = ½

    def step(self, ng: NumericGame, logpi: LogPolicy, t: int, oracle: Oracle) -> Step:
        q = oracle.query(logpi)
        return Step([mix(ng.backend, logpi[c], ng.logref[c], q[c], self.eta, self.beta) for c in range(ng.k)])


def _geometric(b: Backend, logpi: Vec, logref: Vec, w: Fraction) -> Vec:
    """normalize((1 − w) log π + w log π_ref)."""
    return b.log_normalize(logpi * b.scalar(1 - w) + logref * b.scalar(w))


class NashMD(Solver):
    """Nash-MD (Munos et al. 2023): a step against the geometric mixture π^μ (1 query)."""

    name = "nash-md"
    title = "Nash-MD"
    queries_per_step = 1

    def __init__(self, beta: Fraction, eta: Fraction | None = None) -> None:
        self.schedule = eta is None
        super().__init__(beta, eta)

    @staticmethod
    def default_eta(beta: Fraction) -> Fraction:
        return 1 / beta  # η_0 of the schedule; see eta_at

    def validate(self) -> None:
        if not self.schedule and self.eta * self.beta > 1:
            raise InputError("nash-md needs ηβ ≤ 1")

    def eta_at(self, t: int) -> Fraction:
        return Fraction(2) / (self.beta * (t + 2)) if self.schedule else self.eta

    def describe(self) -> str:
        if self.schedule:
            return f"{self.title}: β = {eta_str(self.beta)}, η_t = 2/(β(t+2)) (Munos Thm 1)"
        return super().describe()

    def step(self, ng: NumericGame, logpi: LogPolicy, t: int, oracle: Oracle) -> Step:
        b = ng.backend
        eta = self.eta_at(t)
        mu = [_geometric(b, logpi[c], ng.logref[c], eta * self.beta) for c in range(ng.k)]
        q = oracle.query(mu)
        return Step([b.log_normalize(mu[c] + q[c] * b.scalar(eta)) for c in range(ng.k)])


class OMD(Solver):
    """Online mirror descent / self-play (INPO-type), Munos eq. 8 (1 query).

    (1 − ηβ) log π + ηβ log π_ref + ηPπ is exactly MMD at step η/(1 − ηβ) (divide by 1/(1 − ηβ) =
    1 + η'β with η' = η/(1 − ηβ)): for fixed ηβ < 1 it converges linearly to π*_β like MMD. It is
    not a negative control; :class:`MWU` is.
    """

    name = "omd"
    title = "Online mirror descent"
    queries_per_step = 1

    @staticmethod
    def default_eta(beta: Fraction) -> Fraction:
        return min(Fraction(1, 2), 1 / beta)

    def validate(self) -> None:
        if self.eta * self.beta > 1:
            raise InputError("omd needs ηβ ≤ 1")

    def step(self, ng: NumericGame, logpi: LogPolicy, t: int, oracle: Oracle) -> Step:
        b = ng.backend
        q = oracle.query(logpi)
        eb = self.eta * self.beta
        return Step([
            b.log_normalize(logpi[c] * b.scalar(1 - eb) + ng.logref[c] * b.scalar(eb) + q[c] * b.scalar(self.eta))
            for c in range(ng.k)
        ])


class MWU(Solver):
    """Multiplicative weights: mirror descent on the unregularized preference (1 query). A negative control.

    log π_{t+1} = log π_t + η P π_t − log Z: it ignores β and π_ref, and its last iterate cycles
    (does not converge) on rock-paper-scissors-like games.
    """

    name = "mwu"
    title = "Multiplicative weights (unregularized)"
    queries_per_step = 1

    @staticmethod
    def default_eta(beta: Fraction) -> Fraction:
        return Fraction(1, 2)

    def step(self, ng: NumericGame, logpi: LogPolicy, t: int, oracle: Oracle) -> Step:
        b = ng.backend
        q = oracle.query(logpi)
        return Step([b.log_normalize(logpi[c] + q[c] * b.scalar(self.eta)) for c in range(ng.k)])


class Extragradient(Solver):
    """Extragradient in EGPO form (2 queries); ``eta`` here is EGPO's own step η_e, η_eβ < 1.

    Written with the centred preference P − ½ and geometric weights (1 − η_eβ, η_eβ); it equals
    Nash-MP with η = η_e / (1 − η_eβ).
    """

    name = "extragradient"
    title = "Extragradient (EGPO)"
    queries_per_step = 2

    @staticmethod
    def default_eta(beta: Fraction) -> Fraction:
        return 1 / (beta + 1)

    def validate(self) -> None:
        if self.eta * self.beta >= 1:
            raise InputError("extragradient needs η_e β < 1")

    def describe(self) -> str:
        return (f"{self.title}: β = {eta_str(self.beta)}, η_e = {eta_str(self.eta)} "
                f"(= Nash-MP η = {eta_str(self.eta / (1 - self.eta * self.beta))})")

    def _half(self, b: Backend, logpi: Vec, logref: Vec, q: Vec) -> Vec:
        w = self.eta * self.beta
        half = b.scalar("0.5")
        return b.log_normalize(logpi * b.scalar(1 - w) + logref * b.scalar(w) + (q - half) * b.scalar(self.eta))

    def step(self, ng: NumericGame, logpi: LogPolicy, t: int, oracle: Oracle) -> Step:
        b = ng.backend
        q = oracle.query(logpi)
        half = [self._half(b, logpi[c], ng.logref[c], q[c]) for c in range(ng.k)]
        q2 = oracle.query(half)
        return Step([self._half(b, logpi[c], ng.logref[c], q2[c]) for c in range(ng.k)], half)


class ProximalPoint(Solver):
    """Exact proximal point: the implicit step solved by Newton to working precision.

    Counted as 1 query per iteration (an idealised oracle: the inner solve is not counted).
    """

    name = "proximal-point"
    title = "Exact proximal point"
    queries_per_step = 1

    @staticmethod
    def default_eta(beta: Fraction) -> Fraction:
        return Fraction(2)

    def step(self, ng: NumericGame, logpi: LogPolicy, t: int, oracle: Oracle) -> Step:
        b = ng.backend
        oracle.count += 1
        eb = self.eta * self.beta
        out = []
        for c in range(ng.k):
            base = (logpi[c] + ng.logref[c] * b.scalar(eb)) / b.scalar(1 + eb)
            x, _, _ = solve_fixed_point(b, ng.P[c], base, b.scalar(self.eta / (1 + eb)), logpi[c])
            out.append(x)
        return Step(out)


SOLVERS: dict[str, type[Solver]] = {
    cls.name: cls for cls in (NashMP, NashMD, OMD, MMD, Extragradient, ProximalPoint, MWU)
}
