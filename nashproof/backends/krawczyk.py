"""The certified fixed point: balls that provably hold the solution of x = normalize(base + scale·P eˣ).

A float64 start (:mod:`nashproof.backends.float_newton`) is polished by a simplified Newton
iteration in balls, and a Krawczyk test on the fixed-point map in log-probabilities proves that the
unique solution lies in the returned balls.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

import numpy as np
from flint import arb, arb_mat

from .balls import (
    BallBackend,
    BallMatrix,
    CertificationError,
    arb_column,
    arb_row,
    exp_balls,
    log2_abs,
    max_exact,
    precision,
    radius,
    to_arb,
    ufloat,
    vec,
)
from .base import Scalar, Vec, blas_limit
from .float_newton import float_fixed_point, float_jacobian, float_residual


def _ball_residual(P: arb_mat, base: Vec, scale: arb, x: Vec) -> Vec:
    """F(x) = x − normalize(base + scale·P eˣ), enclosed (x may be balls or exact points)."""
    pi = exp_balls(x)
    z = base + scale * vec((P * arb_column(pi)).entries())
    m = arb(max(float(t.mid()) for t in z))
    lse = m + to_arb(sum(exp_balls(z - m))).log()
    out: Vec = x - (z - lse)
    return out


def _inverse_jacobian(P: arb_mat, Pf: Vec, base: Vec, scale: arb, x: Vec, bits: int) -> tuple[arb_mat, Vec | None]:
    """An approximate inverse C of the Jacobian at x (midpoints): float64 (also returned as an array),
    or at ``bits`` when ill-conditioned."""
    xf = np.array([float(t) for t in x])
    basef = np.array([float(t.mid()) for t in base])
    _, pi, s = float_residual(Pf, basef, float(scale.mid()), xf)
    if bits <= 53:
        with np.errstate(all="ignore"), blas_limit(1):
            C = np.linalg.inv(float_jacobian(Pf, float(scale.mid()), pi, s))
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
    rad = np.array([ufloat(x.rad()) for x in xs]) + 2 * _U * np.abs(mid) + _TINY
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


def arf_up(x: float) -> arb:
    """An exact ball radius ≥ x (x is a float, exactly representable)."""
    return arb(float(x)) if math.isfinite(x) else arb("inf")


def _softmax_balls(P: arb_mat, base: Vec, scale: arb, X: Vec) -> list[arb]:
    """s(y) = softmax(base + scale·P e^y), enclosed for every y in the balls X."""
    z = base + scale * vec((P * arb_column(exp_balls(X))).entries())
    m = arb(max(float(t.mid()) for t in z))
    e = exp_balls(z - m)
    out: list[arb] = list(e / sum(e))
    return out


def _ball_jacobian(P: arb_mat, base: Vec, scale: arb, X: Vec) -> arb_mat:
    """An enclosure of every Jacobian J(y) = I − (I − 1 s(y)ᵀ)·scale·P·diag(e^y), y in the balls X."""
    n = len(X)
    pi = exp_balls(X)
    s = vec(_softmax_balls(P, base, scale, X))
    A = _scale_columns(P, [scale * p for p in pi])
    ones = arb_mat(n, 1, [1] * n)
    J: arb_mat = arb_mat([[int(i == j) for j in range(n)] for i in range(n)]) - A + ones * (arb_row(s) * A)
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
        scale_x = 1 + max_exact([t.abs_upper() for t in x])
        target = arb(2) ** (-bits + 8) * scale_x
        prev: arb | None = None
        upgraded = False
        for _ in range(max_iter):
            d = vec((C * arb_column(_ball_residual(P, base, scale, x))).entries())
            dmax = max_exact([t.abs_upper() for t in d])
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
        d = vec((C * arb_column(F)).entries())
        r = (2 * max_exact([t.abs_upper() for t in d]) + arb(2) ** (-bits + 4) * scale_x).upper()
        low = min(bits, 128)
        eye: arb_mat | None = None
        for attempt in range(8):
            with precision(low):
                X = vec([arb(t, r) for t in x])
                if C_np is not None and attempt < 4 and bits <= FLOAT_KRAWCZYK_BITS:  # float64, rigorous bounds
                    spread = [arb(0, arf_up(t)) for t in _krawczyk_spread_float(
                        Pf, C_np, scale, X, _softmax_balls(P, base, scale, X), ufloat(r))]
                else:  # all in balls (slower: the products run in arb_mat)
                    eye = eye if eye is not None else arb_mat([[int(i == j) for j in range(n)] for i in range(n)])
                    M = eye - C * _ball_jacobian(P, base, scale, X)
                    spread = (M * arb_mat(n, 1, [arb(0, r)] * n)).entries()
            K = vec([a - b + c for a, b, c in zip(x, d, spread)])
            if all(k.is_finite() for k in K):
                widest = max_exact([(k - t).abs_upper() for k, t in zip(K, x)])
                if widest < r:
                    return K
                r = max_exact([2 * r, 2 * widest]).upper()
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
        return F, max_exact([t.abs_upper() for t in F])

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
