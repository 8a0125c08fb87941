"""What a search maximises: a claim's statement, whole or one term of its right side, and the
float64 and exact functions that give its ratio at an instance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy as sp

from ..claims import SYMBOLS, Claim
from ..errors import InputError
from ..verify import ExactStatement as _Compiled
from ..verify import compile_statement as _compile

SEARCHABLE = ("step", "bound", "static")
_PARAMS = ("beta", "eta", "k", "n", "N", "schedule", "start_ref", "rho_loc", "epsilon", "C")
_ORDER = list(SYMBOLS)


@dataclass(frozen=True)
class Target:
    """What to maximise: statement ``statement`` of a claim, whole (``term`` None) or one rhs term."""

    claim: str
    statement: int
    term: int | None = None
    text: str = ""

    @property
    def label(self) -> str:
        s = f"{self.claim}[{self.statement + 1}]"
        return s if self.term is None else f"{s} term {self.text}"


def rhs_terms(rhs: sp.Expr) -> list[sp.Expr]:
    """The right side as a sum of ≥ 2 positive terms (grouped by metric symbol), else []."""
    metric = [s for s in SYMBOLS if SYMBOLS[s][0] not in _PARAMS]
    expr = sp.collect(sp.expand(rhs), metric)
    terms = list(sp.Add.make_args(expr))
    if len(terms) < 2:
        return []
    probe = {s: sp.Rational(1, 4) for s in expr.free_symbols}
    probe.update({s: sp.Rational(1, 10) for s in expr.free_symbols if s.name in ("beta",)})
    if any(not (t.subs(probe).evalf() > 0) for t in terms):
        return []
    return terms


def claim_targets(claim: Claim) -> list[Target]:
    """Every statement of the claim as a whole, then each positive term of a multi-term right side."""
    if claim.kind not in SEARCHABLE:
        raise InputError(f"claim {claim.id} is of kind {claim.kind!r}: search handles {', '.join(SEARCHABLE)} claims")
    out = []
    for i, st in enumerate(claim.statements):
        out.append(Target(claim.id, i))
        for j, t in enumerate(rhs_terms(st.rhs)):
            out.append(Target(claim.id, i, j, sp.sstr(t)))
    return out


@dataclass
class TargetFns:
    lhs: Callable[..., float]
    rhs: Callable[..., float]
    term: Callable[..., float] | None
    compiled: _Compiled | None = None  # for the float64 error estimate


def target_fns(claim: Claim, target: Target, module: str) -> TargetFns:
    st = claim.statements[target.statement]
    if not isinstance(st, (sp.LessThan, sp.StrictLessThan)):
        raise InputError(f"claim statements must be ≤ relations, got {sp.sstr(st)}")
    term = rhs_terms(st.rhs)[target.term] if target.term is not None else None

    def lam(e: sp.Expr) -> Callable[..., float]:
        f: Callable[..., float] = sp.lambdify(_ORDER, e, modules=module)
        return f

    return TargetFns(lam(st.lhs), lam(st.rhs), lam(term) if term is not None else None, _compile(st))


def target_ratio(fns: TargetFns, args: Sequence[object]) -> object:
    lhs, rhs = fns.lhs(*args), fns.rhs(*args)
    if fns.term is None:
        return lhs / rhs
    t = fns.term(*args)
    return (lhs - (rhs - t)) / t
