"""A box around π* on which a margin is convex; there the margin is ≥ 0.

When a margin and its gradient vanish exactly at π* (see ``Statement.second_order``), and its Hessian
is positive definite on a convex set N holding π*, then m(z) = (z − z*)ᵀ[∫₀¹(1−t)∇²m(z* + t(z − z*))dt](z − z*)
≥ 0 for every z in N. N is a box around π*'s logits; its Hessian is certified by bisecting N until each
part's Hessian enclosure is positive definite for every symmetric matrix in it. Every box inside N
is then proved at once, which removes the rings of ever smaller boxes the centred forms need near π*.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from flint import arb, arb_mat

from .ad import Dual
from .boxes import Box, q
from .problem import Context

#: Half-widths tried for N (in logits), largest first, and the most parts one try may use.
RADII = (Fraction(1, 128), Fraction(1, 512), Fraction(1, 2048))
MAX_PARTS = 256


@dataclass
class Neighbourhood:
    box: Box
    parts: list[Box]

    def holds(self, box: Box) -> bool:
        return all(a >= b for a, b in zip(box.lo, self.box.lo)) and all(a <= b for a, b in zip(box.hi, self.box.hi))


def box_values(ctx: Context, balls: list[arb], order: int) -> dict[str, Dual | arb]:
    d = len(balls)
    z = [Dual.variable(b, i, d, order) for i, b in enumerate(balls)]
    return ctx.model.values(z, ctx.names)


def positive_definite(H: tuple[tuple[arb, ...], ...]) -> bool:
    """Every symmetric matrix within the balls H is positive definite (midpoint minus a spectral bound
    of the radii, then Sylvester's criterion in balls)."""
    d = len(H)
    sym = [[H[i][j].union(H[j][i]) for j in range(d)] for i in range(d)]
    if not all(x.is_finite() for row in sym for x in row):
        return False
    t = arb(0)
    for row in sym:
        t = t.max(sum((x.rad() for x in row), arb(0)))  # ‖ΔH‖₂ ≤ max row sum of |ΔH| for symmetric ΔH
    M = [[sym[i][j].mid() - (t if i == j else 0) for j in range(d)] for i in range(d)]
    return all(arb_mat([row[:k] for row in M[:k]]).det() > 0 for k in range(1, d + 1))


def hessian_pd(ctx: Context, box: Box, index: int) -> bool:
    m = ctx.statements[index].margin(box_values(ctx, box.balls(), 2))
    return isinstance(m, Dual) and m.hess is not None and positive_definite(m.hess)


def holds_star(ctx: Context, box: Box) -> bool:
    """π*'s logits lie strictly inside the box."""
    return all(zs > q(lo) and zs < q(hi) for zs, lo, hi in zip(ctx.zstar, box.lo, box.hi))


def certify_parts(ctx: Context, region: Box, index: int, max_parts: int) -> list[Box] | None:
    parts: list[Box] = []
    frontier = [region]
    while frontier:
        b = frontier.pop()
        if hessian_pd(ctx, b, index):
            parts.append(b)
        elif len(parts) + len(frontier) >= max_parts:
            return None
        else:
            frontier.extend(b.split())
    return parts


def find_neighbourhood(ctx: Context, index: int) -> Neighbourhood | None:
    """The largest N of :data:`RADII` whose Hessian is certified, or None."""
    centre = [Fraction(round(float(z.mid()) * 2**24), 2**24) for z in ctx.zstar]
    for rho in RADII:
        region = Box.region([c - rho for c in centre], [c + rho for c in centre])
        if not holds_star(ctx, region):
            continue
        parts = certify_parts(ctx, region, index, MAX_PARTS)
        if parts is not None:
            return Neighbourhood(region, parts)
    return None


def neighbourhood(ctx: Context, index: int) -> Neighbourhood | None:
    """N for a statement (found once per process and kept in the context)."""
    if index not in ctx.neighbourhoods:
        s = ctx.statements[index]
        ctx.neighbourhoods[index] = find_neighbourhood(ctx, index) if s.second_order else None
    found: Neighbourhood | None = ctx.neighbourhoods[index]  # type: ignore[assignment]
    return found


def prepare(ctx: Context) -> None:
    for i in range(len(ctx.statements)):
        neighbourhood(ctx, i)
