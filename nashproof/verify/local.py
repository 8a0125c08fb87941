"""The Nash-MP step linearised at π*: its spectrum and the asymptotic KL rate ρ_loc (docs/proofs.md §3.4)."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import mpmath

from ..equilibrium import solve_equilibrium
from ..games import Game

mp = mpmath.mp


def local_spectrum(game: Game, beta: Fraction, digits: int = 40) -> list[list[mpmath.mpf]]:
    """Per context, the singular values μ_j of B = Q D^½ A D^½ Q at π*_β (ascending, with multiplicity)."""
    from ..backends import MpmathBackend

    b = MpmathBackend(digits + 10)
    with mpmath.workdps(digits + 10):
        eq = solve_equilibrium(game, beta, b)
        out = []
        for c, ctx in enumerate(game.contexts):
            n = ctx.n
            u = [mp.sqrt(mp.exp(x)) for x in eq.logpi[c]]
            S = mp.matrix(n, n)
            for i in range(n):
                for j in range(n):
                    S[i, j] = u[i] * (mp.mpf(ctx.preference[i][j].numerator) / ctx.preference[i][j].denominator
                                      - mp.mpf(1) / 2) * u[j]
            Q = mp.eye(n) - mp.matrix(u) * mp.matrix(u).T
            B = Q * S * Q
            M = B.T * B
            M = (M + M.T) / 2
            ev = mp.eigsy(M, eigvals_only=True)
            # B√π* = 0: drop that one zero; the rest are the tangent directions' singular values.
            out.append(sorted(mp.sqrt(max(mp.zero, ev[i])) for i in range(n))[1:])
        return out


def local_kl_ratio(eta: mpmath.mpf, beta: mpmath.mpf, mus: Sequence[mpmath.mpf]) -> mpmath.mpf:
    """(1+ηβ)·KL_{k+1}/KL_k in the worst direction near π*: max_j [(1 − x_j/c)² + x_j/c²]/c, x_j = η²μ_j²."""
    c = 1 + eta * beta
    return max(((1 - (eta * m) ** 2 / c) ** 2 + (eta * m) ** 2 / c**2) / c for m in mus)


def local_radius2(eta: mpmath.mpf, beta: mpmath.mpf, mus: Sequence[mpmath.mpf]) -> mpmath.mpf:
    """Squared spectral radius of the linearised step: the asymptotic per-iteration KL rate."""
    c = 1 + eta * beta
    return local_kl_ratio(eta, beta, mus) / c
