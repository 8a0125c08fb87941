"""Confirmation: the best float64 instance re-evaluated as it stands, exactly, at high precision
(precision doubling), its ratio printed with an error estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath

from ..claims import Claim
from ..games import Game
from ..solvers import Solver
from ..verify import RunData, check_claim, collect
from ..verify import claim_points as _points
from ..verify import compile_statement as _compile
from ..verify import lambdify_exact as _lambdify
from ..verify import propagate_error as _propagate
from ..verify import symbol_args as _args
from .space import Instance
from .targets import Target, TargetFns, rhs_terms, target_ratio

mp = mpmath.mp


@dataclass
class Confirmation:
    """The exact instance re-evaluated at high precision."""

    ratio: mpmath.mpf
    error: mpmath.mpf
    k: int
    status: str
    note: str
    digits: int


#: The confirmation raises its precision up to this when rounding leaves the verdict open.
MAX_DIGITS = 400


def collect_instance(game: Game, solver: Solver, steps: int, digits: int, backend: str = "mpmath",
                     guard: int | None = None) -> RunData:
    """:func:`verify.collect` (precision doubling), with the inexact solvers' extra series (δ, √KL, step errors)."""
    from ..verify.inexact import collect_inexact, is_inexact

    if is_inexact(solver):
        return collect_inexact(game, solver, steps, digits, backend=backend)  # type: ignore[arg-type]
    return collect(game, solver, steps, digits, guard=guard, backend=backend)


def confirm(claim: Claim, target: Target, inst: Instance, digits: int = 60,
            ignore_hypotheses: bool = False) -> Confirmation:
    """Ratio of the target at ``digits`` (precision doubling) with its error, and the claim's verdict."""
    while True:
        data = collect_instance(inst.game, inst.make_solver(), inst.steps, digits)
        verdict = check_claim(claim, data, ignore_hypotheses)
        if verdict.status != "inconclusive" or not verdict.needed_digits or verdict.needed_digits > MAX_DIGITS \
                or verdict.needed_digits <= digits:
            break
        digits = verdict.needed_digits
    ratio, err, at = _exact_ratio(claim, target, data)
    return Confirmation(ratio, err, at, verdict.status, verdict.note, digits)


def _exact_ratio(claim: Claim, target: Target, data: RunData) -> tuple[mpmath.mpf, mpmath.mpf, int]:
    st = claim.statements[target.statement]
    comp = _compile(st)
    fns = TargetFns(comp.lhs, comp.rhs, _lambdify(rhs_terms(st.rhs)[target.term]) if target.term is not None else None)
    best, best_err, best_k = mp.ninf, mp.zero, -1
    with mpmath.workdps(data.digits + data.guard):
        points, _ = _points(claim, data, True)
        for t in points:
            vals, errs, ident = data.at(t)
            args = _args(vals)
            denom = fns.rhs(*args) if fns.term is None else fns.term(*args)
            if not denom > 0:
                continue
            r = mp.mpf(target_ratio(fns, args))
            prop = _propagate(comp, args, errs, ident)
            if prop == 0 and comp.rhs(*args) == comp.lhs(*args):  # an identity (KL_0 ≤ KL_0 at k = 0)
                continue
            err = prop / denom + abs(r) * mp.eps * 64
            if r > best:
                best, best_err, best_k = r, err, t
    return best, best_err, best_k
