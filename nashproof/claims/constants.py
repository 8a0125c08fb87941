"""What a claim's statement may contain: every constant and function must have an exact enclosure.

The verdict engine evaluates statements in ball arithmetic (:mod:`nashproof.verify.compiler`); a
constant it cannot enclose exactly would be approximated silently, so such a claim is refused when
it is loaded. Enclosed exactly: integers, rationals, sympy ``Float`` (its binary value ± half an ulp
of its precision, which also covers the decimal it was written as), π, e, and the functions below
of enclosed arguments (so ``log(2)``, ``sqrt(3)``, ``exp(pi)`` are fine).
"""

from __future__ import annotations

import sympy as sp

#: sympy function names with a ball version (python-flint ``arb`` methods, or Max/Min/ceiling/Abs).
ENCLOSABLE_FUNCTIONS = frozenset({"log", "exp", "sqrt", "ceiling", "floor", "Abs", "Max", "Min", "sin", "cos",
                                  "tan", "atan"})
_ATOMS = (sp.Integer, sp.Rational, sp.Float, sp.Symbol)
_CONSTANTS = (type(sp.pi), type(sp.E))
_NODES = (sp.Add, sp.Mul, sp.Pow, sp.Max, sp.Min, sp.core.relational.Relational, sp.logic.boolalg.BooleanAtom,
          sp.logic.boolalg.BooleanFunction)  # And, Or, Not of hypotheses (as in the built-in NMP-APPROX ones)


def unenclosable(expr: sp.Basic) -> str | None:
    """The first part of ``expr`` that has no exact enclosure (None: every part has one)."""
    for node in sp.preorder_traversal(expr):
        if isinstance(node, _ATOMS) and not isinstance(node, (sp.core.numbers.Infinity,
                                                              sp.core.numbers.NegativeInfinity,
                                                              sp.core.numbers.NaN,
                                                              sp.core.numbers.ComplexInfinity)):
            continue
        if isinstance(node, _CONSTANTS) or isinstance(node, _NODES):
            continue
        if isinstance(node, sp.Function) and not isinstance(node, sp.core.function.AppliedUndef) \
                and type(node).__name__ in ENCLOSABLE_FUNCTIONS:
            continue
        return str(sp.sstr(node))
    return None
