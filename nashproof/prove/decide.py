"""Deciding one box: a counterexample at its centre, a mean-value enclosure, or the second-order test at π*.

For a statement ``lhs ≤ rhs`` the margin m = rhs − lhs must be ≥ 0 on the box (> 0 for ``<``).

- **centre**: m at the box's centre, an exact rational point, in balls; below 0 for certain: a counterexample.
- **centred**: the best of the plain interval extension, the mean-value form and the second-order
  Taylor form at the centre (:func:`mean_value_lower`); proved when its lower end is ≥ 0.
- **second-order at π***: when m and ∇m vanish exactly at π* (m is a polynomial in KL-type quantities
  that vanish to second order there), a box inside the neighbourhood N of π* on which m's Hessian is
  certified positive definite (:mod:`nashproof.prove.star`) is proved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from flint import arb

from ..numbers import fraction_str
from .ad import Dual
from .boxes import Box, q
from .problem import Context
from .star import box_values, neighbourhood

PROVED, DISPROVED, SPLIT = "proved", "disproved", "split"
CENTRED, AT_STAR = "centred", "second-order at pi*"


@dataclass
class Decision:
    """The outcome of one box (plain data: picklable, printable)."""

    status: str
    methods: list[str] = field(default_factory=list)  # per statement, for a proved box
    lowers: list[str] = field(default_factory=list)  # per statement: the deciding lower bound (a rational)
    ratio: float | None = None  # the largest lhs/rhs at the centre (tightness)
    statement: int = -1  # disproved: which statement
    margin: str = ""  # disproved: the margin's enclosure at the centre
    point: tuple[Fraction, ...] = ()
    params: tuple[tuple[str, Fraction], ...] = ()  # disproved over a parameter box: the exact parameters
    split: int | None = None  # undecided: the dimension to halve (None: the least-halved one)


def arb_text(x: arb, digits: int = 8) -> str:
    return str(x.str(digits, radius=True))


def lower_rational(x: arb) -> Fraction:
    """An exact rational ≤ every point of the ball."""
    m, e = x.lower().mid().man_exp()
    man, exp = int(m), int(e)
    return Fraction(man * 2**exp) if exp >= 0 else Fraction(man, 2**-exp)


def evaluate_point(ctx: Context, point: tuple[Fraction, ...]) -> list[tuple[arb, arb, arb]]:
    """(lhs, rhs, margin) of each statement at an exact point, in balls."""
    z = [Dual(q(x), (), None) for x in point]
    vals = ctx.model.values(z, ctx.names)
    flat: dict[str, Dual | arb] = {k: (v.val if isinstance(v, Dual) else v) for k, v in vals.items()}
    return [(_val(s.lhs(flat)), _val(s.rhs(flat)), _val(s.margin(flat))) for s in ctx.statements]


def _val(x: Dual | arb) -> arb:
    return x.val if isinstance(x, Dual) else x


def centre_check(at_point: list[tuple[arb, arb, arb]], strict: list[bool]) -> tuple[int | None, float | None]:
    """At an exact point: the first statement whose margin is certainly < 0 (≤ 0 for ``<``), or None, and the
    largest lhs/rhs (tightness) over the statements with lhs ≥ 0 < rhs."""
    ratio = None
    for i, (lhs, rhs, m) in enumerate(at_point):
        if m < 0 or (strict[i] and m <= 0):
            return i, ratio
        if rhs > 0 and lhs >= 0:
            r = float((lhs / rhs).mid())
            ratio = r if ratio is None else max(ratio, r)
    return None, ratio


def mean_value_lower(ctx: Context, box: Box, centre_margins: list[arb], order: int = 2) -> list[arb]:
    """A lower bound (a ball's lower end) of each statement's margin over the box: the best of the
    plain interval extension, the mean-value form m(c) + ∇m(box)·δ and (``order`` 2), where m is twice
    differentiable on the box, the second-order form m(c) + ∇m(c)·δ + ½ δᵀ ∇²m(box) δ (|δ_i| ≤ r_i)."""
    vals = box_values(ctx, box.balls(), order)
    at_c: dict[str, Dual | arb] = {}
    if order >= 2:
        centre = [Dual.variable(q(x), i, box.dims, 1) for i, x in enumerate(box.centre())]
        at_c = ctx.model.values(centre, ctx.names)
    deltas = [q(r) * arb(0, 1) for r in box.halfwidths()]
    out = []
    for s, mc in zip(ctx.statements, centre_margins):
        m = s.margin(vals)
        if not isinstance(m, Dual):
            out.append(m.lower())
            continue
        best = m.val.lower() if m.val.is_finite() else arb(-1) / 0
        mv = mc
        for g, dz in zip(m.grad, deltas):
            mv = mv + g * dz
        best = _better(best, mv)
        mcd = s.margin(at_c) if at_c else None
        if m.hess is not None and isinstance(mcd, Dual):
            t2 = mc
            for i, dz in enumerate(deltas):
                t2 = t2 + mcd.grad[i] * dz
                for j, dw in enumerate(deltas):
                    t2 = t2 + m.hess[i][j] * (dz * dw if i != j else dz**2) / 2
            best = _better(best, t2)
        out.append(best)
    return out


def _better(low: arb, x: arb) -> arb:
    return x.lower() if x.is_finite() and (not low.is_finite() or x.lower() > low) else low


def decide(ctx: Context, box: Box) -> Decision:
    centre = box.centre()
    at_centre = evaluate_point(ctx, centre)
    bad, ratio = centre_check(at_centre, [s.strict for s in ctx.statements])
    if bad is not None:
        return Decision(DISPROVED, statement=bad, margin=arb_text(at_centre[bad][2]), point=centre)
    margins = [m for _, _, m in at_centre]
    lowers = mean_value_lower(ctx, box, margins, 1)
    if not all(holds(low, s.strict) for low, s in zip(lowers, ctx.statements)):
        lowers = mean_value_lower(ctx, box, margins, 2)
    methods, texts = [], []
    for i, low in enumerate(lowers):
        s = ctx.statements[i]
        if holds(low, s.strict):
            methods.append(CENTRED)
            texts.append(fraction_str(lower_rational(low)))
        elif _near_star(ctx, box, i):
            methods.append(AT_STAR)
            texts.append("0")
        else:
            return Decision(SPLIT, ratio=ratio)
    return Decision(PROVED, methods, texts, ratio=ratio)


def _near_star(ctx: Context, box: Box, index: int) -> bool:
    found = neighbourhood(ctx, index) if ctx.statements[index].second_order else None
    return found is not None and found.holds(box)


def holds(low: arb, strict: bool) -> bool:
    return bool(low > 0 or (low >= 0 and not strict))


def recheck(ctx: Context, box: Box, methods: list[str]) -> str | None:
    """Re-decide a certificate's box with the methods it names (no search). None when it holds, else why not."""
    if len(methods) != len(ctx.statements):
        return f"names {len(methods)} methods for {len(ctx.statements)} statements"
    at_centre = evaluate_point(ctx, box.centre())
    lowers = mean_value_lower(ctx, box, [m for _, _, m in at_centre], 2)
    for i, method in enumerate(methods):
        s = ctx.statements[i]
        if method == CENTRED:
            if not holds(lowers[i], s.strict):
                return f"statement {i + 1}: the centred enclosure's lower end {arb_text(lowers[i], 6)} is not ≥ 0"
        elif method == AT_STAR:
            if not _near_star(ctx, box, i):
                return f"statement {i + 1}: the box is not inside the certified neighbourhood of π*"
        else:
            return f"statement {i + 1}: unknown method {method!r}"
    return None
