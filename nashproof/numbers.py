"""Exact parsing of user numbers: rationals only, never floats, never ``eval``."""

from __future__ import annotations

import re
from fractions import Fraction

from .errors import InputError

_INT = re.compile(r"^[+-]?\d+$")
_RATIO = re.compile(r"^[+-]?\d+\s*/\s*\d+$")
_DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def parse_rational(value: object, what: str = "number") -> Fraction:
    """Convert ``"1/3"``, ``"0.25"``, ``"1e-6"``, ``"3"`` or an int to an exact Fraction.

    Floats are refused (they are already rounded), as is anything that is not one of the
    literal forms above: no expression is ever evaluated.
    """
    if isinstance(value, bool):
        raise InputError(f"{what}: expected a number, got a boolean")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        raise InputError(
            f"{what}: got the float {value!r}; give exact numbers as strings such as \"1/3\" or \"0.25\""
        )
    if not isinstance(value, str):
        raise InputError(f"{what}: expected a number as a string or an integer, got {type(value).__name__}")
    text = value.strip()
    if len(text) > MAX_LITERAL:
        raise InputError(f"{what}: a number literal of {len(text)} characters is too long (at most {MAX_LITERAL})")
    try:
        if _INT.match(text) or _DECIMAL.match(text):
            return Fraction(text)
        if _RATIO.match(text):
            num, den = (part.strip() for part in text.split("/"))
            if int(den) == 0:
                raise InputError(f"{what}: division by zero in {value!r}")
            return Fraction(int(num), int(den))
    except (ValueError, OverflowError) as exc:
        raise InputError(f"{what}: cannot read {text[:40]!r}: {exc}") from None
    raise InputError(f"{what}: {value!r} is not a number (use forms like 1/3, 0.25, 1e-6)")


#: Longest accepted number literal, in characters.
MAX_LITERAL = 1000
#: Working precision range, in decimal digits.
MIN_DIGITS = 5
MAX_DIGITS = 100_000
#: Largest number of actions of any game (family or file): an n × n exact matrix must fit in memory
#: and be built in seconds.
MAX_ACTIONS = 2048
#: The supported range of β: beyond it the float continuation overflows or rounding dominates.
BETA_MIN = Fraction(1, 10**9)
BETA_MAX = Fraction(10**4)


def check_beta(beta: Fraction) -> Fraction:
    """Require 10⁻⁹ ≤ β ≤ 10⁴ (β > 0 is the game's; the bounds are numerical)."""
    if beta <= 0:
        raise InputError(f"beta must be > 0, got {fraction_str(beta)}")
    if beta < BETA_MIN:
        raise InputError("beta is smaller than 1e-9, outside the supported range [1e-9, 1e4]")
    if beta > BETA_MAX:
        raise InputError("beta is larger than 1e4, outside the supported range [1e-9, 1e4]")
    return beta


def parse_positive(value: object, what: str) -> Fraction:
    """Parse a rational and require it to be > 0."""
    x = parse_rational(value, what)
    if x <= 0:
        raise InputError(f"{what} must be > 0, got {value}")
    return x


def fraction_str(x: Fraction) -> str:
    """Render a Fraction as ``"p/q"`` (or ``"p"``)."""
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
