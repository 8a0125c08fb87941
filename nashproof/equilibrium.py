"""The regularized equilibrium π*_β to any precision, and the von Neumann winner (β = 0).

π*_β is the fixed point π ∝ π_ref exp(Pπ/β) (spec §1). Per context we solve, in
log-probabilities x, F(x) = x − normalize(log π_ref + P eˣ/β) = 0: by damped Newton in float64
along a continuation in 1/β, then polished in the working backend by a simplified Newton that
reuses one float64 Jacobian inverse with residuals at full precision (O(n²) per step, about 13
digits per step), falling back to the full damped Newton there when that does not contract.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .backends import Backend, FloatBackend, MpmathBackend, Scalar, Vec, blas_limit, working_backend
from .backends.float_newton import float_tolerance
from .errors import SolverError
from .games import Context, Game
from .numbers import check_beta
from .numeric import LogPolicy, numeric_game

#: BLAS threads for the equilibrium's dense float64 solves. One: on a loaded machine OpenBLAS's
#: threads spin against each other (the continuation at n = 128 was 100–300× slower with two).
BLAS_THREADS = 1
#: Trial steps of the damped Newton's line search before it gives up (the step shrinks ×½ each time).
MAX_HALVINGS = 40
#: Iterations of the simplified Newton polish (each gains about as many digits as float64 has).
MAX_POLISH = 400


def tolerance(b: Backend, n: int, scale: Scalar) -> Scalar:
    """The residual a Newton solve aims at: 64·n·ε, times scale/1000 when the scale 1/β exceeds 1000.

    F involves scale·Pπ, whose rounding is about ε·scale: at β = 1e-9 no solve gets below ~1e-7·ε·10⁹.
    A backend scalar, not a float: at 100000 digits ε is far below float64's range.
    """
    return b.eps * (64 * n * max(1.0, abs(float(scale)) / 1000))


def _residual(b: Backend, P: Vec, base: Vec, scale: Scalar, x: Vec) -> tuple[Vec, Vec, Vec]:
    """F(x), π = eˣ and s = softmax(base + scale·Pπ)."""
    pi = b.exp(x)
    z = base + (P @ pi) * scale
    target = b.log_normalize(z)
    return x - target, pi, b.exp(target)


def _norm(b: Backend, v: Vec) -> Scalar:
    """max |v_i| as a backend scalar (a float would underflow at high precision); inf if not finite."""
    if not b.is_finite(v):
        return math.inf
    return max(abs(t) for t in v)


def softmax_fixed_point(
    b: Backend, P: Vec, base: Vec, scale: Scalar, x0: Vec, tol: Scalar | None = None, max_iter: int = 200
) -> tuple[Vec, Scalar, Scalar]:
    """Solve x = normalize(base + scale·P eˣ) by damped Newton from ``x0``.

    Returns (x, final residual ‖F‖∞, size of the last Newton step, 0 when none was needed). The
    residual is measured in log-probabilities, so it is a relative accuracy of π. Trial steps that
    overflow in float64 are rejected by the line search (their residual is not finite), silently;
    if no trial step has a finite residual, :class:`SolverError`.
    """
    with np.errstate(all="ignore"):
        return _newton(b, P, base, scale, x0, tol, max_iter)


def _jacobian(b: Backend, P: Vec, scale: Scalar, pi: Vec, s: Vec) -> Vec:
    """J = I − (I − 1 sᵀ) · scale · P · diag(π), the Jacobian of F at x = log π."""
    n = len(pi)
    M = (P * pi[np.newaxis, :]) * scale
    J: Vec = -(M - np.outer(b.vector([1] * n), s @ M))
    for i in range(n):
        J[i, i] = J[i, i] + 1
    return J


def _newton(b: Backend, P: Vec, base: Vec, scale: Scalar, x0: Vec, tol: Scalar | None,
            max_iter: int) -> tuple[Vec, Scalar, Scalar]:
    n = len(x0)
    tol_v = tol if tol is not None else tolerance(b, n, scale)
    x = b.log_normalize(x0)
    F, pi, s = _residual(b, P, base, scale, x)
    fnorm = _norm(b, F)
    if not math.isfinite(fnorm):
        raise SolverError("equilibrium Newton: the residual at the starting point is not finite "
                          "(a probability underflows or overflows at this precision)")
    step = 0.0
    for _ in range(max_iter):
        if fnorm <= tol_v:
            break
        try:
            delta = b.solve(_jacobian(b, P, scale, pi, s), -F)
        except (ZeroDivisionError, np.linalg.LinAlgError):
            raise SolverError("singular Jacobian in the equilibrium Newton solve") from None
        x_new, F_new, pi_new, s_new, new_norm = _line_search(b, P, base, scale, x, delta, fnorm, tol_v)
        step = _norm(b, x_new - x)
        x, F, pi, s, fnorm = x_new, F_new, pi_new, s_new, new_norm
        if step <= tol_v:
            break
    return b.log_normalize(x), fnorm, step


def _line_search(b: Backend, P: Vec, base: Vec, scale: Scalar, x: Vec, delta: Vec, fnorm: Scalar,
                 tol: Scalar) -> tuple[Vec, Vec, Vec, Vec, Scalar]:
    """Halve the Newton step until the residual decreases enough (at most ``MAX_HALVINGS`` times).

    No renormalisation of the trial point: it would leave the Newton direction; F = 0 forces Σ eˣ = 1.
    """
    alpha = 1.0
    for _ in range(MAX_HALVINGS):
        x_new = x + delta * b.scalar(alpha)
        F_new, pi_new, s_new = _residual(b, P, base, scale, x_new)
        new_norm = _norm(b, F_new)
        if new_norm < (1 - alpha / 4) * fnorm or new_norm <= tol or (alpha < 1e-6 and math.isfinite(new_norm)):
            return x_new, F_new, pi_new, s_new, new_norm
        alpha /= 2
    raise SolverError(f"equilibrium Newton: no step of the line search has a finite residual after "
                      f"{MAX_HALVINGS} halvings (the iterate under- or overflows at this precision)")


def polish(b: Backend, P: Vec, base: Vec, scale: Scalar, x0: Vec,
           tol: Scalar | None = None) -> tuple[Vec, Scalar, Scalar]:
    """Bring a float64 solution ``x0`` of x = normalize(base + scale·P eˣ) to the precision of ``b``.

    A simplified Newton: the float64 Jacobian at ``x0`` is inverted once, and each step applies it
    to the residual computed in ``b`` (scaled, so any precision stays within float64's range). Each
    step costs O(n²) and gains about as many digits as float64 resolves the Jacobian's inverse.
    Falls back to the full damped Newton in ``b`` when the iteration does not contract.
    """
    n = len(x0)
    tol_v = tol if tol is not None else tolerance(b, n, scale)
    fb = FloatBackend()
    xf = fb.log_normalize(np.asarray(x0, dtype=np.float64))
    with np.errstate(all="ignore"):
        _, pif, sf = _residual(fb, fb.convert(P), fb.convert(base), np.float64(float(scale)), xf)
        try:
            inverse = np.linalg.inv(_jacobian(fb, fb.convert(P), np.float64(float(scale)), pif, sf))
        except np.linalg.LinAlgError:
            inverse = None
    x = b.log_normalize(b.convert(xf))
    if inverse is not None and np.all(np.isfinite(inverse)):
        done = _simplified_newton(b, P, base, scale, x, inverse, tol_v)
        if done is not None:
            return done
    return softmax_fixed_point(b, P, base, scale, x, tol)


def _simplified_newton(b: Backend, P: Vec, base: Vec, scale: Scalar, x: Vec, inverse: Vec,
                       tol: Scalar) -> tuple[Vec, Scalar, Scalar] | None:
    """x ← x − J⁻¹F(x) with a fixed float64 J⁻¹; None when the residual stops shrinking ×10 per step."""
    F, _, _ = _residual(b, P, base, scale, x)
    fnorm, step = _norm(b, F), 0.0
    for _ in range(MAX_POLISH):
        if fnorm <= tol:
            return b.log_normalize(x), fnorm, step
        if not math.isfinite(fnorm):
            return None
        size = max(abs(t) for t in F)
        delta = b.convert(inverse @ np.array([float(t / size) for t in F], dtype=np.float64)) * size
        x = x - delta
        F, _, _ = _residual(b, P, base, scale, x)
        new_norm, step = _norm(b, F), _norm(b, delta)
        if not new_norm <= fnorm / 10 and new_norm > tol:
            return None
        fnorm = new_norm
    return None


def solve_fixed_point(b: Backend, P: Vec, base: Vec, scale: Scalar, x0: Vec) -> tuple[Vec, Scalar, Scalar]:
    """Solve x = normalize(base + scale·P eˣ): float64 Newton first, then polish in ``b``.

    A certified backend (balls) encloses the solution by a Krawczyk test instead.
    """
    if b.certified:
        from .backends.balls import BallBackend
        from .backends.krawczyk import enclose_proximal

        assert isinstance(b, BallBackend)
        return enclose_proximal(b, P, base, scale, x0)
    fb = FloatBackend()
    with blas_limit(BLAS_THREADS):
        xf, _, _ = softmax_fixed_point(fb, fb.convert(P), fb.convert(base), np.float64(float(scale)),
                                       fb.convert(x0), tol=1e-13, max_iter=100)
        if isinstance(b, FloatBackend) or not fb.is_finite(xf):
            start = x0 if not fb.is_finite(xf) else b.convert(xf)
            x, res, step = softmax_fixed_point(b, P, base, scale, start)
        else:
            x, res, step = polish(b, P, base, scale, xf)
    if not res <= tolerance(b, len(x0), scale) * 1e6 / 64:
        raise SolverError(f"Newton solve of a proximal fixed point did not converge (residual {b.to_str(res, 3)})")
    return x, res, step


def float_solve(P: Vec, logref: Vec, inv_beta: float) -> Vec:
    """Continuation in the scale 1/β, from a scale where the map contracts.

    The scale grows by up to ×2 while Newton converges from the previous solution, and the growth
    is halved (towards ×1) whenever it does not.
    """
    fb = FloatBackend()
    scale = min(1.0, inv_beta)
    x, _, _ = softmax_fixed_point(fb, P, logref, np.float64(scale), fb.log_normalize(logref.copy()),
                                  tol=1e-13, max_iter=100)
    growth = 1.5
    while scale < inv_beta:
        target = min(inv_beta, scale * growth)
        aim, accept = float_tolerance(target)
        try:
            y, res, _ = softmax_fixed_point(fb, P, logref, np.float64(target), x, tol=aim, max_iter=60)
        except SolverError:
            res = math.inf
        if res <= accept:
            x, scale, growth = y, target, min(2.0, 1 + (growth - 1) * 1.5)
        else:
            growth = 1 + (growth - 1) / 2
            if growth < 1 + 1e-4:
                raise SolverError(f"equilibrium continuation stalled at 1/β = {scale:.4g} (target {inv_beta:.4g})")
    return x


@dataclass(frozen=True)
class Certificate:
    """Evidence for π*_β: residuals and exploitability at the working precision."""

    digits: int
    residual: Scalar
    last_step: Scalar
    exploitability: Scalar
    correct_digits: int
    exploitability_rounding: Scalar = 0.0  # estimate of the rounding in ``exploitability``

    def as_dict(self, b: Backend) -> dict[str, object]:
        """Exploitability is ≥ 0 in exact arithmetic: a value that rounding made negative (within
        ``exploitability_rounding``) is shown as 0."""
        expl = self.exploitability
        clamp = expl < 0 and -expl <= self.exploitability_rounding
        return {
            "working_digits": self.digits,
            "fixed_point_residual": b.to_str(self.residual, 4),
            "last_newton_step": b.to_str(self.last_step, 4),
            "exploitability": "0" if clamp else b.to_str(expl, 20),
            "exploitability_rounding": b.to_str(self.exploitability_rounding, 2),
            "estimated_correct_digits": self.correct_digits,
        }


@dataclass(frozen=True)
class BallCertificate(Certificate):
    """A proof: a Krawczyk test shows the unique equilibrium lies in the returned balls.

    ``rel_radius`` and ``max_radius`` are exact upper bounds (balls of radius 0), printed rounded up.
    """

    bits: int = 0
    rel_radius: Scalar = None
    max_radius: Scalar = None

    def as_dict(self, b: Backend) -> dict[str, object]:
        from .backends.balls import up_str

        return {
            "method": "certified",
            "statement": "the unique π*_β lies in the returned balls (Krawczyk test, log-probabilities)",
            "working_bits": self.bits,
            "working_digits": self.digits,
            "max_relative_radius": up_str(self.rel_radius, 4),
            "max_radius": up_str(self.max_radius, 4),
            "exploitability": b.to_str(self.exploitability, 20),
            "exploitability_radius": up_str(self.exploitability.rad(), 4),
            "certified_digits": self.correct_digits,
        }


@dataclass
class Equilibrium:
    """π*_β per context as log-probabilities in ``backend``, with its certificate."""

    beta: Fraction
    backend: Backend
    logpi: LogPolicy
    certificate: Certificate
    certified: bool = False

    def probs(self) -> list[Vec]:
        return [self.backend.exp(x) for x in self.logpi]


def solve_equilibrium(game: Game, beta: Fraction, backend: Backend, guard: int = 15) -> Equilibrium:
    """π*_β of every context at the backend's precision (internally ``guard`` extra digits)."""
    check_beta(beta)
    if backend.certified:
        return certified_equilibrium(game, beta, backend)
    from .metrics import exploitability, rounding_floor  # local import: metrics needs this module's types

    fb = FloatBackend()
    work: Backend = (working_backend(backend.digits + guard) if isinstance(backend, MpmathBackend)
                     else fb if backend.name == "float" else backend)
    ng = numeric_game(game, work)
    ngf = numeric_game(game, fb)
    inv_beta = 1 / beta
    logs: list[Vec] = []
    worst_res, worst_step = work.scalar(0), work.scalar(0)
    for c in range(ng.k):
        with blas_limit(BLAS_THREADS):
            x = float_solve(ngf.P[c], ngf.logref[c], float(inv_beta))
            if work is fb:
                x, res, step = softmax_fixed_point(work, ng.P[c], ng.logref[c], work.scalar(inv_beta), x)
            else:
                x, res, step = polish(work, ng.P[c], ng.logref[c], work.scalar(inv_beta), x)
        if not res <= tolerance(work, game.n, inv_beta) * 1e6 / 64:
            raise SolverError(f"equilibrium Newton did not converge in context {c} (residual {work.to_str(res, 3)})")
        worst_res, worst_step = max(worst_res, res), max(worst_step, step)
        logs.append(x)
    expl = ng.average([exploitability(ng, c, logs[c], work.scalar(beta)) for c in range(ng.k)])
    err = max(worst_res, work.eps)
    correct = int(min(backend.digits, -float(work.log_scalar(err)) / math.log(10) - 2))
    floor = rounding_floor(ng, logs, logs, work.scalar(beta))
    cert = Certificate(work.digits, worst_res, worst_step, expl, correct, floor)
    out = [backend.convert(x) for x in logs]
    return Equilibrium(beta, backend, out, cert)


def certified_equilibrium(game: Game, beta: Fraction, backend: Backend) -> Equilibrium:
    """π*_β enclosed in balls with a Krawczyk certificate (``backend`` is the ball backend)."""
    from .backends.balls import LOG2_10, BallBackend, log2_abs, widest_radius
    from .certified_policy import certified_policy
    from .metrics import exploitability

    logs, bits = certified_policy(game, beta, backend.digits)
    work = BallBackend(backend.digits, bits)
    ng = numeric_game(game, work)
    expl = ng.average([exploitability(ng, c, logs[c], work.scalar(beta)) for c in range(ng.k)])
    rel = widest_radius([t for lp in logs for t in lp])  # the radius of log π is π's relative radius
    probs = [work.exp(lp) for lp in logs]
    digits = int(-log2_abs(rel) / LOG2_10) if not rel.is_zero() else backend.digits
    cert = BallCertificate(int(bits * math.log10(2)), 0.0, 0.0, expl, min(digits, backend.digits), bits=bits,
                           rel_radius=rel, max_radius=widest_radius([p for pc in probs for p in pc]))
    return Equilibrium(beta, work, logs, cert, certified=True)


# ------------------------------------------------------------ β = 0: exact LP


def von_neumann_winner(ctx: Context, on_pivot: Callable[[int], None] | None = None) -> tuple[Fraction, ...]:
    """An exact von Neumann winner of one context: P(y ≻ π) ≤ ½ for every y (exactly verified)."""
    return winner_and_path(ctx, on_pivot)[0]


def winner_and_path(ctx: Context, on_pivot: Callable[[int], None] | None = None) -> tuple[tuple[Fraction, ...], str]:
    """An exact von Neumann winner and how it was found (:mod:`nashproof.winner`).

    HiGHS's float LP gives the support, the exact solve on it gives the candidate, and an exact
    integer check verifies it; the exact simplex runs only when that does not verify (``on_pivot``
    reports its pivots), and its result is verified the same way.
    """
    from .winner import lp_winner

    return lp_winner(ctx, on_pivot)


def verify_von_neumann_winner(ctx: Context, pi: Sequence[Fraction]) -> bool:
    """Exact check: π is a distribution and max_y P(y ≻ π) ≤ ½."""
    if any(p < 0 for p in pi) or sum(pi) != 1:
        return False
    return all(sum(r * p for r, p in zip(row, pi)) <= Fraction(1, 2) for row in ctx.preference)
