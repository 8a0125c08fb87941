"""Parameters as boxes: β, η and a 2-action game's p and r become extra dimensions of the region.

A region is z × θ: the free logits z first, then the ranged parameters θ in the order p, r, β, η
(only those given as ranges). ``--eta a*max:b*max`` ranges over the fraction t of η̄(β) =
2(β + √(1+β²)) at each β, so the region stays a box: η = t·η̄(β).

On a box, the parameters enter as balls (the interval extension in θ), the centred forms act on z
only: for every θ in the box the z-forms hold, so their ball evaluation holds for all of them.
π* over a parameter box:

- **2 actions** (P = [[1/2, p], [1 − p, 1/2]], every 2-action preference game): the field's
  difference (Pπ)_1 − (Pπ)_2 = (p − 1/2)(π_1 + π_2) = p − 1/2 does not depend on π, so the fixed point
  π* = softmax(log π_ref + Pπ*/β) has the closed form z* = log(r/(1 − r)) + (p − 1/2)/β, enclosed
  over the box in balls (no Newton step needed; the Krawczyk enclosure is the degenerate case).
- **n > 2**: π* depends on β and P only, so η may range with β and the game fixed (π* certified
  once); a β range there is refused.

Near π* a KL-type margin vanishes for every θ; a box is proved there when the Hessian in z of the
margin, enclosed over the hull H of the z-box and the enclosure of z*(θ) and over the θ-box, is
positive definite: then for each θ the segment from z*(θ) to any z of the box lies in H, and
m(z, θ) = ∫(1−t)(z − z*)ᵀ∇²m(z* + t(z − z*), θ)(z − z*) dt ≥ 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import cast

import sympy as sp
from flint import arb

from ..claims import SYMBOLS
from ..errors import InputError
from ..numbers import fraction_str
from .ad import Dual
from .boxes import Box, q
from .compile import Num, compile_margin, margin_expr
from .decide import (
    CENTRED,
    DISPROVED,
    PROVED,
    SPLIT,
    Decision,
    arb_text,
    centre_check,
    evaluate_point,
    holds,
    lower_rational,
)
from .model import Model
from .problem import Context, Spec, context
from .star import positive_definite

#: The parameters a range may be given for, in the order of their dimensions.
ORDER = ("p", "r", "beta", "eta")
#: The method of a box proved next to π* over a parameter box.
AT_STAR_HULL = "second-order on the hull with pi*"


@dataclass(frozen=True)
class ParamSpec:
    """A problem whose parameters range over a box (picklable)."""

    base: Spec  # the game, β and η at the region's lower corner (the claim, solver and precision too)
    ranges: tuple[tuple[str, Fraction, Fraction], ...]  # (name, lo, hi) in ORDER; eta in units of η̄ if eta_max
    eta_max: bool = False

    @property
    def n(self) -> int:
        return len(self.base.ref)

    @property
    def names(self) -> list[str]:
        return [("eta/max" if nm == "eta" and self.eta_max else nm) for nm, _, _ in self.ranges]

    def text(self) -> str:
        parts = []
        for nm, lo, hi in self.ranges:
            if nm == "eta" and self.eta_max:
                parts.append(f"η ∈ [{fraction_str(lo)}·η̄(β), {fraction_str(hi)}·η̄(β)]")
            else:
                parts.append(f"{dict(beta='β', eta='η').get(nm, nm)} ∈ [{fraction_str(lo)}, {fraction_str(hi)}]")
        return ", ".join(parts)


def eta_bar(beta: Num) -> Num:
    return 2 * (beta + (1 + beta * beta).sqrt())


def two_action_p(P: tuple[tuple[Fraction, ...], ...]) -> Fraction:
    if not (P[0][0] == P[1][1] == Fraction(1, 2) and P[0][1] + P[1][0] == 1):
        raise InputError("a 2-action game needs P = [[1/2, p], [1 − p, 1/2]] for parameter ranges")
    return P[0][1]


def make_param_spec(base: Spec, ranges: dict[str, tuple[Fraction, Fraction]], eta_max: bool) -> ParamSpec:
    for nm, (lo, hi) in ranges.items():
        if nm not in ORDER:
            raise InputError(f"no range for {nm}: prove ranges over {', '.join(ORDER)}")
        if not lo < hi:
            raise InputError(f"{nm}: empty or reversed range [{fraction_str(lo)}, {fraction_str(hi)}]")
    if base.ref and len(base.ref) == 2:
        two_action_p(base.P)
    elif set(ranges) - {"eta"}:
        raise InputError(f"ranges of {', '.join(sorted(set(ranges) - {'eta'}))} need π* over a parameter box, "
                         "built for 2-action games only (give one value, or a 2-action game)")
    checks = {"p": (Fraction(0), Fraction(1), True), "r": (Fraction(0), Fraction(1), False),
              "beta": (Fraction(0), Fraction(10**6), False), "eta": (Fraction(0), Fraction(10**6), True)}
    for nm, (lo, hi) in ranges.items():
        low, high, closed = checks[nm]
        if lo < low or hi > high or (not closed and (lo == low or hi == high)):
            raise InputError(f"{nm} range [{fraction_str(lo)}, {fraction_str(hi)}] must lie "
                             f"{'in' if closed else 'strictly inside'} [{fraction_str(low)}, {fraction_str(high)}]")
    if eta_max and "eta" in ranges and ranges["eta"][1] > 1:
        raise InputError("--eta a*max:b*max needs b ≤ 1 (η ≤ η̄(β))")
    return ParamSpec(base, tuple((nm, *ranges[nm]) for nm in ORDER if nm in ranges), eta_max)


def region(spec: ParamSpec, logits: Fraction) -> Box:
    d = spec.n - 1
    return Box.region([-logits] * d + [lo for _, lo, _ in spec.ranges], [logits] * d + [hi for _, _, hi in spec.ranges])


def _values(spec: ParamSpec, theta: dict[str, Num]) -> tuple[Num | None, Num, Num, Num]:
    """(p or None for n > 2, r or None, β, η) as balls."""
    b = spec.base
    p = theta.get("p", q(b.P[0][1])) if spec.n == 2 else None
    r = theta.get("r", q(b.ref[0])) if spec.n == 2 else None
    beta = theta.get("beta", q(b.beta))
    if "eta" in theta:
        eta = theta["eta"] * eta_bar(beta) if spec.eta_max else theta["eta"]
    else:
        eta = q(b.eta)
    return p, r, beta, eta  # type: ignore[return-value]


def context_over(spec: ParamSpec, theta: dict[str, Num]) -> Context:
    """The problem with the parameters ``theta`` (balls, or Duals: derivatives in θ then flow through)."""
    base = context(spec.base)
    p, r, beta, eta = _values(spec, theta)
    P: list[list[Num]] | list[list[arb]]
    ref: list[Num] | list[arb]
    logstar: list[Num] | list[arb]
    zstar: list[Num] | list[arb]
    if spec.n == 2:
        assert p is not None and r is not None
        half = arb(1) / 2
        P = [[half, p], [1 - p, half]]
        ref = [r, 1 - r]
        zs = (r / (1 - r)).log() + (p - half) / beta
        logstar = [-(1 + (-zs).exp()).log(), -(1 + zs.exp()).log()]
        zstar = [zs]
    else:
        P, ref, logstar, zstar = base.model.P, base.model.ref, base.model.logstar, base.zstar
    min_ref = ref[0] if spec.n != 2 else q(min(spec.base.ref))
    if spec.n == 2 and "r" in theta:
        r_ = theta["r"]  # min π_ref varies with r: a Dual too, so the centred forms see its slope
        min_ref = r_.minimum(1 - r_) if isinstance(r_, Dual) else r_.min(1 - r_)
    constants = {"beta": beta, "eta": eta, "n": arb(spec.n), "min_ref": min_ref}
    # Model is typed with balls; Duals in θ go through the same operations (ad.Dual mirrors arb's)
    model = Model(cast(list[list[arb]], P), [cast(arb, x).log() for x in ref], cast(list[arb], ref),
                  cast(list[arb], logstar), [cast(arb, s).exp() for s in logstar], cast(arb, beta), cast(arb, eta),
                  spec.base.solver, cast(dict[str, arb], constants))
    return Context(spec.base, model, base.statements, base.names, cast(list[arb], zstar))


def point_values(spec: ParamSpec, box: Box) -> dict[str, Fraction]:
    """Exact parameters at the box's centre (η = t·η̄(β) rounded down to a rational in ``eta_max`` mode)."""
    d = spec.n - 1
    out = {nm: c for (nm, _, _), c in zip(spec.ranges, box.centre()[d:])}
    if spec.eta_max and "eta" in out:
        bar = cast(arb, eta_bar(q(out.get("beta", spec.base.beta))))
        low = lower_rational(q(out["eta"]) * bar)  # ≤ t·η̄(β), shortened to a 2^-24 grid (still ≤)
        out["eta"] = max(Fraction(0), Fraction(math.floor(low * 2**24), 2**24))
    return out


def full_point(spec: ParamSpec, exact: dict[str, Fraction]) -> dict[str, Fraction]:
    """Every parameter's exact value at a point (the fixed ones from the base problem)."""
    b = spec.base
    out = {"beta": exact.get("beta", b.beta), "eta": exact.get("eta", b.eta)}
    if spec.n == 2:
        out["p"], out["r"] = exact.get("p", b.P[0][1]), exact.get("r", b.ref[0])
    return out


def check_hypotheses_over(spec: ParamSpec, box: Box) -> None:
    """Every hypothesis of the claim holds on the whole parameter box, certified in balls (the
    Nash-MP step bound (η/2)² ≤ 1 + ηβ holds for η ∈ [0, η̄(β)] by η̄'s definition as its positive root,
    so ``eta_max`` ranges with b ≤ 1 satisfy it)."""
    from ..claims.catalogue import STEP_OK

    ctx = context_over(spec, dict(zip([nm for nm, _, _ in spec.ranges], box.balls()[spec.n - 1:])))
    for h in spec.base.claim.hypotheses:
        if spec.eta_max and h == STEP_OK:
            continue
        if not isinstance(h, sp.Rel):
            raise InputError(f"{spec.base.claim.id}: hypothesis {sp.sstr(h)} cannot be checked over a box")
        expr, strict = margin_expr(h)
        names = {SYMBOLS[s][0] for s in expr.free_symbols if s in SYMBOLS}
        if not names <= set(ctx.model.constants):
            raise InputError(f"{spec.base.claim.id}: hypothesis {sp.sstr(h)} reads more than β, η, n and min π_ref")
        low = compile_margin(expr)(dict(ctx.model.constants))
        if not (isinstance(low, arb) and holds(low, strict)):
            raise InputError(f"{spec.base.claim.id}: hypothesis {sp.sstr(h)} is not certified over {spec.text()} "
                             "(narrow the ranges, or --ignore-hypotheses)")


def _split_box(spec: ParamSpec, box: Box) -> tuple[Box, dict[str, arb]]:
    d = spec.n - 1
    zbox = Box(box.lo[:d], box.hi[:d], box.depth[:d])
    return zbox, dict(zip([nm for nm, _, _ in spec.ranges], box.balls()[d:]))


def _hull_pd(ctx: Context, zbox: Box, index: int) -> bool:
    if not all(zs.is_finite() for zs in ctx.zstar):
        return False
    ends = [(min(lo, lower_rational(zs)), max(hi, -lower_rational(-zs))) for lo, hi, zs in
            zip(zbox.lo, zbox.hi, ctx.zstar)]
    # mid ± rad of the exact end points (as tight as arb's union, measured)
    hull = [q((a + b) / 2) + q((b - a) / 2) * arb(0, 1) for a, b in ends]
    z = [Dual.variable(b, i, len(hull), 2) for i, b in enumerate(hull)]
    m = ctx.statements[index].margin(ctx.model.values(z, ctx.names))
    return isinstance(m, Dual) and m.hess is not None and positive_definite(m.hess)


def _full(spec: ParamSpec, balls: list[arb], order: int) -> list[Num]:
    """Each statement's margin with every dimension (logits and parameters) a Dual variable."""
    d, dims = spec.n - 1, len(balls)
    xs = [Dual.variable(b, i, dims, order) for i, b in enumerate(balls)]
    ctx = context_over(spec, dict(zip([nm for nm, _, _ in spec.ranges], xs[d:])))
    vals = ctx.model.values(xs[:d], ctx.names)
    return [s.margin(vals) for s in ctx.statements]


def lower_bounds(spec: ParamSpec, box: Box) -> list[arb]:
    """The best of the interval extension, the mean-value form and the second-order form in every
    dimension (logits and parameters) of each margin's lower end over the box."""
    return _bounds(spec, box)[0]


def _bounds(spec: ParamSpec, box: Box) -> tuple[list[arb], int | None]:
    statements = context(spec.base).statements
    return centred_bounds(lambda balls, order: _full(spec, balls, order), box, [s.strict for s in statements])


def centred_bounds(full: Callable[[list[arb], int], list[Num]], box: Box,
                   strict: list[bool]) -> tuple[list[arb], int | None]:
    """Each margin's lower end over the box (the best of the interval extension, the mean-value form and
    the second-order form in every dimension; ``full(balls, order)`` gives the margins with every
    dimension a Dual variable) and the dimension whose width costs the margins most in the
    second-order form (|∂m/∂x_i| at the centre times the half-width r_i, plus Σ_j |∂²m/∂x_i∂x_j| over
    the box r_i r_j / 2): the one to halve; the first-order share |∂m/∂x_i| over the box times r_i
    where a Hessian entry is not finite; None when neither is known."""
    deltas = [q(r) * arb(0, 1) for r in box.halfwidths()]
    centre = [q(c) for c in box.centre()]
    at_c = full(centre, 1)
    out: list[arb] = []
    cost = [0.0] * box.dims
    first = [0.0] * box.dims
    for order in (1, 2):
        over = full(box.balls(), order)
        out = []
        for mc, m in zip(at_c, over):
            if not isinstance(m, Dual) or not isinstance(mc, Dual):
                out.append(cast(arb, m).lower())
                continue
            best = m.val.lower() if m.val.is_finite() else arb(-1) / 0
            mv = mc.val
            for i, (g, dz) in enumerate(zip(m.grad, deltas)):
                mv = mv + g * dz
                first[i] += _width(g * dz) if order == 1 else 0.0
            best = _better(best, mv)
            if order == 2 and m.hess is not None:
                t2 = mc.val
                for i, dz in enumerate(deltas):
                    t2 = t2 + mc.grad[i] * dz
                    for j, dw in enumerate(deltas):
                        term = m.hess[i][j] * (dz * dw if i != j else dz**2) / 2
                        t2 = t2 + term
                        cost[i] += _width(term)  # dimension i's share of the second-order form's width
                    cost[i] += _width(mc.grad[i] * dz)
                best = _better(best, t2)
            out.append(best)
        if all(holds(low, s) for low, s in zip(out, strict)):
            break
    for c in (cost, first):
        if all(math.isfinite(x) for x in c) and max(c) > 0:
            return out, max(range(box.dims), key=lambda i: (c[i], -i))
    return out, None


def _width(x: arb) -> float:
    return float(abs(x).upper()) if x.is_finite() else math.inf


def _better(low: arb, x: arb) -> arb:
    return x.lower() if x.is_finite() and (not low.is_finite() or x.lower() > low) else low


def decide_param(spec: ParamSpec, box: Box) -> Decision:
    zbox, theta = _split_box(spec, box)
    centre = zbox.centre()
    exact = point_values(spec, box)
    statements = context(spec.base).statements
    at_point = evaluate_point(context_over(spec, {nm: q(v) for nm, v in exact.items()}), centre)
    bad, ratio = centre_check(at_point, [s.strict for s in statements])
    if bad is not None:
        return Decision(DISPROVED, statement=bad, margin=arb_text(at_point[bad][2]), point=centre,
                        params=tuple(sorted(full_point(spec, exact).items())))
    ctx = context_over(spec, dict(theta))
    lowers, dim = _bounds(spec, box)
    methods, texts = [], []
    for i, low in enumerate(lowers):
        s = ctx.statements[i]
        if holds(low, s.strict):
            methods.append(CENTRED)
            texts.append(fraction_str(lower_rational(low)))
        elif s.second_order and _hull_pd(ctx, zbox, i):
            methods.append(AT_STAR_HULL)
            texts.append("0")
        else:
            return Decision(SPLIT, ratio=ratio, split=dim)
    return Decision(PROVED, methods, texts, ratio=ratio)


def recheck_param(spec: ParamSpec, box: Box, methods: list[str]) -> str | None:
    """Re-decide a certificate's box with the methods it names (fresh arithmetic, no search): None when
    each statement is decided by its method, else why not."""
    statements = context(spec.base).statements
    if len(methods) != len(statements):
        return f"names {len(methods)} methods for {len(statements)} statements"
    zbox, theta = _split_box(spec, box)
    lowers = lower_bounds(spec, box)
    ctx = context_over(spec, dict(theta))
    for i, (method, low) in enumerate(zip(methods, lowers)):
        s = statements[i]
        if method == CENTRED:
            if not holds(low, s.strict):
                return f"statement {i + 1}: the centred enclosure's lower end {arb_text(low, 6)} is not ≥ 0"
        elif method == AT_STAR_HULL:
            if not (s.second_order and _hull_pd(ctx, zbox, i)):
                return (f"statement {i + 1}: the Hessian on the hull of the box and π* is not certified "
                        "positive definite")
        else:
            return f"statement {i + 1}: unknown method {method!r}"
    return None
