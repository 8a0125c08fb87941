"""An exact von Neumann winner (β = 0): a float LP for the support, then an exact solve on it.

The fast path (:func:`lp_winner`): scipy's HiGHS solves the LP below in float64; its support S and
tight rows T fix the winner's linear system M_TS u_S = D·𝟙, which is solved exactly over the
rationals by python-flint (``fmpz_mat.solve``, or the reduced row echelon form when T ≠ S), and
the candidate is verified exactly (π ≥ 0, Σπ = 1, and M·w ≤ D·L/2 in integers for π = w/L, one
``fmpz_mat`` product). When the float LP's support does not give a verified winner (a degenerate
game, a tie the tolerance misjudged), the exact simplex below runs instead; the result says which.

The exact simplex (:func:`exact_winner`):

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

import numpy as np

from .errors import SolverError
from .games import Context

#: The two ways a winner is found, as reported in the output.
PATH_LP = "HiGHS float LP for the support, exact rational solve on it, exact verification"
PATH_SIMPLEX = "exact integer-pivoting simplex (the float LP's support did not verify)"


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


def integer_matrix(ctx: Context) -> tuple[list[list[int]], int]:
    """(M, D) with P = M/D exactly: D the common denominator of the preference entries.

    Family games share Fraction objects, so each distinct entry is scaled once.
    """
    P = ctx.preference
    D = math.lcm(*{p.denominator for row in P for p in row})
    scaled: dict[int, int] = {}
    M = []
    for row in P:
        out = []
        for p in row:
            v = scaled.get(id(p))
            if v is None:
                v = scaled[id(p)] = p.numerator * (D // p.denominator)
            out.append(v)
        M.append(out)
    return M, D


def verify_integer(M: list[list[int]], D: int, pi: tuple[Fraction, ...]) -> bool:
    """Exactly: π ≥ 0, Σπ = 1 and max_y (Mπ)_y ≤ D/2, i.e. P(y ≻ π) ≤ ½ for every y (integer products)."""
    from flint import fmpz_mat

    if any(p < 0 for p in pi) or sum(pi, Fraction(0)) != 1:
        return False
    L = math.lcm(*(p.denominator for p in pi))
    w = [p.numerator * (L // p.denominator) for p in pi]
    support = [j for j, x in enumerate(w) if x != 0]
    rows = fmpz_mat([[row[j] for j in support] for row in M])
    prod = rows * fmpz_mat(len(support), 1, [w[j] for j in support])
    bound = D * L
    return all(2 * int(v) <= bound for v in prod.entries())


def lp_winner(ctx: Context, on_pivot: Callable[[int], None] | None = None) -> tuple[tuple[Fraction, ...], str]:
    """A von Neumann winner, exactly verified, and the path that found it (:data:`PATH_LP` or :data:`PATH_SIMPLEX`).

    ``on_pivot`` reports the simplex's pivots when the fallback runs.
    """
    M, D = integer_matrix(ctx)
    candidate = _from_float_lp(ctx, M, D)
    if candidate is not None and verify_integer(M, D, candidate):
        return candidate, PATH_LP
    pi = exact_winner(ctx, on_pivot)
    if not verify_integer(M, D, pi):
        raise SolverError("exact verification of the von Neumann winner failed")
    return pi, PATH_SIMPLEX


def _from_float_lp(ctx: Context, M: list[list[int]], D: int) -> tuple[Fraction, ...] | None:
    """The exact solution of the system the float LP's support and tight rows define, or None."""
    from scipy.optimize import linprog

    from .backends import float_matrix

    P = float_matrix(ctx.preference)
    n = len(P)
    res = linprog(-np.ones(n), A_ub=P, b_ub=np.ones(n), bounds=(0, None), method="highs-ipm")
    if res.status != 0 or res.x is None:
        return None
    u = np.asarray(res.x, dtype=np.float64)
    scale = max(float(u.max()), 1e-300)
    support = [j for j in range(n) if u[j] > 1e-9 * scale]
    slack = 1 - P @ u
    tight = [i for i in np.argsort(slack, kind="stable").tolist() if slack[i] <= 1e-9]
    if not support or len(tight) < len(support):
        return None
    return _exact_solve(M, D, n, support, tight)


def _exact_solve(M: list[list[int]], D: int, n: int, support: list[int],
                 tight: list[int]) -> tuple[Fraction, ...] | None:
    """u_S with M_TS u_S = D·𝟙 (u = 0 off S), normalised to a distribution; None when not unique or not ≥ 0."""
    from flint import fmpz_mat

    k = len(support)
    try:
        if len(tight) == k:
            A = fmpz_mat([[M[i][j] for j in support] for i in tight])
            sol = A.solve(fmpz_mat(k, 1, [D] * k))
            values = [Fraction(int(q.p), int(q.q)) for q in sol.entries()]
        else:
            aug = fmpz_mat([[M[i][j] for j in support] + [D] for i in tight])
            R, den, rank = aug.rref()
            if rank != k or any(R[r, c] != (den if r == c else 0) for r in range(k) for c in range(k)):
                return None  # not a unique solution, or inconsistent (the pivot of the rhs column)
            values = [Fraction(int(R[r, k]), int(den)) for r in range(k)]
    except (ZeroDivisionError, ValueError):
        return None
    total = sum(values, Fraction(0))
    if total <= 0 or any(v < 0 for v in values):
        return None
    out = [Fraction(0)] * n
    for j, v in zip(support, values):
        out[j] = v / total
    return tuple(out)
