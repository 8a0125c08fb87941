"""A sympy expression as a Python function over balls, every constant enclosed exactly.

One printer serves every ball evaluator; what differs is the target namespace (:class:`BallNamespace`):
the verdict engine's evaluates in ``arb`` balls (:mod:`nashproof.verify.compiler`), ``nashproof prove``'s
in balls carrying derivatives (:mod:`nashproof.prove.compile`). The printed code calls only the
namespace: ``_q(p, q)`` for a rational, ``_float(sign, man, exp, bc, prec)`` for a sympy ``Float``,
``_pow(a, e)``, and ``_fn(name, *args)`` for π, e, ``Max``, ``Min`` and the functions the namespace
takes by name. Nothing is parsed from text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.printing.lambdarepr import LambdaPrinter


def float_ball(sign: int, man: int, exp: int, bc: int, prec: int) -> Any:
    """A sympy Float: its binary value ± half an ulp of its precision (covering the decimal it was written as)."""
    from flint import arb, fmpz

    if man == 0:
        return arb(0)
    mid = arb(fmpz(sign * man)) * arb(2) ** exp  # exact: a power of two times an integer
    return arb(mid, arb(2) ** (exp + bc - prec - 1))


@dataclass(frozen=True)
class BallNamespace:
    """What printed code calls: ``rational(p, q)``, ``power(a, e)``, ``function(name, *args)`` and
    ``float_`` for a sympy Float; ``functions`` names the sympy functions sent to ``function`` by name
    (any other is printed as sympy's :class:`LambdaPrinter` prints it)."""

    rational: Callable[[int, int], Any]
    power: Callable[[Any, Any], Any]
    function: Callable[..., Any]
    functions: frozenset[str]
    float_: Callable[[int, int, int, int, int], Any] = float_ball

    def names(self) -> dict[str, Any]:
        return {"_q": self.rational, "_float": self.float_, "_pow": self.power, "_fn": self.function}


class BallPrinter(LambdaPrinter):  # type: ignore[misc]
    """Print a claim for ball evaluation: exact rationals, ball functions, no floats."""

    def __init__(self, functions: frozenset[str]) -> None:
        super().__init__()
        self.functions = functions

    def _print(self, expr: Any, **kwargs: Any) -> str:
        if isinstance(expr, sp.Function) and type(expr).__name__ in self.functions:
            return self._print_Function(expr)
        out: str = super()._print(expr, **kwargs)
        return out

    def _print_Rational(self, e: sp.Rational) -> str:
        return f"_q({e.p}, {e.q})"

    def _print_Integer(self, e: sp.Integer) -> str:
        return f"_q({e.p}, 1)"

    _print_Half = _print_One = _print_Zero = _print_NegativeOne = _print_Rational

    def _print_Float(self, e: sp.Float) -> str:
        sign, man, exp, bc = e._mpf_ if e._mpf_[1] else (0, 0, 0, 0)
        return f"_float({-1 if sign else 1}, {int(man)}, {int(exp)}, {int(bc)}, {int(e._prec)})"

    def _print_Pow(self, e: sp.Pow, rational: bool = False) -> str:
        return f"_pow({self._print(e.base)}, {self._print(e.exp)})"

    def _print_Function(self, e: sp.Function) -> str:
        return f"_fn({type(e).__name__!r}, {', '.join(self._print(a) for a in e.args)})"

    def _print_Max(self, e: sp.Basic) -> str:
        return f"_fn('Max', {', '.join(self._print(a) for a in e.args)})"

    _print_Min = _print_Max

    def _print_Pi(self, e: sp.Basic) -> str:
        return "_fn('pi')"

    def _print_Exp1(self, e: sp.Basic) -> str:
        return "_fn('E')"


def ball_lambdify(symbols: Sequence[sp.Symbol], expr: sp.Basic, namespace: BallNamespace) -> Callable[..., Any]:
    """``expr`` as a function of ``symbols`` (positionally) that evaluates in ``namespace``."""
    f: Callable[..., Any] = sp.lambdify(symbols, expr, modules=[namespace.names()],
                                        printer=BallPrinter(namespace.functions))
    return f
