"""The quantities a for-every-π claim reads, as functions of the free logits of π.

π = softmax(z, 0): the gauge is fixed by a last logit of 0, so a box of z ∈ ℝ^(n−1) is a set of
policies. The solver's step (Nash-MP, MMD or Nash-MD at fixed η) is written out over
:class:`~nashproof.prove.ad.Dual` balls; π*_β enters as its certified (Krawczyk) enclosure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from flint import arb, fmpq

from .ad import Dual, dual_max, dual_min, dual_sum, log_softmax, log_sum_exp

#: The solvers whose one step prove writes out, and what each quantity is called in claims.
STEP_SOLVERS = ("nash-mp", "mmd", "nash-md")
#: Quantities of π itself (no step).
POINT_NAMES = ("kl", "kl_reverse", "l1", "l1_sq", "exploitability", "exploitability_unreg", "span")
#: Quantities of one step from π.
STEP_NAMES = ("kl@next", "span@next", "l1_half")
#: Constants a claim may read (not k: a statement about the k-th iterate is not one about every π).
CONSTANT_NAMES = ("beta", "eta", "n", "min_ref")
#: Quantities that vanish with a zero gradient at π = π*, and are smooth there.
SMOOTH_AT_STAR = frozenset({"kl", "kl_reverse", "exploitability", "kl@next"})


def q(x: Fraction) -> arb:
    return arb(fmpq(x.numerator, x.denominator))


@dataclass
class Model:
    """One game context, its π*, β, η and solver, as balls."""

    P: list[list[arb]]
    logref: list[arb]
    ref: list[arb]
    logstar: list[arb]
    star: list[arb]
    beta: arb
    eta: arb
    solver: str
    constants: dict[str, arb]

    @property
    def n(self) -> int:
        return len(self.ref)

    def _field(self, p: Sequence[Dual]) -> list[Dual]:
        return [dual_sum([row[j] * p[j] for j in range(self.n)]) for row in self.P]

    def _normalize(self, y: Sequence[Dual]) -> list[Dual]:
        return log_softmax(y)

    def _mix(self, centre: Sequence[Dual], field: Sequence[Dual]) -> list[Dual]:
        eb = self.eta * self.beta
        return self._normalize([(c + eb * lr + self.eta * f) / (1 + eb)
                                for c, lr, f in zip(centre, self.logref, field)])

    def step(self, logpi: list[Dual], field: list[Dual]) -> tuple[list[Dual], list[Dual] | None]:
        """(log π_next, log π_half or None)."""
        if self.solver == "nash-mp":
            half = self._mix(logpi, field)
            return self._mix(logpi, self._field([h.exp() for h in half])), half
        if self.solver == "mmd":
            return self._mix(logpi, field), None
        eb = self.eta * self.beta  # nash-md: a step against the geometric mixture
        mu = self._normalize([(1 - eb) * lp + eb * lr for lp, lr in zip(logpi, self.logref)])
        return self._normalize([m + self.eta * f for m, f in zip(mu, self._field([m.exp() for m in mu]))]), None

    def next_logits(self, z: Sequence[Dual]) -> list[Dual]:
        """log π_next of one step from the free logits z (the last logit is 0)."""
        logpi = self._normalize([*z, z[0].like(arb(0))])
        return self.step(logpi, self._field([t.exp() for t in logpi]))[0]

    def values(self, z: Sequence[Dual], names: frozenset[str]) -> dict[str, Dual | arb]:
        """Every quantity in ``names`` at the logits z (free logits; the last logit is 0)."""
        zero = z[0].like(arb(0))
        logpi = self._normalize([*z, zero])
        pi = [t.exp() for t in logpi]
        out: dict[str, Dual | arb] = {k: v for k, v in self.constants.items() if k in names}
        diff = [lp - ls for lp, ls in zip(logpi, self.logstar)]
        field = self._field(pi) if names & {"exploitability", "exploitability_unreg", *STEP_NAMES} else []
        if "kl" in names:
            out["kl"] = dual_sum([-s * d for s, d in zip(self.star, diff)])
        if "kl_reverse" in names:
            out["kl_reverse"] = dual_sum([p * d for p, d in zip(pi, diff)])
        if names & {"l1", "l1_sq"}:
            l1 = dual_sum([abs(p - s) for p, s in zip(pi, self.star)])
            out["l1"], out["l1_sq"] = l1, l1 * l1
        if "span" in names:
            out["span"] = dual_max(diff) - dual_min(diff)
        if "exploitability" in names:
            lse = log_sum_exp([lr + f / self.beta for lr, f in zip(self.logref, field)])
            kl_ref = dual_sum([p * (lp - lr) for p, lp, lr in zip(pi, logpi, self.logref)])
            out["exploitability"] = self.beta * lse + self.beta * kl_ref - arb(fmpq(1, 2))
        if "exploitability_unreg" in names:
            out["exploitability_unreg"] = dual_max(field) - arb(fmpq(1, 2))
        if names & set(STEP_NAMES):
            new, half = self.step(logpi, field)
            nd = [a - b for a, b in zip(new, self.logstar)]
            out["kl@next"] = dual_sum([-s * d for s, d in zip(self.star, nd)])
            out["span@next"] = dual_max(nd) - dual_min(nd)
            if half is not None:
                out["l1_half"] = dual_sum([abs(h.exp() - s) for h, s in zip(half, self.star)])
            elif "l1_half" in names:
                out["l1_half"] = zero
        return out


def make_model(P: Sequence[Sequence[Fraction]], ref: Sequence[Fraction], logstar: Sequence[arb],
               beta: Fraction, eta: Fraction, solver: str) -> Model:
    refb = [q(r) for r in ref]
    constants = {"beta": q(beta), "eta": q(eta), "n": arb(len(ref)), "min_ref": q(min(ref))}
    return Model([[q(x) for x in row] for row in P], [r.log() for r in refb], refb, list(logstar),
                 [s.exp() for s in logstar], q(beta), q(eta), solver, constants)
