"""What prove decides: a claim, a game context, β, η and a solver step, built once per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp
from flint import arb, ctx

from ..claims import SYMBOLS, Catalogue, Claim
from ..errors import InputError
from ..games import Game
from ..numbers import fraction_str
from .compile import Margin, compile_margin, margin_expr
from .model import CONSTANT_NAMES, POINT_NAMES, SMOOTH_AT_STAR, STEP_NAMES, STEP_SOLVERS, Model, make_model

#: Working precision of every box evaluation (bits).
DEFAULT_BITS = 128
#: The claim kinds whose statements speak of one policy π (or one step from it).
KINDS = ("step", "bound", "static")


@dataclass(frozen=True)
class Spec:
    """Everything exact that defines a proof problem (picklable: sent to workers)."""

    claim: Claim
    P: tuple[tuple[Fraction, ...], ...]
    ref: tuple[Fraction, ...]
    beta: Fraction
    eta: Fraction
    solver: str
    bits: int = DEFAULT_BITS


@dataclass
class Statement:
    text: str
    strict: bool
    margin: Margin
    lhs: Margin
    rhs: Margin
    second_order: bool  # the margin and its gradient vanish exactly at π*: the Hessian test applies


@dataclass
class Context:
    spec: Spec
    model: Model
    statements: list[Statement]
    names: frozenset[str]
    zstar: list[arb]  # π*'s free logits (log π*_i − log π*_n), balls
    neighbourhoods: dict[int, object] = field(default_factory=dict)  # star.Neighbourhood per statement


def accepted(catalogue: Catalogue) -> list[str]:
    return [c.id for c in catalogue if _reads_only_pi(c) is None]


def _reads_only_pi(claim: Claim) -> str | None:
    """None when prove can decide the claim, else why not."""
    if claim.kind not in KINDS:
        return f"a {claim.kind} claim is not a statement for every π"
    if claim.kind == "step" and not any(s in STEP_SOLVERS for s in claim.solvers):
        return (f"a step claim of {', '.join(claim.solvers)}; prove writes out the steps of {', '.join(STEP_SOLVERS)} "
                "only (the implicit proximal-point step is not supported)")
    allowed = set(POINT_NAMES) | set(STEP_NAMES) | set(CONSTANT_NAMES)
    for rel in claim.statements:
        for s in (*rel.free_symbols, *(x for h in claim.hypotheses for x in h.free_symbols)):
            name = SYMBOLS[s][0] if s in SYMBOLS else str(s)
            if name not in allowed:
                return f"it reads {name} ({SYMBOLS[s][1] if s in SYMBOLS else 'unknown'}), not a function of π"
    return None


def check_claim(claim: Claim, catalogue: Catalogue) -> None:
    why = _reads_only_pi(claim)
    if why is not None:
        raise InputError(f"prove decides for-every-π claims only ({', '.join(accepted(catalogue))}); "
                         f"{claim.id}: {why}")


def default_solver(claim: Claim) -> str:
    for s in claim.solvers:
        if s in STEP_SOLVERS:
            return s
    if claim.kind == "step":
        raise InputError(f"{claim.id} is a step claim of {', '.join(claim.solvers)}; prove writes out the steps "
                         f"of {', '.join(STEP_SOLVERS)} only (the implicit proximal-point step is not supported)")
    return "nash-mp"


def check_hypotheses(claim: Claim, beta: Fraction, eta: Fraction) -> None:
    from ..claims import beta as b_sym
    from ..claims import eta as e_sym

    for h in claim.hypotheses:
        value = h.subs({b_sym: sp.Rational(beta.numerator, beta.denominator),
                        e_sym: sp.Rational(eta.numerator, eta.denominator)})
        if value is sp.false or value is False:
            raise InputError(f"{claim.id}: hypothesis {sp.sstr(h)} is false at β = {fraction_str(beta)}, "
                             f"η = {fraction_str(eta)}")
        if not (value is sp.true or value is True):
            raise InputError(f"{claim.id}: hypothesis {sp.sstr(h)} cannot be decided from β and η alone")


def make_spec(claim: Claim, game: Game, beta: Fraction, eta: Fraction, solver: str, bits: int = DEFAULT_BITS) -> Spec:
    if len(game.contexts) != 1:
        raise InputError("prove decides claims on one-context games (a box of logits per context is future work)")
    if game.n < 2:
        raise InputError("prove needs a game with at least 2 actions")
    c = game.contexts[0]
    return Spec(claim, tuple(tuple(r) for r in c.preference), tuple(c.reference), beta, eta, solver, bits)


def second_order_at_star(expr: sp.Expr) -> bool:
    """The margin is a polynomial in quantities that are smooth and vanish to second order at π*, and is
    0 when they are: then it and its gradient vanish at π* exactly."""
    metric = {s for s in expr.free_symbols if s in SYMBOLS and SYMBOLS[s][0] in set(POINT_NAMES) | set(STEP_NAMES)}
    if not metric or any(SYMBOLS[s][0] not in SMOOTH_AT_STAR for s in metric):
        return False
    if not expr.is_polynomial(*metric):
        return False
    return bool(sp.simplify(expr.subs({s: 0 for s in metric})) == 0)


_CACHE: dict[Spec, Context] = {}


def context(spec: Spec) -> Context:
    """The balls of a problem (π* certified once per process)."""
    if spec not in _CACHE:
        from ..certified_policy import certified_policy
        from ..games import Context as GameContext
        from ..games import make_game

        ctx.prec = spec.bits
        game = make_game([f"y{i}" for i in range(len(spec.ref))],
                         [GameContext("x0", Fraction(1), spec.P, spec.ref)])
        logs, _ = certified_policy(game, spec.beta, max(30, int(spec.bits * 0.301) + 10))
        ctx.prec = spec.bits
        logstar = [arb(x) for x in logs[0]]
        model = make_model(spec.P, spec.ref, logstar, spec.beta, spec.eta, spec.solver)
        statements = []
        names: set[str] = set()
        for rel in spec.claim.statements:
            expr, strict = margin_expr(rel)
            statements.append(Statement(sp.sstr(rel), strict, compile_margin(expr), compile_margin(rel.lhs),
                                        compile_margin(rel.rhs), second_order_at_star(expr) and not strict))
            names |= {SYMBOLS[s][0] for s in rel.free_symbols if s in SYMBOLS}
        zstar = [s - logstar[-1] for s in logstar[:-1]]
        _CACHE[spec] = Context(spec, model, statements, frozenset(names), zstar)
    ctx.prec = spec.bits
    return _CACHE[spec]
