"""The 2-action reduction: a claim over a parameter box decided in three coordinates (δ, z*, c).

On 2 actions every preference game is P = [[1/2, p], [1 − p, 1/2]], and the field's difference
(Pπ)_1 − (Pπ)_2 = p − 1/2 does not depend on π. So π*'s logit is z* = log(r/(1 − r)) + (p − 1/2)/β,
and one step of each solver prove writes out is exactly affine in the logit z of π = softmax(z, 0):

    z_next − z* = c·(z − z*),  c = 1/(1 + ηβ) (Nash-MP, both half-steps; MMD),  c = 1 − ηβ (Nash-MD).

Every KL-geometry quantity of π and of its step is then a function of (δ = z − z*, z*, c) alone, with
sp(x) = log(1 + eˣ) and σ = sp' (a Bregman divergence of sp):

    KL(π*‖π) = sp(z) − sp(z*) − σ(z*)δ,   KL(π‖π*) = sp(z*) − sp(z) + σ(z)δ,
    ‖π − π*‖₁ = 2|σ(z) − σ(z*)|,   span(log π − log π*) = |δ|,
    and the step quantities at δ replaced by cδ.

A claim whose statements, once η is written through c (η = (1 − c)/(cβ), or (1 − c)/β for Nash-MD),
read only these quantities, c and n (not β, η, min π_ref or an exploitability) is decided on a box
Δ × Z × C, where Z and C enclose z*(θ) and c(θ) over the parameter box θ and Δ = [−L − max Z, L − min Z]:
a superset of the image of the region, so a proof here proves the claim on the region. A negative
margin here is not a counterexample (it may lie outside the image): the search then returns to the
original coordinates. Five dimensions become three, and p, r and 1/β no longer wrap.

A box is proved, for each statement m, by the first of:

- **concave**: m is a polynomial in c, is ≥ 0 identically at c = 0 (the step lands on π*: the step
  quantities are 0) and at c = 1 (the step is the identity: they equal the point quantities), both
  by exact algebra once per claim, and ∂²m/∂c² ≤ 0 over the box's δ and z* ranges for every c in
  [0, 1]: a concave function of c that is ≥ 0 at both ends is ≥ 0 between them;
- **centred**: the centred forms in (δ, z*, c) (:func:`nashproof.prove.params.centred_bounds`);
- **hull**: m and ∂m/∂δ vanish at δ = 0 for every (z*, c) (``second_order``) and ∂²m/∂δ² > 0 on the
  hull of the box's δ range and 0: m(δ) = δ²∫(1−t)m''(tδ)dt ≥ 0;
- **face**: m ≥ 0 at c = 1 (as above) and g = −∂m/∂c ≥ 0 on the box stretched up to c = 1, since
  m(c) = m(1) + ∫_c^1 g. g ≥ 0 by its centred form (from m's Hessian row in c), or, next to δ = 0
  where g and ∂g/∂δ vanish too (c-derivatives of functions that vanish for every c), by ∂²g/∂δ² > 0
  on the hull, evaluated with one more derivative along c (:class:`~nashproof.prove.tangent.Tangent`).

A box where z = z* + δ misses [−L, L] holds no point of the region (**empty**). The rules remove the
places where the margin of a contraction claim vanishes, δ = 0 (π = π*) and c = 1 (η = 0), where in
the original coordinates no box ever closes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeVar, cast

import sympy as sp
from flint import arb
from flint import ctx as flint_ctx

from ..claims import KL as KL_sym
from ..claims import L1 as L1_sym
from ..claims import SYMBOLS, Span, Span_next
from ..claims import KL_next as KL_next_sym
from ..claims import L1_half as L1_half_sym
from ..claims import beta as beta_sym
from ..claims import eta as eta_sym
from ..numbers import fraction_str
from .ad import Dual
from .boxes import Box, q
from .compile import Margin, Num, compile_margin, margin_expr
from .decide import CENTRED, PROVED, SPLIT, Decision, arb_text, centre_check, holds, lower_rational
from .params import ParamSpec, centred_bounds, context_over
from .problem import second_order_at_star
from .star import positive_definite
from .tangent import NotSmooth, Tangent

#: The coordinates of a reduced box.
COORDINATES = ("δ", "z*", "c")
#: What a reduced claim may read.
QUANTITIES = frozenset({"kl", "kl_reverse", "l1", "l1_sq", "span", "kl@next", "span@next", "l1_half", "n"})
HULL = "second-order in delta on the hull with 0"
FACE = "face c = 1: -dm/dc >= 0 (centred form)"
FACE_HULL = "face c = 1: -dm/dc convex in delta on the hull with 0"
OUTSIDE = "empty: z = z* + delta misses [-L, L]"
CONCAVE = "concave in c on [0, 1], >= 0 at c = 0 and c = 1"
METHODS = (CONCAVE, CENTRED, HULL, FACE, FACE_HULL)
#: A reduced box whose centre has a negative margin: the reduction cannot prove the claim.
NEGATIVE = "negative"
C_NAME = "c"


@dataclass(frozen=True)
class ReducedSpec:
    """A parameter-box problem on 2 actions, decided over ``region`` in (δ, z*, c) (picklable)."""

    params: ParamSpec
    logits: Fraction  # L: π's logit z = z* + δ lies in [−L, L]
    region: Box

    def outside(self, box: Box) -> bool:
        """No point of the box has z = z* + δ in [−L, L]: nothing to prove there."""
        return box.lo[0] + box.lo[1] > self.logits or box.hi[0] + box.hi[1] < -self.logits


@dataclass
class RStatement:
    strict: bool
    margin: Margin
    sides: tuple[Margin, Margin] | None  # lhs and rhs, when each reduces on its own (for the tightness ratio)
    second_order: bool  # m and ∂m/∂δ vanish at δ = 0 for every (z*, c)
    face: bool  # m ≥ 0 identically at c = 1 (exact algebra)
    concave: bool  # also at c = 0, and m is a polynomial in c: a Hessian ∂²m/∂c² ≤ 0 then proves m ≥ 0


def _c_symbol(solver: str) -> sp.Symbol:
    return sp.Symbol("c_step", positive=True) if solver != "nash-md" else sp.Symbol("c_step_md")


def _through_c(expr: sp.Expr, solver: str) -> sp.Expr | None:
    """``expr`` with η written through the step factor c, or None when β, η or another parameter remains."""
    c = _c_symbol(solver)
    eta_c = (1 - c) / beta_sym if solver == "nash-md" else (1 - c) / (c * beta_sym)
    out = sp.cancel(sp.together(expr.subs(eta_sym, eta_c)))
    if beta_sym in out.free_symbols:
        out = sp.simplify(out)
    for s in out.free_symbols:
        if s != c and (s not in SYMBOLS or SYMBOLS[s][0] not in QUANTITIES):
            return None
    return cast(sp.Expr, out)


def _face_holds(expr: sp.Expr, solver: str, at: int) -> bool:
    """Is the margin ≥ 0 identically at c = ``at``, by exact algebra? At c = 1 the step is the identity:
    the step quantities equal the point quantities (Nash-MP's half-step too; the other solvers'
    ‖π_{k+½} − π*‖₁ is 0 by convention); at c = 0 the step lands on π*: they are 0."""
    zero = sp.Integer(0)
    if at == 1:
        values = {KL_next_sym: KL_sym, Span_next: Span, L1_half_sym: L1_sym if solver == "nash-mp" else zero}
    else:
        values = {KL_next_sym: zero, Span_next: zero, L1_half_sym: zero}
    value = sp.simplify(expr.subs(_c_symbol(solver), at).subs(values))
    return bool(value == 0 or value.is_nonnegative is True)


def why_not(spec: ParamSpec) -> str | None:
    """None when the reduction applies to this problem, else why not."""
    if spec.n != 2:
        return "it needs a 2-action game"
    for rel in spec.base.claim.statements:
        expr, _ = margin_expr(rel)
        if _through_c(expr, spec.base.solver) is None:
            return (f"{sp.sstr(rel)} reads more than the KL-geometry quantities of π and its step, the step "
                    "factor and n")
    return None


def _bounds_of(x: arb) -> tuple[Fraction, Fraction]:
    """Rationals on a 2^-32 grid below and above every point of the ball."""
    grid = 2**32
    lo, hi = lower_rational(x), -lower_rational(-x)
    return Fraction(math.floor(lo * grid), grid), Fraction(math.ceil(hi * grid), grid)


def reduction(spec: ParamSpec, logits: Fraction) -> ReducedSpec | None:
    """The reduced problem: outer rational bounds Z of z*(θ) and C of c(θ) over the parameter box, and
    δ ∈ [−L − max Z, L − min Z] (the boxes where z* + δ misses [−L, L] are decided as empty)."""
    if why_not(spec) is not None:
        return None
    flint_ctx.prec = spec.base.bits  # before any ball is made: the region must not depend on what ran before
    names = [nm for nm, _, _ in spec.ranges]
    theta = dict(zip(names, [q(a).union(q(b)) for _, a, b in spec.ranges]))
    zs = context_over(spec, cast(dict[str, Num], theta)).zstar[0]
    # c falls as η and β grow, and η = t·η̄(β) grows with t and β: c's ends are at the box's corners
    ends = []
    for corner in ([a for _, a, _ in spec.ranges], [b for _, _, b in spec.ranges]):
        k = context_over(spec, {nm: q(x) for nm, x in zip(names, corner)}).model.constants
        eb = k["eta"] * k["beta"]
        ends.append(1 - eb if spec.base.solver == "nash-md" else 1 / (1 + eb))
    c = ends[0].union(ends[1])
    zs_lo, zs_hi = _bounds_of(zs)
    c_lo, c_hi = _bounds_of(c)
    c_hi = min(c_hi, Fraction(1))  # c ≤ 1 exactly (η ≥ 0, β > 0); the ball may reach past it
    tiny = Fraction(1, 2**32)
    if zs_lo == zs_hi:
        zs_lo, zs_hi = zs_lo - tiny, zs_hi + tiny
    if c_lo >= c_hi:
        c_lo = c_hi - tiny
    return ReducedSpec(spec, logits, Box.region([-logits - zs_hi, zs_lo, c_lo], [logits - zs_lo, zs_hi, c_hi]))


# ------------------------------------------------------------------ the quantities in (z, z*, c)
X = Dual | Tangent
T = TypeVar("T", Dual, Tangent)


def values(solver: str, d: T, zs: T, c: T, names: frozenset[str]) -> dict[str, T | arb]:
    """Each quantity in ``names`` at π = softmax(z* + δ, 0), π* = softmax(z*, 0) and the step factor c."""
    out: dict[str, T | arb] = {"n": arb(2)}
    z = zs + d
    sp_s, sig_s = zs.softplus(), zs.sigmoid()
    if "kl" in names:
        out["kl"] = z.softplus() - sp_s - sig_s * d
    if "kl_reverse" in names:
        out["kl_reverse"] = sp_s - z.softplus() + z.sigmoid() * d
    if names & {"l1", "l1_sq"}:
        l1 = 2 * abs(z.sigmoid() - sig_s)
        out["l1"], out["l1_sq"] = l1, l1 * l1
    if "span" in names:
        out["span"] = abs(d)
    cd = c * d
    w = zs + cd
    if "kl@next" in names:
        out["kl@next"] = w.softplus() - sp_s - sig_s * cd
    if "span@next" in names:
        out["span@next"] = abs(cd)
    if "l1_half" in names:
        out["l1_half"] = 2 * abs(w.sigmoid() - sig_s) if solver == "nash-mp" else arb(0)
    return out


@dataclass
class RContext:
    spec: ReducedSpec
    statements: list[RStatement]
    names: frozenset[str]

    @property
    def solver(self) -> str:
        return self.spec.params.base.solver

    def margins(self, d: T, zs: T, c: T) -> list[X | arb]:
        vals: dict[str, X | arb] = dict(values(self.solver, d, zs, c, self.names))
        vals[C_NAME] = c
        return [cast(X | arb, s.margin(cast(dict[str, Num], vals))) for s in self.statements]

    def full(self, balls: list[arb], order: int) -> list[Num]:
        """The margins with δ, z* and c Dual variables over ``balls``."""
        d, zs, c = (Dual.variable(b, i, 3, order) for i, b in enumerate(balls))
        return cast(list[Num], self.margins(d, zs, c))


_CACHE: dict[ReducedSpec, RContext] = {}


def reduced_context(spec: ReducedSpec) -> RContext:
    if spec not in _CACHE:
        flint_ctx.prec = spec.params.base.bits
        solver = spec.params.base.solver
        csym = _c_symbol(solver)
        statements, names = [], set()
        for rel in spec.params.base.claim.statements:
            expr, strict = margin_expr(rel)
            red = _through_c(expr, solver)
            lhs, rhs = _through_c(rel.lhs, solver), _through_c(rel.rhs, solver)
            assert red is not None  # reduction() checked it
            extra = {csym: C_NAME}
            sides = None if lhs is None or rhs is None else (compile_margin(lhs, extra), compile_margin(rhs, extra))
            face = not strict and _face_holds(red, solver, 1)
            concave = face and _face_holds(red, solver, 0) and bool(red.is_polynomial(csym))
            statements.append(RStatement(strict, compile_margin(red, extra), sides,
                                         second_order_at_star(red) and not strict, face, concave))
            names |= {SYMBOLS[s][0] for s in red.free_symbols if s in SYMBOLS}
        _CACHE[spec] = RContext(spec, statements, frozenset(names))
    flint_ctx.prec = spec.params.base.bits
    return _CACHE[spec]


# ------------------------------------------------------------------ deciding a box
def _hull(box: Box) -> tuple[arb, arb, arb]:
    """The hull of the box's δ range and 0 (every segment from π* to π stays inside), z*, c."""
    lo, hi = min(box.lo[0], Fraction(0)), max(box.hi[0], Fraction(0))
    zs, c = box.balls()[1:]
    return q((lo + hi) / 2) + q((hi - lo) / 2) * arb(0, 1), zs, c


def _hull_pd(rc: RContext, box: Box, index: int) -> bool:
    zh, zs, c = _hull(box)
    z = Dual.variable(zh, 0, 1, 2)
    m = rc.margins(z, z.like(zs), z.like(c))[index]
    return isinstance(m, Dual) and m.hess is not None and positive_definite(m.hess)


def _face_hull_pd(rc: RContext, box: Box, index: int) -> bool:
    zh, zs, c = _hull(box)
    z = Dual.variable(zh, 0, 1, 2)
    zero = z.like(arb(0))
    try:
        m = rc.margins(Tangent(z, zero), Tangent(z.like(zs), zero), Tangent(z.like(c), z.like(arb(1))))[index]
    except NotSmooth:
        return False
    if not isinstance(m, Tangent):
        return False
    g = -m.der
    return g.hess is not None and positive_definite(g.hess)


def _face_centred(box: Box, at_c: Num, over: Num) -> arb | None:
    """An enclosure of −∂m/∂c over the box: −(∂_c m at the centre + ∇(∂_c m) over the box · δ), or
    −∂_c m over the box, whichever is tighter; None without derivatives."""
    if not isinstance(at_c, Dual) or not isinstance(over, Dual):
        return None
    plain = -over.grad[2]
    if over.hess is None:
        return plain
    mv = at_c.grad[2]
    for j, r in enumerate(box.halfwidths()):
        mv = mv + over.hess[2][j] * (q(r) * arb(0, 1))
    mv = -mv
    return mv if mv.is_finite() and (not plain.is_finite() or mv.lower() > plain.lower()) else plain


def _at_point(rc: RContext, point: tuple[Fraction, ...]) -> list[tuple[arb, arb, arb]]:
    """(lhs, rhs, margin) of each statement at an exact point; (−1, 0, margin) where the sides do not reduce
    on their own (say β + KL_next ≤ β + KL·c): no tightness ratio then."""
    d, zs, c = (Dual(q(x), (), None) for x in point)
    vals = dict(values(rc.solver, d, zs, c, rc.names))
    vals[C_NAME] = c
    flat = cast(dict[str, Num], {k: (v.val if isinstance(v, Dual) else v) for k, v in vals.items()})
    out = []
    for s in rc.statements:
        lhs, rhs = (_val(s.sides[0](flat)), _val(s.sides[1](flat))) if s.sides else (arb(-1), arb(0))
        out.append((lhs, rhs, _val(s.margin(flat))))
    return out


def _val(x: Num) -> arb:
    return x.val if isinstance(x, Dual) else x


def _stretched(box: Box, c_lo: Fraction | None = None) -> Box:
    """The box stretched in c up to 1 (and down to ``c_lo``)."""
    return Box((*box.lo[:2], box.lo[2] if c_lo is None else c_lo), (*box.hi[:2], Fraction(1)), box.depth)


class _Evaluation:
    """What the methods need of one box, each computed once and only when asked for."""

    def __init__(self, rc: RContext, box: Box) -> None:
        self.rc, self.box = rc, box
        self._lowers: tuple[list[arb], int | None] | None = None
        self._face: list[tuple[Num, Num]] | None = None
        self._concave: list[Num] | None = None

    @property
    def lowers(self) -> tuple[list[arb], int | None]:
        if self._lowers is None:
            self._lowers = centred_bounds(self.rc.full, self.box, [s.strict for s in self.rc.statements])
        return self._lowers

    def face_centred(self, i: int) -> bool:
        stretched = _stretched(self.box)
        if self._face is None:
            self._face = list(zip(self.rc.full([q(x) for x in stretched.centre()], 1),
                                  self.rc.full(stretched.balls(), 2)))
        g = _face_centred(stretched, *self._face[i])
        return g is not None and holds(g.lower(), False)

    def concave(self, i: int) -> bool:
        """∂²m/∂c² ≤ 0 on the box's δ and z* ranges for every c in [0, 1]."""
        if self._concave is None:
            self._concave = self.rc.full(_stretched(self.box, Fraction(0)).balls(), 2)
        m = self._concave[i]
        return isinstance(m, Dual) and m.hess is not None and m.hess[2][2].is_finite() and m.hess[2][2] <= 0


def _check(ev: _Evaluation, i: int, method: str) -> bool:
    """Does ``method`` decide statement i on the box?"""
    rc, box, s = ev.rc, ev.box, ev.rc.statements[i]
    if method == CENTRED:
        return holds(ev.lowers[0][i], s.strict)
    if method == HULL:
        return s.second_order and _hull_pd(rc, box, i)
    if method == CONCAVE:
        return s.concave and box.lo[2] >= 0 and ev.concave(i)
    if method not in (FACE, FACE_HULL) or not s.face or box.lo[2] <= 0:
        return False
    if method == FACE:
        return ev.face_centred(i)
    return s.second_order and _face_hull_pd(rc, _stretched(box), i)


def decide_reduced(spec: ReducedSpec, box: Box) -> Decision:
    rc = reduced_context(spec)
    if spec.outside(box):
        return Decision(PROVED, [OUTSIDE] * len(rc.statements), ["-"] * len(rc.statements))
    centre = box.centre()
    at_centre = _at_point(rc, centre)
    bad, ratio = centre_check(at_centre, [s.strict for s in rc.statements])
    if bad is not None:
        return Decision(NEGATIVE, statement=bad, margin=arb_text(at_centre[bad][2]), point=centre)
    ev = _Evaluation(rc, box)
    methods, texts = [], []
    for i in range(len(rc.statements)):
        method = next((m for m in METHODS if _check(ev, i, m)), None)
        if method is None:
            return Decision(SPLIT, ratio=ratio, split=_split_dim(box, ev.lowers[1]))
        methods.append(method)
        texts.append(fraction_str(lower_rational(ev.lowers[0][i])) if method == CENTRED else "0")
    return Decision(PROVED, methods, texts, ratio=ratio)


def _split_dim(box: Box, dim: int | None) -> int | None:
    """Off δ = 0 concavity in c decides a box whatever its c range: halve δ first while a wide box holds
    δ = 0. The face rule needs c > 1/2 (there −∂m/∂c is convex in z at z*) and the hull rule c not near 1:
    halve c while a wide c range holds 1/2. Otherwise the dimension costing the centred form most."""
    if box.lo[0] < 0 < box.hi[0] and box.hi[0] - box.lo[0] > Fraction(1, 4):
        return 0
    if box.lo[2] < Fraction(1, 2) < box.hi[2] and box.hi[2] - box.lo[2] > Fraction(1, 8):
        return 2
    return dim


def recheck_reduced(spec: ReducedSpec, box: Box, methods: list[str]) -> str | None:
    """Re-decide a certificate's reduced box with the methods it names (fresh arithmetic, no search)."""
    rc = reduced_context(spec)
    if len(methods) != len(rc.statements):
        return f"names {len(methods)} methods for {len(rc.statements)} statements"
    if all(m == OUTSIDE for m in methods):
        return None if spec.outside(box) else f"the box {box.text(list(COORDINATES))} meets z ∈ [−L, L]"
    ev = _Evaluation(rc, box)
    for i, method in enumerate(methods):
        if method not in METHODS:
            return f"statement {i + 1}: unknown method {method!r}"
        if not _check(ev, i, method):
            return f"statement {i + 1}: {method} does not decide the box"
    return None
