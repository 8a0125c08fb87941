"""Exact parsing of user numbers: rationals only, never floats, never ``eval``."""

from __future__ import annotations

import re
from fractions import Fraction

from .errors import InputError

# re.ASCII: only the digits 0-9 (not other scripts' digits, which int() and Fraction() would accept).
_INT = re.compile(r"^[+-]?\d+$", re.ASCII)
_RATIO = re.compile(r"^[+-]?\d+\s*/\s*\d+$", re.ASCII)
_DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+))?$", re.ASCII)


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
        decimal = _DECIMAL.match(text)
        if decimal and decimal.group(2) is not None and abs(int(decimal.group(2))) > MAX_EXPONENT:
            raise InputError(f"{what}: {short(text)} is out of range: a decimal exponent may be at most "
                             f"±{MAX_EXPONENT} (numbers are exact; 10^{short(decimal.group(2))} has too many digits)")
        if _INT.match(text) or decimal:
            return Fraction(text)
        if _RATIO.match(text):
            num, den = (part.strip() for part in text.split("/"))
            if int(den) == 0:
                raise InputError(f"{what}: division by zero in {value!r}")
            return Fraction(int(num), int(den))
    except (ValueError, OverflowError) as exc:
        raise InputError(f"{what}: cannot read {short(text)!r}: {exc}") from None
    raise InputError(f"{what}: {short(text)!r} is not a number (use forms like 1/3, 0.25, 1e-6)")


def parse_int(value: object, what: str, low: int, high: int | None = None) -> int:
    """A whole number written in ASCII digits (an optional sign, no other character), in [low, high].

    Strict: ``"1abc"``, ``"²"``, ``"+-5"``, ``"1e3"``, ``"2.0"`` and booleans are refused; the whole
    text is read (never cut); a literal longer than :data:`MAX_INT_LITERAL` characters is refused before
    conversion.
    """
    span = f"in [{low}, {high}]" if high is not None else f"≥ {low}"
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InputError(f"{what} must be an integer {span}, got {type(value).__name__}")
    if isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_INT_LITERAL or not _INT.match(text):
            raise InputError(f"{what} must be an integer {span}, got {short(value)!r}")
        number = int(text)
    else:
        number = value
    if number < low or (high is not None and number > high):
        shown = short(str(number)) if number.bit_length() < 3000 else "a number of more than 900 digits"
        raise InputError(f"{what} must be an integer {span}, got {shown}")
    return number


def short(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters for a message (``…`` marks the cut)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: Longest accepted integer literal (a count, a size, a seed), in characters.
MAX_INT_LITERAL = 100
#: Longest accepted number literal, in characters.
MAX_LITERAL = 1000
#: Largest decimal exponent accepted (``1e-1000`` is fine, ``1e-999999`` is refused): exact
#: arithmetic on million-digit integers would run for hours.
MAX_EXPONENT = 1000
#: Largest numerator or denominator of a game entry, in decimal digits (checked on bit length).
MAX_NUMBER_DIGITS = 10_000
MAX_NUMBER_BITS = 33_220  # ≈ 10 000 · log2(10)
#: Largest magnitude of a starting logit: π_0 ∝ exp(logits), so 10¹² already gives probabilities of
#: e^(−10¹²); larger values only make the arithmetic run out of exponent range.
MAX_LOGIT = 10**12
#: Working precision range, in decimal digits.
MIN_DIGITS = 5
MAX_DIGITS = 100_000
#: Most iterations of one run (with a progress line: 10⁵ Nash-MP steps take minutes at 50 digits).
MAX_STEPS = 100_000
#: Largest number of actions of any game (family or file): an n × n exact matrix must fit in memory
#: and be built in seconds.
MAX_ACTIONS = 4096
#: The supported range of β: beyond it the float continuation overflows or rounding dominates.
BETA_MIN = Fraction(1, 10**9)
BETA_MAX = Fraction(10**6)


def check_beta(beta: Fraction, what: str = "beta") -> Fraction:
    """Require 10⁻⁹ ≤ β ≤ 10⁶ (β > 0 is the game's; the bounds are numerical)."""
    if beta <= 0:
        raise InputError(f"{what} must be > 0, got {approx_str(beta)}")
    if not BETA_MIN <= beta <= BETA_MAX:
        raise InputError(f"{what} = {approx_str(beta)} is outside the supported range 1e-9 ≤ β ≤ 1e6 (beyond it "
                         "the float continuation overflows or rounding dominates)")
    return beta


def parse_positive(value: object, what: str) -> Fraction:
    """Parse a rational and require it to be > 0."""
    x = parse_rational(value, what)
    if x <= 0:
        raise InputError(f"{what} must be > 0, got {short(str(value))}")
    return x


def too_large(x: Fraction) -> bool:
    """True when ``x``'s numerator or denominator has more than :data:`MAX_NUMBER_DIGITS` digits."""
    return max(x.numerator.bit_length(), x.denominator.bit_length()) > MAX_NUMBER_BITS


def fraction_str(x: Fraction) -> str:
    """Render a Fraction as ``"p/q"`` (or ``"p"``); one of more than ~900 digits as a short decimal
    (Python refuses to print integers of more than 4300 digits)."""
    if max(x.numerator.bit_length(), x.denominator.bit_length()) > 3000:  # ≈ 900 digits
        return approx_str(x)
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def approx_str(x: Fraction, digits: int = 6) -> str:
    """A short decimal rendering of any rational (``1e-999999`` too), never an exception."""
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    a = abs(x)
    # log10 estimate from bit lengths, then one exact correction: a = m · 10^e with 1 ≤ m < 10.
    e = int((a.numerator.bit_length() - a.denominator.bit_length()) * 0.30102999566398)
    if abs(e) < 300:
        text = f"{float(x):.{digits}g}"
        mant, sep, exp = text.partition("e")
        return mant + (f"e{int(exp)}" if sep else "")
    m = a / (Fraction(10) ** e) if e >= 0 else a * Fraction(10) ** (-e)
    while m >= 10:
        m, e = m / 10, e + 1
    while m < 1:
        m, e = m * 10, e - 1
    mant = f"{float(m):.{digits}g}"
    if mant.startswith("10"):
        mant, e = "1", e + 1
    return f"{sign}{mant}" if e == 0 else f"{sign}{mant}e{e}"


def eta_str(eta: Fraction) -> str:
    """η for people: the exact fraction when short (``2``, ``1/5``), otherwise a short decimal."""
    text = fraction_str(eta)
    return text if len(text) <= 9 else approx_str(eta)


def plural(count: int, noun: str) -> str:
    """``1 action``, ``3 actions``, ``2 entries``."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {noun[:-1]}ies" if noun.endswith("y") else f"{count} {noun}s"
