"""The float64 damped Newton for the proximal fixed point x = normalize(base + scale·P eˣ), and the
continuation in the scale 1/β that gives a start for π*_β (pure numpy; the certified enclosure in
:mod:`nashproof.backends.krawczyk` polishes and proves it).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import SolverError
from .base import Vec, blas_limit


def float_residual(P: Vec, base: Vec, scale: float, x: Vec) -> tuple[Vec, Vec, Vec]:
    """F(x) = x − normalize(base + scale·P eˣ), π = eˣ and s = softmax(base + scale·Pπ), in float64."""
    pi = np.exp(x)
    z = base + scale * (P @ pi)
    z = z - z.max()
    t = z - np.log(np.sum(np.exp(z)))
    return x - t, pi, np.exp(t)


def float_jacobian(P: Vec, scale: float, pi: Vec, s: Vec) -> Vec:
    """J = I − (I − 1 sᵀ)·scale·P·diag(π) of F(x) = x − normalize(base + scale·P eˣ)."""
    M = scale * (P * pi[np.newaxis, :])
    J: Vec = np.eye(len(pi)) - M + np.outer(np.ones(len(pi)), s @ M)
    return J


def float_fixed_point(P: Vec, base: Vec, scale: float, x0: Vec, tol: float = 1e-13,
                      max_iter: int = 50) -> tuple[Vec, float]:
    """Damped Newton in float64 for x = normalize(base + scale·P eˣ); returns (x, ‖F‖∞)."""
    x = x0 - np.log(np.sum(np.exp(x0 - x0.max()))) - x0.max()
    with np.errstate(all="ignore"):
        F, pi, s = float_residual(P, base, scale, x)
        fn = float(np.max(np.abs(F)))
        for _ in range(max_iter):
            if not fn > tol:
                break
            try:
                delta = np.linalg.solve(float_jacobian(P, scale, pi, s), -F)
            except np.linalg.LinAlgError:
                break
            alpha = 1.0
            while True:
                x_new = x + alpha * delta
                F_new, pi_new, s_new = float_residual(P, base, scale, x_new)
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
