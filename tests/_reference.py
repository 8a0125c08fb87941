"""Independent reference computations for the tests.

Nothing here imports nashproof's numerics: these are hand-written formulas of the spec in plain
mpmath (a private context per call, so no global precision leaks between tests), numpy and scipy.
They read games only through their exact Fraction data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

FloatVec = npt.NDArray[np.float64]


def mp_ctx(dps: int) -> Any:
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


def mpv(M: Any, xs: Sequence[Any]) -> list[Any]:
    """Exact Fractions (or package mpf values) as numbers of context M."""
    out = []
    for x in xs:
        if isinstance(x, Fraction):
            out.append(M.mpf(x.numerator) / x.denominator)
        else:
            out.append(M.mpf(x))
    return out


def matvec(M: Any, P: Sequence[Sequence[Fraction]], v: Sequence[Any]) -> list[Any]:
    return [M.fsum(mpv(M, row)[j] * v[j] for j in range(len(v))) for row in P]


def normalize_logs(M: Any, z: Sequence[Any]) -> list[Any]:
    m = max(z)
    lse = m + M.log(M.fsum(M.exp(t - m) for t in z))
    return [t - lse for t in z]


def kl_mp(M: Any, p: Sequence[Any], q: Sequence[Any]) -> Any:
    return M.fsum(pi * (M.log(pi) - M.log(qi)) for pi, qi in zip(p, q, strict=True) if pi != 0)


def prox_step_mp(M: Any, P: Sequence[Sequence[Fraction]], ref: Sequence[Fraction], centre: Sequence[Any],
                 opponent: Sequence[Any], eta: Fraction, beta: Fraction) -> list[Any]:
    """argmax_π η[πᵀPσ − βKL(π‖ref)] − KL(π‖centre), by the closed form of spec §2 (probabilities)."""
    eb = mpv(M, [eta * beta])[0]
    e = mpv(M, [eta])[0]
    q = matvec(M, P, opponent)
    lref = [M.log(r) for r in mpv(M, ref)]
    z = [(M.log(c) + eb * lr + e * qi) / (1 + eb) for c, lr, qi in zip(centre, lref, q, strict=True)]
    return [M.exp(t) for t in normalize_logs(M, z)]


def nash_mp_mp(M: Any, P: Sequence[Sequence[Fraction]], ref: Sequence[Fraction], pi: Sequence[Any],
               eta: Fraction, beta: Fraction) -> tuple[list[Any], list[Any]]:
    half = prox_step_mp(M, P, ref, pi, pi, eta, beta)
    full = prox_step_mp(M, P, ref, pi, half, eta, beta)
    return half, full


def exploitability_mp(M: Any, P: Sequence[Sequence[Fraction]], ref: Sequence[Fraction], pi: Sequence[Any],
                      beta: Fraction) -> Any:
    """Expl_β(π) = β log Σ ref exp(Pπ/β) + β KL(π‖ref) − ½ (spec §5)."""
    b = mpv(M, [beta])[0]
    q = matvec(M, P, pi)
    r = mpv(M, ref)
    z = [M.log(ri) + qi / b for ri, qi in zip(r, q, strict=True)]
    m = max(z)
    lse = m + M.log(M.fsum(M.exp(t - m) for t in z))
    return b * lse + b * kl_mp(M, pi, r) - M.mpf(1) / 2


# ------------------------------------------------------------- equilibrium, independently


def _float_nash_mp_equilibrium(P: FloatVec, ref: FloatVec, beta: float) -> FloatVec:
    """A float64 start for π*_β: hand-written Nash-MP (η = 2) run until it stops moving. Returns log π."""
    logref = np.log(ref)
    eta = 2.0

    def step(x: FloatVec, opponent: FloatVec) -> FloatVec:
        z = (x + eta * beta * logref + eta * (P @ np.exp(opponent))) / (1 + eta * beta)
        m = np.max(z)
        out: FloatVec = z - (m + np.log(np.sum(np.exp(z - m))))
        return out

    x = logref.copy()
    for _ in range(100_000):
        new = step(x, step(x, x))
        if np.max(np.abs(new - x)) < 1e-15:
            return new
        x = new
    return x


def equilibrium_mp(P: Sequence[Sequence[Fraction]], ref: Sequence[Fraction], beta: Fraction,
                   dps: int) -> list[Any]:
    """π*_β of one context by mpmath.findroot on the log-space fixed-point equations.

    Unknowns x = log π; equations x − log ref − Pπ/β + log Σ ref exp(Pπ/β) = 0. Returns π.
    """
    n = len(ref)
    Pf = np.array([[float(p) for p in row] for row in P])
    reff = np.array([float(r) for r in ref])
    x0 = _float_nash_mp_equilibrium(Pf, reff, float(beta))
    M = mp_ctx(dps + 20)
    Pm = [mpv(M, row) for row in P]
    lref = [M.log(r) for r in mpv(M, ref)]
    b = mpv(M, [beta])[0]

    def F(*x: Any) -> list[Any]:
        pi = [M.exp(t) for t in x]
        q = [M.fsum(Pm[i][j] * pi[j] for j in range(n)) for i in range(n)]
        z = [lr + qi / b for lr, qi in zip(lref, q, strict=True)]
        m = max(z)
        lse = m + M.log(M.fsum(M.exp(t - m) for t in z))
        return [x[i] - (z[i] - lse) for i in range(n)]

    sol = M.findroot(F, [M.mpf(float(t)) for t in x0], tol=M.mpf(10) ** (-(dps + 15)), maxsteps=60, verify=False)
    xs = [sol[i] for i in range(n)] if n > 1 else [sol]
    res = max(abs(v) for v in F(*xs))
    assert res < M.mpf(10) ** (-(dps + 5)), f"reference findroot did not converge: residual {res}"
    return [M.exp(t) for t in xs]


# ------------------------------------------------------------- direct numerical maximisation


def softmax(theta: FloatVec) -> FloatVec:
    z = theta - np.max(theta)
    e = np.exp(z)
    out: FloatVec = e / np.sum(e)
    return out


def argmax_on_simplex(value_and_grad: Callable[[FloatVec], tuple[float, FloatVec]], n: int,
                      theta0: FloatVec | None = None) -> FloatVec:
    """Maximise a concave f(π) over the simplex, π = softmax(θ), by BFGS in float64.

    ``value_and_grad(π)`` returns f(π) and ∇_π f(π); the chain rule through the softmax is applied here.
    """

    def neg(theta: FloatVec) -> tuple[float, FloatVec]:
        pi = softmax(theta)
        f, g = value_and_grad(pi)
        grad_theta = pi * (g - pi @ g)
        return -f, -grad_theta

    start = np.zeros(n) if theta0 is None else theta0
    res = minimize(neg, start, jac=True, method="BFGS", options={"gtol": 1e-14, "maxiter": 10_000})
    return softmax(res.x)


def proximal_objective(P: FloatVec, ref: FloatVec, centre: FloatVec, opponent: FloatVec, eta: float,
                       beta: float) -> Callable[[FloatVec], tuple[float, FloatVec]]:
    """f(π) = η[πᵀPσ − βKL(π‖ref)] − KL(π‖centre) and its gradient in π."""
    q = P @ opponent

    def f(pi: FloatVec) -> tuple[float, FloatVec]:
        lp = np.log(pi)
        kl_ref = float(pi @ (lp - np.log(ref)))
        kl_c = float(pi @ (lp - np.log(centre)))
        val = eta * (float(pi @ q) - beta * kl_ref) - kl_c
        grad = eta * (q - beta * (lp - np.log(ref) + 1)) - (lp - np.log(centre) + 1)
        return val, grad

    return f


def best_response_value(P: FloatVec, ref: FloatVec, pi: FloatVec, beta: float) -> float:
    """max_π' J_β(π', π) by direct numerical maximisation (J_β as in spec §1, one context)."""
    q = P @ pi
    kl_pi = float(pi @ (np.log(pi) - np.log(ref)))

    def f(p: FloatVec) -> tuple[float, FloatVec]:
        lp = np.log(p)
        val = float(p @ q) - beta * float(p @ (lp - np.log(ref))) + beta * kl_pi
        grad = q - beta * (lp - np.log(ref) + 1)
        return val, grad

    best = argmax_on_simplex(f, len(pi))
    return f(best)[0]
