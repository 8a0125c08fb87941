"""A claim's statement as a margin function over :class:`~nashproof.prove.ad.Dual` balls.

One small module on purpose: it can later be swapped for the verdict engine's claim compiler. Every
constant is enclosed exactly: integers and rationals as exact balls, sympy Floats exactly (they are
binary), π, e and functions of constants as arb balls. Nothing is parsed from text.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp
from flint import arb, fmpq

from ..claims import SYMBOLS
from ..errors import InputError
from ..verify.ball_printer import BallNamespace, ball_lambdify
from .ad import Dual
from .tangent import NotSmooth, Tangent

Num = Dual | arb
Margin = Callable[[dict[str, Num]], Num]


def _fn(name: str, *xs: Num) -> Num:
    if name == "pi":
        return arb.pi()
    if name == "E":
        return arb(1).exp()
    if name in ("Max", "Min"):
        out = xs[0]
        for x in xs[1:]:
            out = _extremum(out, x, name == "Max")
        return out
    if len(xs) != 1 or name not in ("log", "exp", "sqrt", "Abs"):
        raise InputError(f"function {name} has no ball version: prove cannot evaluate this claim")
    x = xs[0]
    if name == "Abs":
        return x.__abs__()
    result: Num = getattr(x, name)()
    return result


def _extremum(a: Num, b: Num, high: bool) -> Num:
    if isinstance(a, Tangent) or isinstance(b, Tangent):
        if not (isinstance(a, Tangent) and isinstance(b, Tangent)):
            raise NotSmooth("max or min of a constant and a directional derivative")
        return a.maximum(b) if high else a.minimum(b)
    if isinstance(a, Dual) or isinstance(b, Dual):
        da = a if isinstance(a, Dual) else b.like(a)  # type: ignore[union-attr]
        db = b if isinstance(b, Dual) else da.like(b)
        return da.maximum(db) if high else da.minimum(db)
    return a.max(b) if high else a.min(b)


def _pow(a: Num, e: Num) -> Num:
    if isinstance(e, Tangent):
        raise NotSmooth("a power whose exponent varies along the direction")
    if isinstance(e, Dual):
        return (e * _fn("log", a)).exp() if isinstance(a, Dual) else (e * a.log()).exp()
    z = e.unique_fmpz() if e.is_exact() else None
    if z is not None:
        return a ** int(z)
    if isinstance(a, Dual):
        return a.powr(e)
    return a**e


#: The verdict engine's printer's target here: balls carrying derivatives (no ceiling or floor).
_NS = BallNamespace(lambda p, q: arb(fmpq(p, q)), _pow, _fn, frozenset({"log", "exp", "Abs", "sqrt"}))


def margin_expr(rel: sp.Basic) -> tuple[sp.Expr, bool]:
    """(rhs − lhs, strict) of a ≤ or < statement (≥ and > are turned around)."""
    if isinstance(rel, (sp.GreaterThan, sp.StrictGreaterThan)):
        rel = rel.reversed
    if not isinstance(rel, (sp.LessThan, sp.StrictLessThan)):
        raise InputError(f"prove decides ≤ and < statements, got {sp.sstr(rel)}")
    return rel.rhs - rel.lhs, isinstance(rel, sp.StrictLessThan)


def compile_margin(expr: sp.Expr, extra: dict[sp.Symbol, str] | None = None) -> Margin:
    """A function of {symbol name: ball or Dual} → the margin (a Dual when any input is one). ``extra``
    names symbols of the caller's own (a reduction's coordinates) beside the claims' vocabulary."""
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    names = []
    bound = {s: v[0] for s, v in SYMBOLS.items()} | (extra or {})
    for s in symbols:
        if s not in bound:
            raise InputError(f"symbol {s} is not one nashproof binds: prove cannot evaluate it")
        names.append(bound[s])
    f = ball_lambdify(symbols, expr, _NS)

    def margin(values: dict[str, Num]) -> Num:
        out: Num = f(*[values[nm] for nm in names])
        return out

    return margin
