"""The claim compiler: one sympy statement, two evaluators over the same exact constants.

The exact evaluator (mpmath at the working precision) gives midpoints for printing and search; the
ball evaluator (python-flint ``arb``) decides. Every constant is enclosed exactly (integers, rationals,
sympy ``Float`` as its binary value ± half an ulp, π, e, log/exp/sqrt of enclosed values); a statement
with anything else is refused with an :class:`InputError` (and a user claim when it is loaded).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy as sp

from ..backends.balls import (
    to_arb,
)
from ..claims import SYMBOLS
from ..claims.constants import unenclosable
from ..errors import InputError
from .ball_printer import BallNamespace, ball_lambdify
from .ball_printer import float_ball as float_ball

mp = mpmath.mp


_ORDER = list(SYMBOLS)


SYMBOL_NAMES = [SYMBOLS[s][0] for s in _ORDER]


def refuse_unenclosable(expr: sp.Basic) -> None:
    """Raise :class:`InputError` when part of ``expr`` has no exact enclosure (nothing is approximated)."""
    bad = unenclosable(expr)
    if bad is not None:
        raise InputError(f"claim statement {sp.sstr(expr)}: {bad} has no exact enclosure; write constants as "
                         "integers, Rational, Float, pi, E or log/exp/sqrt of them")


def lambdify_exact(expr: sp.Expr) -> Callable[..., mpmath.mpf]:
    f: Callable[..., mpmath.mpf] = sp.lambdify(_ORDER, expr, modules="mpmath")
    return f


@dataclass
class ExactStatement:
    lhs: Callable[..., mpmath.mpf]
    rhs: Callable[..., mpmath.mpf]
    grads: list[tuple[str, Callable[..., mpmath.mpf]]]


@functools.lru_cache(maxsize=512)
def compile_statement(rel: sp.Basic) -> ExactStatement:
    """lhs, rhs and the gradient of rhs − lhs as mpmath functions: built once per statement."""
    if not isinstance(rel, (sp.LessThan, sp.StrictLessThan)):
        raise InputError(f"claim statements must be ≤ relations, got {sp.sstr(rel)}")
    refuse_unenclosable(rel)
    lhs, rhs = rel.lhs, rel.rhs
    gap = rhs - lhs
    grads = []
    for sym in gap.free_symbols:
        if sym in SYMBOLS:
            d = sp.diff(gap, sym)
            if d.has(sp.Derivative):  # e.g. of a ceiling: piecewise constant
                d = d.replace(lambda e: isinstance(e, sp.Derivative), lambda e: sp.Integer(0))
            grads.append((SYMBOLS[sym][0], lambdify_exact(d)))
    return ExactStatement(lambdify_exact(lhs), lambdify_exact(rhs), grads)


def symbol_args(vals: dict[str, mpmath.mpf]) -> list[mpmath.mpf]:
    return [vals.get(name, mp.nan) for name in SYMBOL_NAMES]


def propagate_error(comp: ExactStatement, args: list[mpmath.mpf], errs: dict[str, mpmath.mpf],
               ident: dict[str, tuple[str, int]]) -> mpmath.mpf:
    """First-order error of rhs − lhs; symbols naming the same number have their gradients summed."""
    grad: dict[object, mpmath.mpf] = {}
    err_of: dict[object, mpmath.mpf] = {}
    for name, g in comp.grads:
        key: object = ident.get(name, name)
        grad[key] = grad.get(key, mp.zero) + g(*args)
        err_of[key] = errs.get(name, mp.zero)
    return sum((abs(grad[key]) * err_of[key] for key in grad), mp.zero)


def _ball_fn(name: str, *args: Any) -> Any:
    from flint import arb

    xs = [to_arb(a) for a in args]
    if name == "Max" or name == "Min":
        out = xs[0]
        for x in xs[1:]:
            out = out.max(x) if name == "Max" else out.min(x)
        return out
    if name == "pi":
        return arb.pi()
    if name == "E":
        return arb(1).exp()
    if name == "ceiling":
        return xs[0].ceil()
    if name == "Abs":
        return abs(xs[0])
    method = getattr(xs[0], name, None)
    if method is None or len(xs) != 1:
        raise InputError(f"function {name} has no ball version: the claim cannot be certified")
    return method()


def _ball_pow(a: Any, e: Any) -> Any:
    x, y = to_arb(a), to_arb(e)
    z = y.unique_fmpz() if y.is_exact() else None
    if z is not None:
        return x ** int(z)
    return x**y


def _ball_rational(p: int, q: int) -> Any:
    from flint import arb, fmpq

    return arb(fmpq(p, q))


#: The verdict engine's ball namespace: ``arb`` balls (whatever number type comes in, via ``to_arb``).
BALLS = BallNamespace(_ball_rational, _ball_pow, _ball_fn, frozenset({"log", "exp", "ceiling", "floor", "Abs", "sqrt"}))


def _ball_lambdify(expr: sp.Basic) -> Callable[..., Any]:
    return ball_lambdify(_ORDER, expr, BALLS)


@dataclass
class BallStatement:
    lhs: Callable[..., Any]
    rhs: Callable[..., Any]
    gap: Callable[..., Any]


_ALIASES_AT_0 = {sym: next(s for s, (nm, _) in SYMBOLS.items() if nm == SYMBOLS[sym][0][:-2])
                 for sym in SYMBOLS if SYMBOLS[sym][0].endswith("@0")}


def _ball_compile(rel: sp.Basic, first: bool) -> BallStatement | bool:
    """Ball functions for rhs, lhs and rhs − lhs; at k = 0, X@0 and X are one number (exact identity).

    Returns True/False when the statement is identically true/false at that point.
    """
    if first:
        from ..claims import k as k_symbol

        rel = rel.subs({**_ALIASES_AT_0, k_symbol: 0})
    if rel is sp.true or rel is sp.false:
        return bool(rel)
    if not isinstance(rel, (sp.LessThan, sp.StrictLessThan)):
        raise InputError(f"claim statements must be ≤ relations, got {sp.sstr(rel)}")
    refuse_unenclosable(rel)
    gap = sp.simplify(rel.rhs - rel.lhs) if first else rel.rhs - rel.lhs
    return BallStatement(_ball_lambdify(rel.lhs), _ball_lambdify(rel.rhs), _ball_lambdify(gap))


_BALL_CACHE: dict[tuple[sp.Basic, bool], BallStatement | bool] = {}


def ball_statement(rel: sp.Basic, first: bool) -> BallStatement | bool:
    key = (rel, first)
    if key not in _BALL_CACHE:
        _BALL_CACHE[key] = _ball_compile(rel, first)
    return _BALL_CACHE[key]


# ------------------------------------------------------------------ public API


@dataclass(frozen=True)
class CompiledClaim:
    """One compiled ``lhs ≤ rhs`` statement, over any number type: values are given per symbol name
    (``SYMBOLS[sym][0]``: "kl", "kl@next", "eta", …) as ``int``, ``Fraction``, ``float``, mpmath numbers
    or ``arb`` balls; rationals and floats are taken exactly, balls as the sets they enclose."""

    statement: sp.Basic
    exact: ExactStatement
    ball: BallStatement | bool
    ball_at_0: BallStatement | bool  # the statement at k = 0, where X@0 and X are one number

    def midpoints(self, values: Mapping[str, object]) -> tuple[mpmath.mpf, mpmath.mpf]:
        """lhs and rhs at the current mpmath precision (for printing and search; never for deciding)."""
        args = [mp.mpf(values[n]) if n in values else mp.nan for n in SYMBOL_NAMES]
        return self.exact.lhs(*args), self.exact.rhs(*args)

    def gap(self, values: Mapping[str, object], at_0: bool = False, bits: int | None = None) -> Any:
        """The ball of rhs − lhs (an ``arb``), or True/False when the statement is identically true/false."""
        from ..backends.balls import precision

        comp = self.ball_at_0 if at_0 else self.ball
        if isinstance(comp, bool):
            return comp
        with precision(bits if bits is not None else max(mp.prec, 53) + 64):
            return comp.gap(*[to_arb(values[n]) if n in values else None for n in SYMBOL_NAMES])

    def decide(self, values: Mapping[str, object], at_0: bool = False, bits: int | None = None) -> str:
        """"true" when the statement holds for every point of the balls, "false" when it fails for every
        point, "unknown" otherwise."""
        g = self.gap(values, at_0, bits)
        if isinstance(g, bool):
            return "true" if g else "false"
        return "true" if g >= 0 else "false" if g < 0 else "unknown"


def compile_claim(statement: sp.Basic) -> CompiledClaim:
    """Compile a ``lhs ≤ rhs`` statement once (cached): exact and ball evaluators from one sympy expression.

    Raises :class:`InputError` for anything else, or for a constant or function with no exact enclosure.
    """
    return CompiledClaim(statement, compile_statement(statement), ball_statement(statement, False),
                         ball_statement(statement, True))
