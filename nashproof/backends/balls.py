"""Ball arithmetic on python-flint (``arb``): every scalar is a ball mid ± rad that encloses the exact value.

The :class:`BallBackend` implements :class:`~nashproof.backends.Backend`: vectors are numpy object
arrays of ``arb`` (element-wise operations run in flint, dispatched by numpy), matrices are
:class:`BallMatrix`, whose products with vectors are done by ``arb_mat`` in C. Every operation
rounds outward, so whatever the working precision, a computed ball contains the exact result of
the exact-input computation; precision only sets how wide the balls are.

Where the interface needs an order (max, comparisons) the ball versions are explicit:
:meth:`BallBackend.vmax` encloses the maximum over every point of the balls, ``logsumexp`` shifts
by the midpoint of the largest midpoint (an exact number: any shift is exact-safe), and a
comparison ``a < b`` of balls is ``True`` only when it holds for every point of both.

The certified fixed point built on these balls is :mod:`nashproof.backends.krawczyk`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from fractions import Fraction
from typing import Any, cast

import mpmath
import numpy as np
from flint import arb, arb_mat, ctx, fmpq

from ..errors import InputError, SolverError
from .base import MAX_DIGITS, MIN_DIGITS, Backend, Number, Scalar, Vec, long_int_text
from .base import float_matrix as backends_float_matrix

#: Bits per decimal digit.
LOG2_10 = math.log2(10)
#: The largest working precision any certified computation may use, in bits: 100 000 digits (the
#: top of ``--digits``) plus guard and radius growth.
MAX_BITS = 1 << 19


class CertificationError(SolverError):
    """A Krawczyk test failed or a radius could not be closed: there is no certificate (exit 4)."""


def bits_for(digits: int) -> int:
    """Working bits for ``digits`` decimal digits, with a guard of 16 bits."""
    return math.ceil(digits * LOG2_10) + 16


@contextmanager
def precision(bits: int) -> Iterator[None]:
    """Run a block at ``bits`` of flint precision (restored afterwards)."""
    old = ctx.prec
    ctx.prec = bits
    try:
        yield
    finally:
        ctx.prec = old


def to_arb(x: object) -> arb:
    """An enclosure of ``x``: exact for ints, floats, mpmath numbers and dyadic rationals."""
    if isinstance(x, arb):
        return x
    if isinstance(x, Fraction):
        return arb(fmpq(x.numerator, x.denominator))
    if isinstance(x, (int, float, np.floating, np.integer)):
        return arb(x.item() if isinstance(x, (np.floating, np.integer)) else x)
    if hasattr(x, "_mpf_"):
        return arb(cast(Any, x))
    if isinstance(x, str):
        return arb(x)
    raise TypeError(f"cannot convert {type(x).__name__} to a ball")


def to_mpf(x: arb) -> mpmath.mpf:
    """The midpoint of a ball as an exact mpmath number."""
    man, exp = x.mid().man_exp()
    with mpmath.workprec(max(53, int(man).bit_length() + 2)):
        return mpmath.mpf((int(man), int(exp)))


def upper(x: Scalar) -> float:
    """A float ≥ every point of the ball (rounded up)."""
    return ufloat(to_arb(x).upper())


def lower(x: Scalar) -> float:
    """A float ≤ every point of the ball (rounded down)."""
    return -ufloat(-to_arb(x).lower())


def ufloat(x: arb) -> float:
    """A float ≥ the exact number x (a ball of radius 0)."""
    f = float(x)
    return f if arb(f) >= x else math.nextafter(f, math.inf)


def log2_radius(x: Scalar) -> float:
    """log₂ of the ball's radius (−inf for an exact number); no float underflow at any precision."""
    r = to_arb(x).rad()
    if r.is_zero():
        return -math.inf
    man, exp = r.mid().man_exp()
    return math.log2(int(man)) + int(exp)


def log2_abs(x: Scalar) -> float:
    """log₂ |mid(x)| (−inf at 0), without float underflow."""
    m = to_arb(x).mid()
    if m.is_zero():
        return -math.inf
    man, exp = m.man_exp()
    return math.log2(abs(int(man))) + int(exp)


def widest_radius(xs: Sequence[Scalar]) -> arb:
    """The largest radius, as an exact upper bound (no float underflow)."""
    return max_exact([to_arb(x).rad().upper() for x in xs])


def max_exact(xs: Sequence[arb]) -> arb:
    """The largest of exact numbers (balls of radius 0), compared exactly."""
    out = xs[0]
    for x in xs[1:]:
        if x > out:
            out = x
    return out



def radius(x: Scalar) -> float:
    """An upper bound on the ball's radius, as a float."""
    return ufloat(to_arb(x).rad())


def printed_radius(x: Scalar, text: str) -> arb:
    """An exact upper bound on the distance from the decimal ``text`` (x's printed value) to every point of x."""
    with precision(max(ctx.prec, 64) + 64):  # arb(text) encloses the decimal (no 10^434294481 as a Fraction)
        return abs(arb(text) - to_arb(x)).upper()


def up_str(x: float | arb, digits: int = 3) -> str:
    """x ≥ 0 in scientific notation with ``digits`` digits, rounded up (a printed radius must not shrink).

    The decimal exponent comes from the binary one; the mantissa is the ceiling of an upper bound of
    x / 10^(e−digits+1) in balls, so the printed value is ≥ x at any size (1e-434294481 included).
    """
    a = (x.upper() if not x.is_exact() else x) if isinstance(x, arb) else arb(x)
    if not a > 0:
        return "0"
    man, exp = a.mid().man_exp()
    e = math.floor((math.log2(int(man)) + int(exp)) * math.log10(2))
    for _ in range(3):
        k = e - digits + 1
        if abs(k) <= 20_000:  # exact: ⌈man·2^exp / 10^k⌉ in integers
            q = Fraction(int(man)) * Fraction(2) ** int(exp) / Fraction(10) ** k
            m = -((-q.numerator) // q.denominator)
        else:
            with precision(96 + digits * 4):
                m = _ceil(to_arb(a / arb(10) ** k).upper())
        if m >= 10**digits:
            m, e = -((-m) // 10), e + 1
        if m >= 10 ** (digits - 1):
            break
        e -= 1  # the estimate was one too high
    text = str(m)
    return f"{text[0]}.{text[1:]}e{e:+03d}" if digits > 1 else f"{text}e{e:+03d}"


def _ceil(x: arb) -> int:
    """⌈x⌉ of an exact number (a ball of radius 0)."""
    m, e = x.mid().man_exp()
    man, exp = int(m), int(e)
    return man << exp if exp >= 0 else -((-man) >> -exp)


def vec(xs: Sequence[arb] | list[object]) -> Vec:
    out = np.empty(len(xs), dtype=object)
    out[:] = list(xs)
    return out


def arb_column(v: Vec) -> arb_mat:
    try:
        return arb_mat(len(v), 1, v.tolist())
    except TypeError:
        return arb_mat(len(v), 1, [to_arb(x) for x in v])


def arb_row(v: Vec) -> arb_mat:
    return arb_mat(1, len(v), [to_arb(x) for x in v])


class BallMatrix(np.ndarray):
    """An object array of balls whose products with vectors run in ``arb_mat`` (cached per matrix)."""

    _am: arb_mat | None = None

    def __array_finalize__(self, obj: object) -> None:
        self._am = None

    def arb_mat(self) -> arb_mat:
        if self._am is None:
            self._am = arb_mat([[to_arb(x) for x in row] for row in self.tolist()])
        return self._am

    def floats(self) -> Vec:
        """The midpoints as a float64 array."""
        out: Vec = np.array([[float(to_arb(x).mid()) for x in row] for row in self.tolist()], dtype=np.float64)
        return out

    def __matmul__(self, other: Any) -> Any:
        if self.ndim == 2 and isinstance(other, np.ndarray) and other.ndim == 1:
            return vec((self.arb_mat() * arb_column(other)).entries())
        return np.asarray(self, dtype=object) @ other

    def __rmatmul__(self, other: Any) -> Any:
        if self.ndim == 2 and isinstance(other, np.ndarray) and other.ndim == 1:
            return vec((arb_row(other) * self.arb_mat()).entries())
        return other @ np.asarray(self, dtype=object)


def batch_fields(b: Backend, P: Vec, logpis: Sequence[Vec]) -> list[tuple[Vec, Vec]]:
    """(π, P·π) for many log-policies, the products as one matrix product (about 3× faster per vector
    than one product each, measured at n = 1024)."""
    probs = [b.exp(lp) for lp in logpis]
    if not isinstance(P, BallMatrix) or not probs:
        return [(p, P @ p) for p in probs]
    n, k = len(probs[0]), len(probs)
    block = P.arb_mat() * arb_mat(n, k, [to_arb(p[i]) for i in range(n) for p in probs])
    flat = block.entries()
    return [(p, vec(flat[j::k])) for j, p in enumerate(probs)]


def ball_matrix(rows: list[list[arb]]) -> BallMatrix:
    arr = np.empty((len(rows), len(rows[0]) if rows else 0), dtype=object)
    for i, row in enumerate(rows):
        arr[i, :] = row
    return arr.view(BallMatrix)


#: Converted game matrices, by (id of the immutable exact rows, bits); the entry keeps the rows alive.
_MATRICES: dict[tuple[int, int], tuple[object, BallMatrix]] = {}
_FLOATS: dict[int, tuple[object, Vec]] = {}
_CACHE_SIZE = 16


def cached_ball_matrix(rows: Sequence[Sequence[Number]], bits: int) -> BallMatrix:
    """The ball matrix of exact rows at ``bits`` (a game's preference matrix is converted once)."""
    key = (id(rows), bits)
    hit = _MATRICES.get(key)
    if hit is not None and hit[0] is rows:
        return hit[1]
    with precision(bits):
        m = ball_matrix(_distinct_balls(rows))
    if len(_MATRICES) >= _CACHE_SIZE:
        _MATRICES.pop(next(iter(_MATRICES)))
    _MATRICES[key] = (rows, m)
    return m


def _distinct_balls(rows: Sequence[Sequence[Number]]) -> list[list[arb]]:
    """The rows as balls, each distinct entry object converted once (family games share a few Fractions)."""
    seen: dict[int, arb] = {}
    out = []
    for row in rows:
        line = []
        for x in row:
            ball = seen.get(id(x))
            if ball is None:
                ball = seen[id(x)] = to_arb(x)
            line.append(ball)
        out.append(line)
    return out


def float_matrix(rows: Sequence[Sequence[Number]]) -> Vec:
    """Exact rows rounded to float64 (cached for immutable rows)."""
    hit = _FLOATS.get(id(rows))
    if hit is not None and hit[0] is rows:
        return hit[1]
    out = backends_float_matrix(rows)
    if isinstance(rows, tuple):
        if len(_FLOATS) >= _CACHE_SIZE:
            _FLOATS.pop(next(iter(_FLOATS)))
        _FLOATS[id(rows)] = (rows, out)
    return out


_EXP_ANY = np.frompyfunc(lambda x: to_arb(x).exp(), 1, 1)
_EXP_ARB = np.frompyfunc(arb.exp, 1, 1)
_LOG = np.frompyfunc(lambda x: to_arb(x).log(), 1, 1)
_EXPM1 = np.frompyfunc(lambda x: to_arb(x).expm1(), 1, 1)


def exp_balls(v: Vec) -> Vec:
    """Element-wise exp (the fast path when every element is already a ball)."""
    try:
        return np.asarray(_EXP_ARB(v), dtype=object)
    except TypeError:
        return np.asarray(_EXP_ANY(v), dtype=object)


class BallBackend(Backend):
    """Ball arithmetic at ``bits`` of working precision (default: ``digits`` decimal digits + 16 bits).

    Results are enclosures, never estimates: ``digits`` is the accuracy asked for, ``bits`` the
    precision of each rounding, which may be raised to absorb radius growth along a trajectory.
    """

    name = "arb"
    certified = True

    def __init__(self, digits: int = 50, bits: int | None = None) -> None:
        if not MIN_DIGITS <= digits <= MAX_DIGITS:
            raise InputError(f"digits must lie in [{MIN_DIGITS}, {MAX_DIGITS}] for the ball backend, got {digits}")
        self.digits = digits
        self.bits = bits if bits is not None else bits_for(digits)
        if not 32 <= self.bits <= MAX_BITS:
            raise InputError(f"ball precision must lie in [32, {MAX_BITS}] bits, got {self.bits}")
        self.activate()

    def activate(self) -> None:
        """Make this backend's precision flint's current one (flint's precision is global)."""
        ctx.prec = self.bits

    def scalar(self, x: Number | str) -> Scalar:
        self.activate()
        return to_arb(x)

    def vector(self, xs: Sequence[Number]) -> Vec:
        self.activate()
        return vec([to_arb(x) for x in xs])

    def matrix(self, rows: Sequence[Sequence[Number]]) -> Vec:
        self.activate()
        if isinstance(rows, tuple):  # immutable game data: converted once per precision
            return cached_ball_matrix(rows, self.bits)
        return ball_matrix([[to_arb(x) for x in row] for row in rows])

    def exp(self, v: Vec) -> Vec:
        self.activate()
        return np.asarray(exp_balls(v), dtype=object)

    def log(self, v: Vec) -> Vec:
        self.activate()
        return np.asarray(_LOG(v), dtype=object)

    def log_scalar(self, x: Scalar) -> Scalar:
        return to_arb(x).log()

    def expm1(self, v: Vec) -> Vec:
        self.activate()
        return np.asarray(_EXPM1(v), dtype=object)

    def log1p_scalar(self, x: Scalar) -> Scalar:
        return to_arb(x).log1p()

    def solve(self, M: Vec, b: Vec) -> Vec:
        self.activate()
        am = M.arb_mat() if isinstance(M, BallMatrix) else arb_mat([[to_arb(x) for x in row] for row in M.tolist()])
        try:
            return vec(am.solve(arb_column(b)).entries())
        except ZeroDivisionError:
            raise SolverError("linear solve in balls: the matrix is not certified nonsingular") from None

    def to_str(self, x: Scalar, digits: int | None = None) -> str:
        d = digits or self.digits
        with mpmath.workdps(d + 5), long_int_text():
            return str(mpmath.nstr(to_mpf(to_arb(x)), d, min_fixed=-4, max_fixed=6))

    def convert(self, v: Vec) -> Vec:
        self.activate()
        if v.ndim == 2:
            return ball_matrix([[to_arb(x) for x in row] for row in v.tolist()])
        return vec([to_arb(x) for x in v.tolist()])

    @property
    def eps(self) -> Scalar:
        return arb(2) ** (-self.bits)

    def to_float(self, x: Scalar) -> float:
        return float(to_arb(x).mid())

    def mid(self, x: Scalar) -> Scalar:
        return to_arb(x).mid()

    def upper(self, x: Scalar) -> float:
        return upper(x)

    def lower(self, x: Scalar) -> float:
        return lower(x)

    def vmax(self, v: Vec | Sequence[Scalar]) -> Scalar:
        """An enclosure of max over every point of the balls."""
        out = to_arb(v[0])
        for x in v[1:]:
            out = out.max(to_arb(x))
        return out

    def vmin(self, v: Vec | Sequence[Scalar]) -> Scalar:
        out = to_arb(v[0])
        for x in v[1:]:
            out = out.min(to_arb(x))
        return out

    def logsumexp(self, v: Vec) -> Scalar:
        # Shift by an exact number (the largest midpoint): log Σ e^v = m + log Σ e^(v − m) for any m.
        self.activate()
        m = arb(max(map(float, v)))  # float() of a ball: its midpoint, rounded
        return m + to_arb(sum(self.exp(v - m))).log()

    def is_finite(self, v: Vec) -> bool:
        return all(to_arb(x).is_finite() for x in v)
