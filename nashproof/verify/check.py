"""One claim on one run: hypotheses, then the method that applies (the engine's entry point)."""

from __future__ import annotations

import mpmath

from ..claims import Claim, hypotheses_hold
from ..numbers import fraction_str
from ..solvers import NashMD
from .binding import local_values, param_values
from .certified import check_certified
from .compiler import compile_statement, symbol_args
from .estimated import check_estimated
from .rate import check_rate_constant, check_rate_fit, constant_applies
from .record import RunData
from .semantics import Verdict

mp = mpmath.mp


def check_claim(claim: Claim, data: RunData, ignore_hypotheses: bool = False, until_floor: bool = True,
                eps_grid: int = 6) -> Verdict:
    """Evaluate one claim on one run."""
    solver = data.solver
    base = Verdict(claim.id, "pass", claim.provenance, claim.kind, data.game.label, solver.name,
                   fraction_str(data.beta), fraction_str(solver.eta) if not isinstance(solver, NashMD)
                   or not solver.schedule else "2/(β(t+2))", method=data.method)
    if not claim.applies_to(solver.name):
        base.status, base.note = "not-applicable", f"claim is about {', '.join(claim.solvers)}"
        return base
    if claim.kind in ("existence", "dimension"):
        base.status = "not-applicable"
        base.note = ("no checkable statement is known" if claim.kind == "existence"
                     else "checked by the dimension family (a [[dimension]] suite entry)")
        return base
    ok, failed = hypotheses_hold(claim, {**param_values(data), **local_values(claim, data)})
    if not ok:
        if not ignore_hypotheses:
            base.status, base.failed_hypothesis = "not-applicable", failed
            base.note = f"hypothesis {failed} is false for these parameters"
            return base
        base.failed_hypothesis = failed
        base.note = f"hypothesis {failed} is false; evaluated anyway (--ignore-hypotheses)"
    with mpmath.workdps(data.digits + data.guard + (20 if data.method == "certified" else 0)):
        if claim.kind == "rate" and constant_applies(claim, data):
            return check_rate_constant(claim, data, base, until_floor, eps_grid)
        if claim.kind == "rate":
            return check_rate_fit(claim, data, base, until_floor)
        if data.method == "certified":
            return check_certified(claim, data, base, until_floor, eps_grid)
        return check_estimated(claim, data, base, until_floor, eps_grid)


def bound_series(claim: Claim, data: RunData) -> list[mpmath.mpf | None]:
    """The right-hand side of a bound claim's first statement at every k (None where undefined)."""
    if claim.kind != "bound" or not claim.statements:
        return []
    comp = compile_statement(claim.statements[0])
    out: list[mpmath.mpf | None] = []
    with mpmath.workdps(data.digits + data.guard):
        for t in range(data.steps + 1):
            vals, _, _ = data.at(t)
            try:
                out.append(comp.rhs(*symbol_args(vals)))
            except (ValueError, ZeroDivisionError):
                out.append(None)
    return out
