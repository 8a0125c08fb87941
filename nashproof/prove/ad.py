"""Forward-mode automatic differentiation over arb balls, to second order.

A :class:`Dual` holds a ball for a function's value over a box, balls for its gradient and (when
asked for) its Hessian over the same box. Every operation encloses every point of the box: the
value part is the plain interval extension, the gradient part encloses ∇f at every point (for
``abs``, ``max`` and ``min`` it encloses Clarke's generalized gradient, which is what the mean-value
form needs for Lipschitz functions), the Hessian part encloses ∇²f where f is twice differentiable
on the whole box and is ``None`` where a kink may lie inside it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flint import arb

Hess = tuple[tuple[arb, ...], ...]


class Dual:
    """f, ∇f and (optionally) ∇²f enclosed over a box of ``len(grad)`` variables."""

    __slots__ = ("grad", "hess", "val")

    def __init__(self, val: arb, grad: tuple[arb, ...], hess: Hess | None) -> None:
        self.val, self.grad, self.hess = val, grad, hess

    # ---------------------------------------------------------------- construction
    @staticmethod
    def variable(ball: arb, index: int, dims: int, order: int) -> Dual:
        grad = tuple(arb(1) if i == index else arb(0) for i in range(dims))
        return Dual(ball, grad, _zero_hess(dims) if order >= 2 else None)

    def like(self, c: arb) -> Dual:
        """The constant ``c`` with this number's dimensions and order."""
        d = len(self.grad)
        return Dual(c, (arb(0),) * d, _zero_hess(d) if self.hess is not None else None)

    # ---------------------------------------------------------------- chain rule
    def apply(self, f: arb, f1: arb, f2: arb | None) -> Dual:
        """φ∘self, with φ(val) ⊆ f, φ'(val) ⊆ f1 and φ''(val) ⊆ f2 (None: not twice differentiable)."""
        g = tuple(f1 * gi for gi in self.grad)
        h: Hess | None = None
        if self.hess is not None and f2 is not None:
            gr, hs = self.grad, self.hess
            h = tuple(tuple(f1 * hs[i][j] + (interval_mul(f2, square(gr[i])) if i == j else
                                             interval_mul(interval_mul(f2, gr[i]), gr[j])) for j in range(len(gr)))
                      for i in range(len(gr)))
        return Dual(f, g, h)

    def __add__(self, o: Operand) -> Dual:
        if not isinstance(o, Dual):
            return Dual(self.val + o, self.grad, self.hess)
        h = None if self.hess is None or o.hess is None else _madd(self.hess, o.hess, 1)
        return Dual(self.val + o.val, tuple(a + b for a, b in zip(self.grad, o.grad)), h)

    __radd__ = __add__

    def __neg__(self) -> Dual:
        h = None if self.hess is None else tuple(tuple(-x for x in row) for row in self.hess)
        return Dual(-self.val, tuple(-x for x in self.grad), h)

    def __sub__(self, o: Operand) -> Dual:
        return self + (-o)

    def __rsub__(self, o: Operand) -> Dual:
        return (-self) + o

    def __mul__(self, o: Operand) -> Dual:
        if not isinstance(o, Dual):
            h = None if self.hess is None else tuple(tuple(o * x for x in row) for row in self.hess)
            return Dual(self.val * o, tuple(o * x for x in self.grad), h)
        a, b = self, o
        g = tuple(a.val * gb + b.val * ga for ga, gb in zip(a.grad, b.grad))
        hh: Hess | None = None
        if a.hess is not None and b.hess is not None:
            d = len(g)
            hh = tuple(tuple(a.val * b.hess[i][j] + b.val * a.hess[i][j] + a.grad[i] * b.grad[j] + a.grad[j] * b.grad[i]
                             for j in range(d)) for i in range(d))
        return Dual(a.val * b.val, g, hh)

    __rmul__ = __mul__

    def reciprocal(self) -> Dual:
        r = 1 / self.val
        return self.apply(r, -r * r, 2 * r * r * r)

    def __truediv__(self, o: Operand) -> Dual:
        return self * o.reciprocal() if isinstance(o, Dual) else self * (arb(1) / o)

    def __rtruediv__(self, o: Operand) -> Dual:
        return self.reciprocal() * o

    def __pow__(self, e: int) -> Dual:
        if e == 0:
            return self.like(arb(1))
        if e < 0:
            return (self ** (-e)).reciprocal()
        v = self.val
        return self.apply(v**e, e * v ** (e - 1), e * (e - 1) * v ** (e - 2) if e >= 2 else arb(0))

    # ---------------------------------------------------------------- functions
    def exp(self) -> Dual:
        e = self.val.exp()
        return self.apply(e, e, e)

    def log(self) -> Dual:
        r = 1 / self.val
        return self.apply(self.val.log(), r, -r * r)

    def sqrt(self) -> Dual:
        s = self.val.sqrt()
        return self.apply(s, 1 / (2 * s), -1 / (4 * s * self.val))

    def sigmoid(self) -> Dual:
        """σ(x) = 1/(1 + e^(−x)): σ' = σ(x)σ(−x), σ'' = σ'(1 − 2σ)."""
        s, t = sigmoid(self.val), sigmoid(-self.val)
        st = interval_mul(s, t)
        return self.apply(s, st, interval_mul(st, 1 - 2 * s))

    def softplus(self) -> Dual:
        """log(1 + e^x): its derivative is σ(x), its second σ(x)σ(−x) (both computed without cancellation)."""
        s, t = sigmoid(self.val), sigmoid(-self.val)
        return self.apply(softplus(self.val), s, interval_mul(s, t))

    def powr(self, e: arb) -> Dual:
        """self**e for a real constant e (self > 0)."""
        v = self.val
        return self.apply(v**e, e * v ** (e - 1), e * (e - 1) * v ** (e - 2))

    def __abs__(self) -> Dual:
        if self.val > 0:
            return self
        if self.val < 0:
            return -self
        one = arb(0, 1)  # sign ∈ [−1, 1]; |x| has no second derivative at 0
        return Dual(abs(self.val), tuple(one * g for g in self.grad), None)

    def maximum(self, o: Dual) -> Dual:
        if self.val.lower() >= o.val.upper():
            return self
        if o.val.lower() >= self.val.upper():
            return o
        return Dual(self.val.max(o.val), tuple(a.union(b) for a, b in zip(self.grad, o.grad)), None)

    def minimum(self, o: Dual) -> Dual:
        return -((-self).maximum(-o))


Operand = Dual | arb | int


def interval_mul(a: arb, b: arb) -> arb:
    """a·b from the end points: the union of the four end-point products holds the exact interval product
    (tighter than the midpoint-radius product for wide balls), and a product of factors of one sign
    keeps its sign, which a curvature test needs."""
    if a.rad() == 0 or b.rad() == 0 or not (a.is_finite() and b.is_finite()) or (_narrow(a) and _narrow(b)):
        return a * b
    al, au, bl, bu = a.lower(), a.upper(), b.lower(), b.upper()
    out = (al * bl).union(al * bu).union(au * bl).union(au * bu)
    same, opposite = (a >= 0 and b >= 0) or (a <= 0 and b <= 0), (a >= 0 and b <= 0) or (a <= 0 and b >= 0)
    return signed(out, same, opposite)


def square(x: arb) -> arb:
    """x² ≥ 0 (arb's x·x of a ball holding 0 reaches below 0)."""
    if not x.is_finite() or x.rad() == 0:
        return x * x
    if x >= 0 or x <= 0:
        return interval_mul(x, x)
    return arb(0, x.lower().abs_upper().max(x.upper().abs_upper()) ** 2).nonnegative_part()


def _narrow(x: arb) -> bool:
    """The ball is far from 0 for its size: its midpoint-radius product is as tight and keeps the sign."""
    return bool(x.rad() * 1024 < abs(x.mid()))


def signed(x: arb, nonnegative: bool, nonpositive: bool) -> arb:
    """The ball x of a value known to be ≥ 0 (or ≤ 0), cut to that sign (arb's nonnegative part: lower end
    exactly 0 where x reaches past it, as a union's rounding or a wide ball's midpoint may)."""
    if nonnegative and not x >= 0:
        return x.nonnegative_part()
    if nonpositive and not x <= 0:
        return -((-x).nonnegative_part())
    return x


def increasing(f: Callable[[arb], arb], x: arb) -> arb:
    """f over a ball, for an increasing f: from its end points when the ball is wide (arb's own
    enclosure of, say, exp over [−50, −8] is a ball around 0)."""
    if not x.is_finite() or x.rad() < 0.25:
        return f(x)
    lo, hi = f(x.lower()), f(x.upper())
    return signed(lo.union(hi), bool(lo >= 0), bool(hi <= 0))


def sigmoid(x: arb) -> arb:
    """σ(x) = 1/(1 + e^(−x)) of a ball (increasing, so the ball stays tight)."""
    return increasing(lambda t: 1 / (1 + (-t).exp()), x)


def softplus(x: arb) -> arb:
    """log(1 + eˣ) of a ball (increasing)."""
    return increasing(lambda t: t.exp().log1p(), x)


def _zero_hess(d: int) -> Hess:
    return tuple((arb(0),) * d for _ in range(d))


def _madd(a: Hess, b: Hess, s: int) -> Hess:
    return tuple(tuple(x + s * y for x, y in zip(ra, rb)) for ra, rb in zip(a, b))


def dual_sum(xs: Sequence[Dual]) -> Dual:
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


def dual_max(xs: Sequence[Dual]) -> Dual:
    out = xs[0]
    for x in xs[1:]:
        out = out.maximum(x)
    return out


def dual_min(xs: Sequence[Dual]) -> Dual:
    out = xs[0]
    for x in xs[1:]:
        out = out.minimum(x)
    return out


def log_sum_exp(xs: Sequence[Dual]) -> Dual:
    """log Σ exp(x_i), shifted by an exact constant (the largest midpoint) so nothing overflows."""
    shift = max((x.val.mid() for x in xs), key=lambda m: m)
    return dual_sum([(x - shift).exp() for x in xs]).log() + shift


def _log1p_sum_exp(xs: Sequence[arb]) -> arb:
    """log(1 + Σ exp(x_i)) of balls, shifted by an exact constant so nothing overflows."""
    top = max((x.mid() for x in xs), default=arb(0))
    if top > 0:
        return (sum(((x - top).exp() for x in xs), (-top).exp())).log() + top
    return (sum((x.exp() for x in xs), arb(0)) + 1).log()


def log_softmax(y: Sequence[Dual]) -> list[Dual]:
    """log softmax(y) with tight enclosures.

    Values: −log(1 + Σ_{j≠i} exp(y_j − y_i)), monotone in each y_j, so independent balls stay tight.
    Derivatives in closed form from the probabilities p = softmax(y) (tight balls): ∇ = ∇y_i − ḡ with
    ḡ = Σ p_j ∇y_j, ∇² = ∇²y_i − Σ p_j ∇²y_j − Σ p_j (∇y_j − ḡ)(∇y_j − ḡ)ᵀ (the covariance, written
    centred so that its balls stay narrow).
    """
    vals = [-_log1p_sum_exp([yj.val - yi.val for j, yj in enumerate(y) if j != i]) for i, yi in enumerate(y)]
    p = [v.exp() for v in vals]
    d = len(y[0].grad)
    gbar = tuple(sum((pj * yj.grad[k] for pj, yj in zip(p, y)), arb(0)) for k in range(d))
    hess_bar: Hess | None = None
    if all(yj.hess is not None for yj in y):
        cen = [tuple(yj.grad[k] - gbar[k] for k in range(d)) for yj in y]
        hess_bar = tuple(tuple(sum((pj * (yj.hess[a][b] + c[a] * c[b])  # type: ignore[index]
                                    for pj, yj, c in zip(p, y, cen)), arb(0)) for b in range(d)) for a in range(d))
    out = []
    for v, yi in zip(vals, y):
        grad = tuple(yi.grad[k] - gbar[k] for k in range(d))
        h = None if hess_bar is None or yi.hess is None else _madd(yi.hess, hess_bar, -1)
        out.append(Dual(v, grad, h))
    return out
