"""The declared step: its forms (``StepSpec``), the declared rule's exact map, and the conformance tolerance."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from ..backends import MpmathBackend
from ..errors import InputError
from ..games import Context, Game, single
from ..numbers import fraction_str, parse_positive
from ..numeric import NumericGame, Oracle
from ..solvers import Solver, make_solver
from .diagnose import family
from .rules import EXTRA, TEMPERED, exact_step

F64 = npt.NDArray[np.float64]
U = 2.0**-52
#: Accepted range of a declared step (beyond it the candidate's float arithmetic overflows or underflows).
ETA_MIN, ETA_MAX = Fraction(1, 10**9), Fraction(10**6)


# ------------------------------------------------------------------ declared steps


@dataclass(frozen=True)
class StepSpec:
    """A declared step: ``2`` (the rule's own η), ``gamma=G`` (γ = ηβ), ``eta_e=E`` (EGPO's step),
    ``lr=L,temp=T`` (MMD's pair; temp is β), ``auto`` (fit it), or a schedule (Nash-MD's η_t)."""

    kind: str  # eta | gamma | eta_e | lr | auto | schedule
    value: Fraction = Fraction(0)
    temp: Fraction | None = None

    @staticmethod
    def parse(text: str | None, declared: str) -> StepSpec:
        if text is None:
            return StepSpec("schedule") if declared == "nash-md" else StepSpec("eta", Fraction(0))
        t = text.strip()
        if t == "auto":
            return StepSpec("auto")
        if t == "schedule":
            if declared != "nash-md":
                raise InputError("--eta schedule is Nash-MD's η_t = 2/(β(t+2)); other rules take a fixed step")
            return StepSpec("schedule")
        if t == "max":
            raise InputError("--eta max is not an audit step: give the step the candidate uses, or --eta auto")
        parts = dict(p.partition("=")[::2] for p in t.split(",")) if "=" in t else {"eta": t}
        keys = set(parts)
        for key, value in parts.items():
            what = "--eta" if key == "eta" else f"--eta {key}"
            x = parse_positive(value, what)
            if not ETA_MIN <= x <= ETA_MAX:
                raise InputError(f"{what} must be in [1e-9, 1e6], got {value.strip()[:30]}")
        if keys == {"eta"}:
            return StepSpec("eta", parse_positive(parts["eta"], "--eta"))
        if keys == {"gamma"}:
            if declared not in ("nash-mp", "extragradient"):
                raise InputError("--eta gamma=G is Nash-MP's γ = ηβ; give --declared nash-mp or extragradient")
            return StepSpec("gamma", parse_positive(parts["gamma"], "--eta gamma"))
        if keys == {"eta_e"}:
            if declared not in ("nash-mp", "extragradient"):
                raise InputError("--eta eta_e=E is extragradient's (EGPO's) step; declare nash-mp or extragradient")
            return StepSpec("eta_e", parse_positive(parts["eta_e"], "--eta eta_e"))
        if keys == {"lr", "temp"}:
            if declared not in ("mmd", "omd"):
                raise InputError("--eta lr=L,temp=T is MMD's step form; give --declared mmd or omd")
            return StepSpec("lr", parse_positive(parts["lr"], "--eta lr"), parse_positive(parts["temp"], "--eta temp"))
        raise InputError(f"--eta: cannot read {text!r}; use a number, auto, gamma=G, eta_e=E or lr=L,temp=T")

    def solver_eta(self, declared: str, beta: Fraction) -> Fraction | None:
        """The step in the declared solver's own parameter (extragradient: η_e), or None for a schedule."""
        if self.kind == "schedule":
            return None
        if declared in EXTRA and (self.kind == "auto" or (self.kind == "eta" and self.value == 0)):
            raise InputError(f"--declared {declared} needs its step: --eta E (the candidate's η, dt or learning rate)")
        if self.kind in ("auto",) or (self.kind == "eta" and self.value == 0):
            return make_solver(declared, beta).eta if declared != "nash-md" else 1 / beta
        if self.kind == "eta":
            return self.value
        if self.kind == "gamma":
            eta = self.value / beta
            return eta if declared == "nash-mp" else eta / (1 + eta * beta)
        if self.kind == "eta_e":
            if declared == "extragradient":
                return self.value
            if self.value * beta >= 1:
                raise InputError(f"eta_e = {fraction_str(self.value)} needs η_eβ < 1 at β = {fraction_str(beta)}")
            return self.value / (1 - self.value * beta)
        assert self.kind == "lr"
        return self.value if declared == "mmd" else self.value / (1 + self.value * beta)

    def passed(self, declared: str, beta: Fraction, t: int) -> float:
        """What the candidate receives as ``eta``: the step in the form declared (γ for gamma=, η_e for
        eta_e=, lr for lr=,temp=), the declared rule's own η otherwise, η_t for the schedule."""
        if self.kind == "schedule":
            return float(Fraction(2) / (beta * (t + 2)))
        if self.kind in ("gamma", "eta_e", "lr"):
            return float(self.value)
        eta = self.solver_eta(declared, beta)
        assert eta is not None
        return float(eta)

    def describe(self) -> str:
        if self.kind == "eta" and self.value == 0:
            return "its default step"
        return {"schedule": "η_t = 2/(β(t+2))", "auto": "fitted (--eta auto)", "eta": f"η = {fraction_str(self.value)}",
                "gamma": f"γ = ηβ = {fraction_str(self.value)}", "eta_e": f"η_e = {fraction_str(self.value)}",
                "lr": f"lr = {fraction_str(self.value)}, temp = {fraction_str(self.temp or Fraction(0))}"}[self.kind]


def solver_for(declared: str, beta: Fraction, eta: Fraction | None) -> Solver:
    if declared in EXTRA:
        raise InputError(f"{declared} is an audit-only rule; the checker's solvers do not implement it")
    if declared == "nash-md" and eta is not None and eta * beta > 1:
        raise InputError(f"nash-md needs ηβ ≤ 1; η = {fraction_str(eta)} at β = {fraction_str(beta)}")
    return make_solver(declared, beta, eta)


# ------------------------------------------------------------------ reference maps


def canonical_fraction(declared: str, solver_eta: Fraction | None, beta: Fraction, t: int) -> Fraction:
    """The declared step in its family's own form (extragradient → Nash-MP's η, omd → MMD's η)."""
    if solver_eta is None:
        return Fraction(2) / (beta * (t + 2))
    if declared in ("extragradient", "omd"):
        return solver_eta / (1 - solver_eta * beta)
    return solver_eta


class DeclaredMap:
    """The declared rule's exact step (40 digits) on one context: the checker's solver, or the audit's own
    rules (:mod:`nashproof.audit.rules`) for the rules only the audit knows and for opponents at τ ≠ 1."""

    def __init__(self, ctx: Context, declared: str, beta: Fraction, solver_eta: Fraction | None,
                 temperature: Fraction = Fraction(1)) -> None:
        self.ctx, self.declared, self.beta, self.eta, self.tau = ctx, declared, beta, solver_eta, temperature
        generic = declared in EXTRA or temperature != 1 or beta == 0
        if temperature != 1 and family(declared) not in TEMPERED:
            raise InputError(f"--opponent-temperature does not apply to {declared}")
        self.ref = None if generic else ReferenceMap(ctx, solver_for(declared, beta, solver_eta))

    def exact(self, pi: F64, t: int = 0, prev: F64 | None = None, out: F64 | None = None) -> F64:
        """log π_(k+1). OMWU from a fresh start (``prev`` None) has two conventions in public code, a memory
        equal to π_0's own field (MWU at η) or a zero memory (MWU at 2η): the one closer to ``out`` is used."""
        if self.ref is not None:
            return self.ref.exact(pi, t)
        eta = canonical_fraction(self.declared, self.eta, self.beta, t)
        fam = family(self.declared)
        got = exact_step(fam, pi, self.ctx.preference, self.ctx.reference, self.beta, eta, self.tau, prev)
        if fam == "omwu" and prev is None and out is not None:
            zero = exact_step("mwu", pi, self.ctx.preference, self.ctx.reference, self.beta, 2 * eta, self.tau)
            if np.max(np.abs(np.log(out) - zero)) < np.max(np.abs(np.log(out) - got)):
                return zero
        return got


def _one_context(ctx: Context) -> Game:
    return single(ctx.preference, ctx.reference)


class ReferenceMap:
    """One step of a solver, on one context, from a float64 π given exactly (40 digits by default)."""

    def __init__(self, ctx: Context, solver: Solver, digits: int = 40) -> None:
        self.solver = solver
        self.game = _one_context(ctx)
        self.mp = NumericGame(self.game, MpmathBackend(digits))

    def exact(self, pi: F64, t: int = 0) -> F64:
        b = self.mp.backend
        logpi = b.log_normalize(b.log(b.vector([Fraction(float(x)) for x in pi])))
        out = self.solver.step(self.mp, [logpi], t, Oracle(self.mp)).policy[0]
        return np.array([float(x) for x in out], dtype=np.float64)  # log-probabilities


def tolerance(pi: F64, ref: F64, beta: float, eta: float, n: int, u: float = U) -> float:
    """64·n·u·S with S = 1 + ‖log π‖∞ + ηβ‖log π_ref‖∞ + η(1 + η) (see the module docstring)."""
    scale = 1 + float(np.max(np.abs(np.log(pi)))) + eta * beta * float(np.max(np.abs(np.log(ref)))) + eta * (1 + eta)
    return 64 * n * u * scale
