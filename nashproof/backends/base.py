"""The backend interface and what every backend shares: the scalar and vector types, the precision
range, exact-to-float64 matrix conversion and the BLAS thread limit.

The lowest module of :mod:`nashproof.backends`: the concrete backends (``nashproof.backends`` and
:mod:`nashproof.backends.balls`) build on it, and it imports neither.
"""

from __future__ import annotations

import math
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from fractions import Fraction
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
from threadpoolctl import ThreadpoolController

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
