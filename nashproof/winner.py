"""An exact von Neumann winner (β = 0) by integer-pivoting simplex.

With P = M/D (M an integer matrix, D the common denominator), a winner is π = u/Σu for an optimal
u of the LP  max Σu  s.t.  M u ≤ D·𝟙, u ≥ 0: then Pπ ≤ 𝟙/Σu, and Σu = 2 at the optimum because a
symmetric game with P + Pᵀ = 1 has value ½. The origin is feasible (no phase one), the diagonal
½ bounds every u_i, and the tableau is kept in integers by fraction-free (Edmonds) pivoting: each
entry is the true tableau entry times the last pivot, and every division is exact. Dantzig's rule,
switching to Bland's (which cannot cycle) after a run of degenerate pivots.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

from .errors import SolverError
from .games import Context


def exact_winner(ctx: Context, on_pivot: Callable[[int], None] | None = None) -> tuple[Fraction, ...]:
    """A von Neumann winner of one context, exactly: a distribution π with P(y ≻ π) ≤ ½ for every y."""
    P = ctx.preference
    n = len(P)
    D = math.lcm(*(p.denominator for row in P for p in row))
    width = 2 * n + 1  # u_0..u_{n−1}, slacks s_0..s_{n−1}, right-hand side
    T = [[p.numerator * (D // p.denominator) for p in row] + [int(i == j) for j in range(n)] + [D]
         for i, row in enumerate(P)]
    T.append([-1] * n + [0] * n + [0])  # objective row: reduced costs of max Σu
    basis = [n + i for i in range(n)]
    det = 1
    bland, degenerate, pivots = False, 0, 0
    obj = T[n]
    while True:
        if bland:
            enter = next((j for j in range(width - 1) if obj[j] < 0), None)
        else:
            enter = min(range(width - 1), key=obj.__getitem__)
            enter = enter if obj[enter] < 0 else None
        if enter is None:
            break
        row = -1
        for i in range(n):
            a = T[i][enter]
            if a > 0 and (row < 0 or T[i][-1] * T[row][enter] < T[row][-1] * a
                          or (T[i][-1] * T[row][enter] == T[row][-1] * a and basis[i] < basis[row])):
                row = i
        if row < 0:
            raise SolverError("the winner LP is unbounded (impossible for a valid game)")
        degenerate = degenerate + 1 if T[row][-1] == 0 else 0
        bland = bland or degenerate > 2 * n
        p, prow = T[row][enter], T[row]
        for i in range(n + 1):
            if i == row:
                continue
            ti = T[i]
            f = ti[enter]
            if f == 0:
                T[i] = [(v * p) // det for v in ti] if p != det else ti
            else:
                T[i] = [(v * p - f * w) // det for v, w in zip(ti, prow)]
        obj = T[n]
        det = p
        basis[row] = enter
        pivots += 1
        if on_pivot is not None:
            on_pivot(pivots)
    u = [Fraction(0)] * n
    for i, j in enumerate(basis):
        if j < n:
            u[j] = Fraction(T[i][-1], det)
    total = sum(u, Fraction(0))
    if total <= 0:
        raise SolverError("the winner LP returned u = 0 (impossible for a valid game)")
    return tuple(x / total for x in u)
