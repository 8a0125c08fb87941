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

The module also holds the certified equilibrium: a float64 continuation gives a start, a
simplified Newton iteration in balls polishes it, and a Krawczyk test on the fixed-point map in
log-probabilities proves that the unique solution lies in the returned balls.
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
from ..games import Game
from . import MAX_DIGITS, MIN_DIGITS, Backend, Number, Scalar, Vec, blas_limit, long_int_text
from . import float_matrix as backends_float_matrix

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
    return _ufloat(to_arb(x).upper())


def lower(x: Scalar) -> float:
    """A float ≤ every point of the ball (rounded down)."""
    return -_ufloat(-to_arb(x).lower())


def _ufloat(x: arb) -> float:
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
    return _max_exact([to_arb(x).rad().upper() for x in xs])


def radius(x: Scalar) -> float:
    """An upper bound on the ball's radius, as a float."""
    return _ufloat(to_arb(x).rad())


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


def _col(v: Vec) -> arb_mat:
    try:
        return arb_mat(len(v), 1, v.tolist())
    except TypeError:
        return arb_mat(len(v), 1, [to_arb(x) for x in v])


def _row(v: Vec) -> arb_mat:
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
            return vec((self.arb_mat() * _col(other)).entries())
        return np.asarray(self, dtype=object) @ other

    def __rmatmul__(self, other: Any) -> Any:
        if self.ndim == 2 and isinstance(other, np.ndarray) and other.ndim == 1:
            return vec((_row(other) * self.arb_mat()).entries())
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


def _EXP(v: Vec) -> Vec:
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
        return np.asarray(_EXP(v), dtype=object)

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
            return vec(am.solve(_col(b)).entries())
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


# ------------------------------------------------------------------ the certified fixed point


def _float_residual(P: Vec, base: Vec, scale: float, x: Vec) -> tuple[Vec, Vec, Vec]:
    pi = np.exp(x)
    z = base + scale * (P @ pi)
    z = z - z.max()
    t = z - np.log(np.sum(np.exp(z)))
    return x - t, pi, np.exp(t)


def _float_jacobian(P: Vec, scale: float, pi: Vec, s: Vec) -> Vec:
    """J = I − (I − 1 sᵀ)·scale·P·diag(π) of F(x) = x − normalize(base + scale·P eˣ)."""
    M = scale * (P * pi[np.newaxis, :])
    J: Vec = np.eye(len(pi)) - M + np.outer(np.ones(len(pi)), s @ M)
    return J


def float_fixed_point(P: Vec, base: Vec, scale: float, x0: Vec, tol: float = 1e-13,
                      max_iter: int = 50) -> tuple[Vec, float]:
    """Damped Newton in float64 for x = normalize(base + scale·P eˣ); returns (x, ‖F‖∞)."""
    x = x0 - np.log(np.sum(np.exp(x0 - x0.max()))) - x0.max()
    with np.errstate(all="ignore"):
        F, pi, s = _float_residual(P, base, scale, x)
        fn = float(np.max(np.abs(F)))
        for _ in range(max_iter):
            if not fn > tol:
                break
            try:
                delta = np.linalg.solve(_float_jacobian(P, scale, pi, s), -F)
            except np.linalg.LinAlgError:
                break
            alpha = 1.0
            while True:
                x_new = x + alpha * delta
                F_new, pi_new, s_new = _float_residual(P, base, scale, x_new)
                fn_new = float(np.max(np.abs(F_new)))
                if fn_new < (1 - alpha / 4) * fn or alpha < 1e-4:
                    break
                alpha /= 2
            if not math.isfinite(fn_new):
                break
            x, F, pi, s, fn = x_new, F_new, pi_new, s_new, fn_new
    return x, fn


def float_equilibrium(P: Vec, logref: Vec, inv_beta: float) -> Vec:
    """A float64 start for π*_β: continuation in the scale 1/β, vectorised (no Python loop over entries).

    BLAS runs on one thread: at these sizes threads only contend for shared cores (×100 slower measured).
    """
    with blas_limit(1):
        return _continuation(P, logref, inv_beta)


def _continuation(P: Vec, logref: Vec, inv_beta: float) -> Vec:
    """The scale grows ×4–8 while Newton converges; a stage is accepted at 1e-10 or, at scales beyond
    ~10⁵, at the rounding of scale·Pπ in float64 (about ε·scale: 1/β = 10⁹ cannot reach 1e-10)."""
    scale = min(1.0, inv_beta)
    x, res = float_fixed_point(P, logref, scale, logref.copy())
    growth = 4.0
    while scale < inv_beta:
        target = min(inv_beta, scale * growth)
        aim, accept = float_tolerance(target)
        y, res = float_fixed_point(P, logref, target, x, tol=aim, max_iter=30)
        if res <= accept:
            x, scale, growth = y, target, min(8.0, growth * 1.5)
        else:
            growth = 1 + (growth - 1) / 2
            if growth < 1 + 1e-4:
                raise SolverError(f"equilibrium continuation stalled at 1/β = {scale:.4g} (target {inv_beta:.4g})")
    return x


def float_tolerance(scale: float) -> tuple[float, float]:
    """(target, acceptance) of a float64 Newton solve at this scale: 1e-13 and 1e-10, or the rounding
    of scale·Pπ (about ε·scale) when that is larger."""
    eps = float(np.finfo(np.float64).eps)
    return max(1e-13, 16 * eps * scale), max(1e-10, 1e3 * eps * scale)


def _ball_residual(P: arb_mat, base: Vec, scale: arb, x: Vec) -> Vec:
    """F(x) = x − normalize(base + scale·P eˣ), enclosed (x may be balls or exact points)."""
    pi = _EXP(x)
    z = base + scale * vec((P * _col(pi)).entries())
    m = arb(max(float(t.mid()) for t in z))
    lse = m + to_arb(sum(_EXP(z - m))).log()
    out: Vec = x - (z - lse)
    return out


def _inverse_jacobian(P: arb_mat, Pf: Vec, base: Vec, scale: arb, x: Vec, bits: int) -> tuple[arb_mat, Vec | None]:
    """An approximate inverse C of the Jacobian at x (midpoints): float64 (also returned as an array),
    or at ``bits`` when ill-conditioned."""
    xf = np.array([float(t) for t in x])
    basef = np.array([float(t.mid()) for t in base])
    _, pi, s = _float_residual(Pf, basef, float(scale.mid()), xf)
    if bits <= 53:
        with np.errstate(all="ignore"), blas_limit(1):
            C = np.linalg.inv(_float_jacobian(Pf, float(scale.mid()), pi, s))
        return arb_mat(C.tolist()), C
    with precision(bits):
        J = _ball_jacobian(P, base, scale, vec([arb(t.mid()) for t in x]))
        return J.inv(nonstop=True).mid(), None


_U = 2.0**-53  # unit roundoff of float64
#: Above this scale 1/β float64 resolves neither the start (to about ε·scale) nor the Jacobian (its
#: entries cancel at size ~scale): the start is refined and the approximate inverse built in balls.
REFINE_SCALE = 1e5
#: Above this precision the float64 Krawczyk bounds (an absolute underflow term ~2^-1000) are too wide.
FLOAT_KRAWCZYK_BITS = 900
_TINY = 2.0**-1021  # covers underflow of one operation, with margin


def _float_ball(xs: Sequence[arb]) -> tuple[Vec, Vec]:
    """(mid, rad) float64 vectors with [mid ± rad] ⊇ each ball (conversion errors included)."""
    mid = np.array([float(x.mid()) for x in xs])
    rad = np.array([_ufloat(x.rad()) for x in xs]) + 2 * _U * np.abs(mid) + _TINY
    return mid, rad


def _krawczyk_spread_float(Pf: Vec, C: Vec, scale: arb, X: Vec, s_balls: Sequence[arb], r: float) -> Vec:
    """Upper bounds S with (I − C·J(Y))·(Y − x̃) ∈ [±S] for every Y in X = x̃ ± r, by float64 matrix products.

    Mid-radius arithmetic with a priori rounding-error bounds (|fl(a·b) − a·b| ≤ γ_n |a|·|b| for any
    summation order, plus an underflow term); every bound is inflated by ``grow`` to cover the
    rounding of the bound computation itself. J(Y) = I − A + 1·(sᵀA), A = scale·P·diag(e^Y).
    """
    n = len(X)
    g = (n + 4) * _U / (1 - (n + 4) * _U)
    grow = 1 + 4 * g
    w = [scale * x.exp() for x in X]  # scale·π as balls
    wm, wr = _float_ball(w)
    sm, sr = _float_ball(s_balls)
    Pa = np.abs(Pf)
    Pr = _U * Pa  # float(P) is P rounded to nearest
    with np.errstate(all="ignore"), blas_limit(1):
        Am = Pf * wm[np.newaxis, :]
        Ar = (Pa * wr + Pr * (np.abs(wm) + wr) + _U * np.abs(Am)) * grow + _TINY
        Aa = np.abs(Am)
        gm = sm @ Am
        gr = (np.abs(sm) @ Ar + sr @ (Aa + Ar) + g * (np.abs(sm) @ Aa)) * grow + n * _TINY
        Jm = np.eye(n) - Am + gm[np.newaxis, :]
        Jr = (Ar + gr[np.newaxis, :] + 2 * _U * (1 + Aa + np.abs(gm)[np.newaxis, :])) * grow + _TINY
        Ca = np.abs(C)
        CJm = C @ Jm
        CJr = (Ca @ Jr + g * (Ca @ np.abs(Jm))) * grow + n * _TINY
        Mm = np.eye(n) - CJm
        Mr = (CJr + _U * np.abs(Mm)) * grow + _TINY
        S: Vec = ((np.abs(Mm) + Mr) @ np.full(n, r)) * grow + n * _TINY
    if not np.all(np.isfinite(S)):
        return np.full(n, math.inf)
    return S


def _max_exact(xs: Sequence[arb]) -> arb:
    """The largest of exact numbers (balls of radius 0), compared exactly."""
    out = xs[0]
    for x in xs[1:]:
        if x > out:
            out = x
    return out


def arf_up(x: float) -> arb:
    """An exact ball radius ≥ x (x is a float, exactly representable)."""
    return arb(float(x)) if math.isfinite(x) else arb("inf")


def _softmax_balls(P: arb_mat, base: Vec, scale: arb, X: Vec) -> list[arb]:
    """s(y) = softmax(base + scale·P e^y), enclosed for every y in the balls X."""
    z = base + scale * vec((P * _col(_EXP(X))).entries())
    m = arb(max(float(t.mid()) for t in z))
    e = _EXP(z - m)
    out: list[arb] = list(e / sum(e))
    return out


def _ball_jacobian(P: arb_mat, base: Vec, scale: arb, X: Vec) -> arb_mat:
    """An enclosure of every Jacobian J(y) = I − (I − 1 s(y)ᵀ)·scale·P·diag(e^y), y in the balls X."""
    n = len(X)
    pi = _EXP(X)
    s = vec(_softmax_balls(P, base, scale, X))
    A = _scale_columns(P, [scale * p for p in pi])
    ones = arb_mat(n, 1, [1] * n)
    J: arb_mat = arb_mat([[int(i == j) for j in range(n)] for i in range(n)]) - A + ones * (_row(s) * A)
    return J


def _scale_columns(P: arb_mat, w: list[arb]) -> arb_mat:
    """P·diag(w) in O(n²) ball operations."""
    rows = np.array(P.tolist(), dtype=object) * vec(w)[np.newaxis, :]
    return arb_mat(rows.tolist())


def enclose_fixed_point(P: arb_mat, Pf: Vec, base: Vec, scale: arb, x0: Vec, bits: int,
                        max_iter: int = 400) -> Vec:
    """Balls that provably hold the unique solution of x = normalize(base + scale·P eˣ) near ``x0``.

    ``base`` and ``scale`` may be balls: the result then holds the solution for every point of
    them. Simplified Newton with an approximate inverse C polishes the midpoint x̃; the Krawczyk
    operator K(X) = x̃ − C·F(x̃) + (I − C·J(X))(X − x̃) on X = x̃ ± r is then checked to lie inside
    X, which proves existence and uniqueness of the zero of F in X, and the zero lies in K(X).
    Raises :class:`CertificationError` when the test fails.
    """
    n = len(x0)
    with precision(bits):
        x = vec([t if isinstance(t, arb) else arb(float(t)) for t in x0])
        # at large 1/β the Jacobian's float64 entries cancel (sᵀA ~ 1/β): C in balls at 192 bits
        C, C_np = _inverse_jacobian(P, Pf, base, scale, x, 53 if float(scale) <= REFINE_SCALE else min(bits, 192))
        # magnitudes as exact balls (upper bounds): floats would underflow beyond ~1000 bits
        scale_x = 1 + _max_exact([t.abs_upper() for t in x])
        target = arb(2) ** (-bits + 8) * scale_x
        prev: arb | None = None
        upgraded = False
        for _ in range(max_iter):
            d = vec((C * _col(_ball_residual(P, base, scale, x))).entries())
            dmax = _max_exact([t.abs_upper() for t in d])
            x = vec([(a - b).mid() for a, b in zip(x, d)])
            if dmax <= target:
                break
            if prev is not None and dmax * 8 > prev:  # at the rounding level (stop), or too slow (a better C, once)
                if upgraded or dmax < arb(2) ** (-bits // 2):
                    break
                C, C_np = _inverse_jacobian(P, Pf, base, scale, x, min(bits, 256))
                upgraded = True
            elif prev is not None and not dmax.is_zero():
                # thousands of digits at ~45 bits a step: Newton steps instead, C re-inverted at x's current
                # accuracy (each doubles it), until the rest takes fewer than 40 steps of the C at hand
                gained, remaining = log2_abs(prev) - log2_abs(dmax), log2_abs(dmax) - log2_abs(target)
                if gained > 0 and remaining > 40 * gained:
                    known = int(-2 * log2_abs(dmax)) + 64
                    C, C_np = _inverse_jacobian(P, Pf, base, scale, x, min(bits, max(256, known)))
            prev = dmax
        F = _ball_residual(P, base, scale, x)
        d = vec((C * _col(F)).entries())
        r = (2 * _max_exact([t.abs_upper() for t in d]) + arb(2) ** (-bits + 4) * scale_x).upper()
        low = min(bits, 128)
        eye: arb_mat | None = None
        for attempt in range(8):
            with precision(low):
                X = vec([arb(t, r) for t in x])
                if C_np is not None and attempt < 4 and bits <= FLOAT_KRAWCZYK_BITS:  # float64, rigorous bounds
                    spread = [arb(0, arf_up(t)) for t in _krawczyk_spread_float(
                        Pf, C_np, scale, X, _softmax_balls(P, base, scale, X), _ufloat(r))]
                else:  # all in balls (slower: the products run in arb_mat)
                    eye = eye if eye is not None else arb_mat([[int(i == j) for j in range(n)] for i in range(n)])
                    M = eye - C * _ball_jacobian(P, base, scale, X)
                    spread = (M * arb_mat(n, 1, [arb(0, r)] * n)).entries()
            K = vec([a - b + c for a, b, c in zip(x, d, spread)])
            if all(k.is_finite() for k in K):
                widest = _max_exact([(k - t).abs_upper() for k, t in zip(K, x)])
                if widest < r:
                    return K
                r = _max_exact([2 * r, 2 * widest]).upper()
            else:
                r = (16 * r).upper()
    raise CertificationError(f"Krawczyk test failed at {bits} bits (n = {n}): no certificate for the fixed point")


def refine_start(P: arb_mat, base: Vec, scale: arb, x0: Vec, bits: int, max_iter: int = 80) -> Vec:
    """Damped Newton on the midpoints at ``bits`` from a float64 start: exact points, not balls.

    At β ≤ 1e-6 float64 resolves π*_β only to ε/β, coarser than the fixed point's own structure, so a
    float64 Jacobian inverse at that start does not contract; a few full Newton steps at higher
    precision bring the start into the region where the simplified Newton of the enclosure converges.
    """
    def resid(x: Vec) -> tuple[Vec, arb]:
        F = vec([t.mid() for t in _ball_residual(P, base, scale, x)])
        return F, _max_exact([t.abs_upper() for t in F])

    with precision(bits):
        x = vec([arb(float(t)) for t in x0])
        F, fn = resid(x)
        floor = arb(2) ** (-bits // 2) * scale
        for _ in range(max_iter):
            if fn <= floor:
                break
            J = _ball_jacobian(P, base, scale, x).mid()
            try:
                delta = J.solve(arb_mat(len(x), 1, [-t for t in F]), nonstop=True).mid().entries()
            except ZeroDivisionError:
                break
            if not all(d.is_finite() for d in delta):
                break
            alpha = arb(1)
            for _ in range(40):
                y = vec([(a + alpha * d).mid() for a, d in zip(x, delta)])
                G, gn = resid(y)
                if gn.is_finite() and gn < (1 - alpha / 4) * fn:
                    break
                alpha = alpha / 2
            else:
                break
            x, F, fn = y, G, gn
    return x


def _float_log_reference(reference: Sequence[Fraction]) -> Vec:
    """log π_ref in float64 from the exact entries: finite even where π_ref underflows (1e-330)."""
    return np.array([math.log(r.numerator) - math.log(r.denominator) for r in reference], dtype=np.float64)


def certified_policy(game: Game, beta: Fraction, digits: int) -> tuple[list[Vec], int]:
    """π*_β of every context as certified balls of log-probabilities, and the bits used.

    The precision starts at ``digits`` + guard and is raised (up to :data:`MAX_BITS`) until every
    probability's relative radius is below 10^(−digits).
    """
    from ..numeric import NumericGame

    inv_beta = 1 / beta
    # 1/β multiplies every rounding of scale·Pπ: its bits (twice, for the Jacobian's cancellation) come on top
    bits = bits_for(digits) + int(math.log2(game.n + 1)) + 16 + 2 * max(0, math.ceil(math.log2(float(inv_beta))))
    starts: list[Vec] = []
    for context in game.contexts:
        starts.append(float_equilibrium(float_matrix(context.preference),
                                        _float_log_reference(context.reference), float(inv_beta)))
    refined = [False] * len(starts)
    previous = math.inf
    while True:
        b = BallBackend(digits, bits)
        ng = NumericGame(game, b)
        scale = to_arb(inv_beta)
        out = []
        for c in range(ng.k):
            Pm = cast(BallMatrix, ng.P[c])
            Pf = float_matrix(game.contexts[c].preference)
            if inv_beta > REFINE_SCALE and not refined[c]:
                starts[c] = refine_start(Pm.arb_mat(), ng.logref[c], scale, starts[c], max(bits, 128))
                refined[c] = True
            out.append(enclose_fixed_point(Pm.arb_mat(), Pf, ng.logref[c], scale, starts[c], bits))
        # log-radius = relative radius of π; compared in log₂ (no underflow at any precision)
        worst = max(log2_radius(t) for K in out for t in K)
        if worst <= -digits * LOG2_10 or bits >= MAX_BITS or worst > previous - 16:
            if worst > -digits * LOG2_10:
                raise CertificationError(f"π*_β: relative radius 2^{worst:.0f} > 1e-{digits} at {bits} bits")
            return out, bits
        previous = worst
        bits = min(MAX_BITS, bits + max(64, int(worst + digits * LOG2_10) + 32))


def enclose_proximal(b: BallBackend, P: Vec, base: Vec, scale: Scalar, x0: Vec) -> tuple[Vec, float, float]:
    """The solver-facing fixed point in balls (``solve_fixed_point`` for a certified backend).

    Returns (balls of x, largest radius, 0.0); raises :class:`CertificationError` without a certificate.
    """
    Pm = P if isinstance(P, BallMatrix) else cast(BallMatrix, b.convert(P))
    Pf = Pm.floats()
    basef = np.array([float(to_arb(t).mid()) for t in base])
    start, _ = float_fixed_point(Pf, basef, float(to_arb(scale).mid()), np.array([float(to_arb(t).mid()) for t in x0]))
    K = enclose_fixed_point(Pm.arb_mat(), Pf, base, to_arb(scale), start, b.bits)
    b.activate()
    return K, max(radius(t) for t in K), 0.0
