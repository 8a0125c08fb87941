"""Arithmetic backends behind one small interface.

Solvers, the equilibrium solver and the metrics are written once against :class:`Backend`.
Vectors are 1-D numpy arrays (``float64`` for the float backend, ``object`` arrays of mpmath
numbers for the mpmath backend); scalars are the backend's own number type. A new backend
(certified balls, a faster multiprecision library) only implements the abstract methods.
"""

from __future__ import annotations

import math
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from fractions import Fraction
from typing import Any, TypeAlias

import mpmath
import numpy as np
import numpy.typing as npt
from threadpoolctl import ThreadpoolController

from ..errors import InputError

#: A backend vector or matrix: a numpy array whose element type is the backend's scalar.
Vec: TypeAlias = npt.NDArray[Any]
#: A backend scalar (``float`` / ``numpy.float64`` or an mpmath ``mpf``).
Scalar: TypeAlias = Any

Number = Fraction | int | float


@contextmanager
def long_int_text() -> Iterator[None]:
    """Lift Python's 4300-digit limit on int ↔ str conversion inside a block that prints or re-reads
    the toolkit's own numbers (a 5000-digit π*, a radius below 1e-4300). User text is never parsed here:
    the limit guards parsing, and input sizes are bounded where input is read."""
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(old)


class Backend(ABC):
    """The arithmetic a solver needs. ``digits`` is the working precision in decimal digits."""

    name: str
    digits: int

    @abstractmethod
    def scalar(self, x: Number | str) -> Scalar: ...

    @abstractmethod
    def vector(self, xs: Sequence[Number]) -> Vec: ...

    @abstractmethod
    def matrix(self, rows: Sequence[Sequence[Number]]) -> Vec: ...

    @abstractmethod
    def exp(self, v: Vec) -> Vec: ...

    @abstractmethod
    def log(self, v: Vec) -> Vec: ...

    @abstractmethod
    def log_scalar(self, x: Scalar) -> Scalar: ...

    @abstractmethod
    def expm1(self, v: Vec) -> Vec:
        """exp(v) − 1, accurate for small v."""

    @abstractmethod
    def log1p_scalar(self, x: Scalar) -> Scalar:
        """log(1 + x), accurate for small x."""

    @abstractmethod
    def solve(self, M: Vec, b: Vec) -> Vec:
        """Solve the linear system M x = b."""

    @abstractmethod
    def to_str(self, x: Scalar, digits: int | None = None) -> str: ...

    @abstractmethod
    def convert(self, v: Vec) -> Vec:
        """Bring a vector from another backend into this one."""

    @property
    @abstractmethod
    def eps(self) -> Scalar:
        """The unit roundoff of the working precision."""

    # ---- derived operations, shared by all backends

    def to_float(self, x: Scalar) -> float:
        return float(x)

    # The order-dependent operations, explicit so that a ball backend can enclose them.
    certified = False
    #: exp of a vector costs less than keeping its result: caches keep log π and recompute π = exp(log π).
    cheap_exp = False

    def mid(self, x: Scalar) -> Scalar:
        """A point of x (the ball backend: its midpoint, exact)."""
        return x

    def upper(self, x: Scalar) -> float:
        """A float ≥ x (ball backend: ≥ every point of the ball)."""
        return float(x)

    def lower(self, x: Scalar) -> float:
        """A float ≤ x (ball backend: ≤ every point of the ball)."""
        return float(x)

    def vmax(self, v: Vec | Sequence[Scalar]) -> Scalar:
        """max(v) (ball backend: an enclosure of the maximum over every point of the balls)."""
        return max(v)

    def vmin(self, v: Vec | Sequence[Scalar]) -> Scalar:
        return min(v)

    def logsumexp(self, v: Vec) -> Scalar:
        m = max(v)
        return m + self.log_scalar(sum(self.exp(v - m)))

    def log_normalize(self, logits: Vec) -> Vec:
        """Logits shifted so that exp(logits) sums to 1."""
        shifted: Vec = logits - self.logsumexp(logits)
        return shifted

    def prox(self, anchor: Vec, field_: Vec, eta: Scalar, denom: Scalar) -> Vec:
        """``log_normalize((anchor + field_·eta) / denom)``: the proximal step of the mirror methods, with
        ``anchor`` = centre + ηβ log π_ref (a backend may fuse it; the operations and their order are these)."""
        return self.log_normalize((anchor + field_ * eta) / denom)

    def is_finite(self, v: Vec) -> bool:
        return all(math.isfinite(float(x)) for x in v)

    def batch(self) -> AbstractContextManager[object]:
        """A block of many operations on this backend, such as a solver's run (the float backend sets
        numpy's error state once for the block rather than on every call)."""
        return nullcontext()


#: The range of working precisions a user may ask for (decimal digits).
MIN_DIGITS, MAX_DIGITS = 5, 100_000


class MpmathBackend(Backend):
    """The reference backend: mpmath at a user-chosen number of decimal digits.

    ``internal``: a working precision chosen by the toolkit (e.g. D plus guard digits), which may
    exceed the user range; only the lower limit applies.
    """

    name = "mpmath"

    def __init__(self, digits: int = 50, internal: bool = False) -> None:
        if not MIN_DIGITS <= digits <= (MAX_DIGITS if not internal else digits):
            raise InputError(f"digits must lie in [{MIN_DIGITS}, {MAX_DIGITS}], got {digits}")
        self.digits = digits
        self.ctx = mpmath.MPContext()
        self.ctx.dps = digits
        self._exp = np.frompyfunc(self.ctx.exp, 1, 1)
        self._log = np.frompyfunc(self.ctx.log, 1, 1)
        self._expm1 = np.frompyfunc(self.ctx.expm1, 1, 1)
        self._scalars: dict[Number | str, Scalar] = {}

    def scalar(self, x: Number | str) -> Scalar:
        hit = self._scalars.get(x)
        if hit is not None:
            return hit
        value = self.ctx.mpf(x.numerator) / x.denominator if isinstance(x, Fraction) else self.ctx.mpf(x)
        if len(self._scalars) >= 4096:  # solvers ask for the same few constants (η, ηβ, 1 + ηβ) every step
            self._scalars.clear()
        self._scalars[x] = value
        return value

    def vector(self, xs: Sequence[Number]) -> Vec:
        out = np.empty(len(xs), dtype=object)
        for i, x in enumerate(xs):
            out[i] = self.scalar(x)
        return out

    def matrix(self, rows: Sequence[Sequence[Number]]) -> Vec:
        out = np.empty((len(rows), len(rows[0]) if rows else 0), dtype=object)
        for i, row in enumerate(rows):
            for j, x in enumerate(row):
                out[i, j] = self.scalar(x)
        return out

    def exp(self, v: Vec) -> Vec:
        return np.asarray(self._exp(v), dtype=object)

    def log(self, v: Vec) -> Vec:
        return np.asarray(self._log(v), dtype=object)

    def log_scalar(self, x: Scalar) -> Scalar:
        return self.ctx.log(x)

    def expm1(self, v: Vec) -> Vec:
        return np.asarray(self._expm1(v), dtype=object)

    def log1p_scalar(self, x: Scalar) -> Scalar:
        return self.ctx.log1p(x)

    def solve(self, M: Vec, b: Vec) -> Vec:
        sol = self.ctx.lu_solve(self.ctx.matrix(M.tolist()), self.ctx.matrix([[x] for x in b]))
        return self.vector([sol[i] for i in range(len(b))])

    def to_str(self, x: Scalar, digits: int | None = None) -> str:
        with long_int_text():
            return str(self.ctx.nstr(self.ctx.mpf(x), digits or self.digits, min_fixed=-4, max_fixed=6))

    def convert(self, v: Vec) -> Vec:
        out = np.empty(v.shape, dtype=object)
        for idx, x in np.ndenumerate(v):
            out[idx] = self.ctx.mpf(x)
        return out

    @property
    def eps(self) -> Scalar:
        return self.ctx.eps

    def is_finite(self, v: Vec) -> bool:
        return all(self.ctx.isfinite(x) for x in v)


class FloatBackend(Backend):
    """numpy float64: fast screening, large games (n ≥ 1024), not a reference."""

    name = "float"
    digits = 15
    cheap_exp = True

    def scalar(self, x: Number | str) -> Scalar:
        return np.float64(float(x))

    def vector(self, xs: Sequence[Number]) -> Vec:
        return np.array([float(x) for x in xs], dtype=np.float64)

    def matrix(self, rows: Sequence[Sequence[Number]]) -> Vec:
        return float_matrix(rows)

    def exp(self, v: Vec) -> Vec:
        if _UNDERFLOW_IGNORED.get():
            return np.exp(v.astype(np.float64, copy=False))
        with np.errstate(under="ignore"):
            return np.exp(v.astype(np.float64, copy=False))

    def log(self, v: Vec) -> Vec:
        with np.errstate(divide="ignore"):
            return np.log(v.astype(np.float64))

    def log_scalar(self, x: Scalar) -> Scalar:
        return np.float64(np.log(float(x)))

    def expm1(self, v: Vec) -> Vec:
        return np.expm1(v.astype(np.float64))

    def log1p_scalar(self, x: Scalar) -> Scalar:
        return np.float64(np.log1p(float(x)))

    def logsumexp(self, v: Vec) -> Scalar:
        m = _MAX(v, axis=None)  # the ufunc reductions behind np.max / np.sum, without their Python layers
        if _UNDERFLOW_IGNORED.get():
            return m + np.log(_SUM(np.exp(v - m), axis=None))
        with np.errstate(under="ignore"):
            return m + np.log(_SUM(np.exp(v - m), axis=None))

    def vmax(self, v: Vec | Sequence[Scalar]) -> Scalar:
        if isinstance(v, np.ndarray) and v.dtype == np.float64 and v.size:
            m = _MAX(v, axis=None)
            if m != 0 and m == m:  # ±0 and NaN: Python's max, whose first-wins choice the outputs keep
                return m
        return max(v)

    def vmin(self, v: Vec | Sequence[Scalar]) -> Scalar:
        if isinstance(v, np.ndarray) and v.dtype == np.float64 and v.size:
            m = _MIN(v, axis=None)
            if m != 0 and m == m:
                return m
        return min(v)

    def prox(self, anchor: Vec, field_: Vec, eta: Scalar, denom: Scalar) -> Vec:
        # One buffer, updated in place: anchor + field_·eta (IEEE addition commutes, so the bits are
        # those of the generic expression), then / denom, then minus its log-sum-exp.
        z: Vec = field_ * eta
        z += anchor
        z /= denom
        z -= self.logsumexp(z)
        return z

    def batch(self) -> AbstractContextManager[object]:
        return _underflow_ignored()

    def solve(self, M: Vec, b: Vec) -> Vec:
        return np.linalg.solve(M.astype(np.float64), b.astype(np.float64))

    def to_str(self, x: Scalar, digits: int | None = None) -> str:
        return f"{float(x):.{min(digits or 15, 17)}g}"

    def convert(self, v: Vec) -> Vec:
        return np.array(v, dtype=np.float64)

    @property
    def eps(self) -> Scalar:
        return _F64_EPS

    def is_finite(self, v: Vec) -> bool:
        return bool(_ALL(np.isfinite(v.astype(np.float64, copy=False)), axis=None))


_F64_EPS = np.float64(np.finfo(np.float64).eps)
_MAX, _MIN, _SUM, _ALL = np.maximum.reduce, np.minimum.reduce, np.add.reduce, np.logical_and.reduce
#: Set inside :meth:`FloatBackend.batch`, where numpy already ignores underflow: exp and
#: log-sum-exp then skip entering ``np.errstate`` (0.6 µs a call, four calls a Nash-MP step).
_UNDERFLOW_IGNORED: ContextVar[bool] = ContextVar("nashproof_float_underflow_ignored", default=False)


@contextmanager
def _underflow_ignored() -> Iterator[None]:
    with np.errstate(under="ignore"):
        token = _UNDERFLOW_IGNORED.set(True)
        try:
            yield
        finally:
            _UNDERFLOW_IGNORED.reset(token)


class ExtendedBackend(FloatBackend):
    """numpy ``longdouble`` (80-bit x87 on x86-64: 64-bit significand, ε ≈ 1.1e-19).

    Float screening's second precision: the difference between a float64 run and this one
    estimates the float64 run's error, as D + G digits do for D. Linear solves stay in float64
    (they only steer Newton; the residuals are computed here). Where ``longdouble`` is no wider
    than float64, :func:`extended_available` is false and screening keeps its fixed floor.
    """

    name = "extended"
    digits = 18

    def scalar(self, x: Number | str) -> Scalar:
        return _extended(x)

    def vector(self, xs: Sequence[Number]) -> Vec:
        return np.array([_extended(x) for x in xs], dtype=np.longdouble)

    def matrix(self, rows: Sequence[Sequence[Number]]) -> Vec:
        return float_matrix(rows, _extended)

    def exp(self, v: Vec) -> Vec:
        with np.errstate(under="ignore"):
            return np.exp(v.astype(np.longdouble))

    def log(self, v: Vec) -> Vec:
        with np.errstate(divide="ignore"):
            return np.log(v.astype(np.longdouble))

    def log_scalar(self, x: Scalar) -> Scalar:
        return np.log(np.longdouble(x))

    def expm1(self, v: Vec) -> Vec:
        return np.expm1(v.astype(np.longdouble))

    def log1p_scalar(self, x: Scalar) -> Scalar:
        return np.log1p(np.longdouble(x))

    def convert(self, v: Vec) -> Vec:
        return np.array(v, dtype=np.longdouble)

    @property
    def eps(self) -> Scalar:
        return np.finfo(np.longdouble).eps

    def is_finite(self, v: Vec) -> bool:
        return bool(np.all(np.isfinite(v.astype(np.longdouble))))


def extended_available() -> bool:
    """Whether ``longdouble`` carries at least two more decimal digits than float64 here."""
    return bool(np.finfo(np.longdouble).eps * 100 <= np.finfo(np.float64).eps)


def _extended(x: Number | str) -> Scalar:
    """x in ``longdouble``: a rational with integer parts below 2⁶³ is rounded once."""
    if isinstance(x, Fraction | int) and not isinstance(x, bool):
        num, den = Fraction(x).numerator, Fraction(x).denominator
        if abs(num) < 2**63 and den < 2**63:
            return np.longdouble(num) / np.longdouble(den)
    return np.longdouble(x) if isinstance(x, str | float) else np.longdouble(float(x))


def float_matrix(rows: Sequence[Sequence[Number]], convert: Callable[[Number], Scalar] = float) -> Vec:
    """The float64 matrix of exact entries, ``float(x)`` entry by entry, converted in one vectorised step.

    Each distinct entry object is converted once (family games share a few Fraction objects, so an
    n = 2048 matrix takes a handful of conversions), then spread by numpy indexing.
    """
    m, k = len(rows), len(rows[0]) if rows else 0
    flat = [x for row in rows for x in row]
    if len(flat) != m * k:
        raise ValueError("a matrix needs rows of equal length")
    if not flat:
        return np.zeros((m, k), dtype=np.asarray(convert(0)).dtype)
    ids = np.fromiter(map(id, flat), dtype=np.int64, count=len(flat))
    _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    values = np.array([convert(flat[i]) for i in first])
    out: Vec = values[inverse.reshape(-1)].reshape(m, k)
    return out


def blas_threads() -> int:
    """BLAS threads for a command: ``NASHPROOF_BLAS_THREADS`` (a positive integer), else 1.

    One by default, deliberately: the dense work here is matrix-vector products and n ≤ 2048 solves,
    and on a loaded 2-core machine OpenBLAS's threads spin against each other (measured: the
    float64 continuation at n = 128 about 300× slower, 50 Nash-MP steps at n = 2048 3–4× slower).
    """
    raw = os.environ.get("NASHPROOF_BLAS_THREADS", "1")
    return int(raw) if raw.isdigit() and int(raw) > 0 else 1


_CONTROLLER: list[ThreadpoolController] = []


def blas_limit(threads: int) -> AbstractContextManager[object]:
    """Limit BLAS to ``threads`` inside a ``with`` block (one controller is built per process: a
    fresh ``threadpool_limits`` rescans the loaded libraries, about 0.5 ms a call)."""
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    limiter: AbstractContextManager[object] = _CONTROLLER[0].limit(limits=threads)
    return limiter


BACKENDS = ("mpmath", "float", "arb")


def make_backend(name: str = "mpmath", digits: int = 50) -> Backend:
    """A backend by name: ``mpmath`` (reference, ``digits`` decimal digits), ``float`` or ``arb`` (balls)."""
    if name == "mpmath":
        return MpmathBackend(digits)
    if name == "float":
        return FloatBackend()
    if name == "arb":
        from .balls import BallBackend

        return BallBackend(digits)
    raise InputError(f"unknown backend {name!r}; choose from {', '.join(BACKENDS)}")


def working_backend(digits: int) -> MpmathBackend:
    """An mpmath backend at a precision the toolkit chose (D plus guard digits may exceed the user range)."""
    return MpmathBackend(digits, internal=True)
