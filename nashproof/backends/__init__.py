"""Arithmetic backends behind one small interface.

Solvers, the equilibrium solver and the metrics are written once against :class:`Backend`.
Vectors are 1-D numpy arrays (``float64`` for the float backend, ``object`` arrays of mpmath
numbers for the mpmath backend); scalars are the backend's own number type. A new backend
(certified balls, a faster multiprecision library) only implements the abstract methods of
:class:`~nashproof.backends.base.Backend` (defined in :mod:`nashproof.backends.base`, re-exported here).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from fractions import Fraction

import mpmath
import numpy as np

from ..errors import InputError
from .base import MAX_DIGITS as MAX_DIGITS
from .base import MIN_DIGITS as MIN_DIGITS
from .base import Backend as Backend
from .base import Number as Number
from .base import Scalar as Scalar
from .base import Vec as Vec
from .base import blas_limit as blas_limit
from .base import blas_threads as blas_threads
from .base import float_matrix as float_matrix
from .base import long_int_text as long_int_text


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
