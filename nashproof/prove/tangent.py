"""One more derivative, along one direction: a :class:`Tangent` is f + ε·∂_c f with ε² = 0, both parts
:class:`~nashproof.prove.ad.Dual` numbers.

A margin evaluated on Tangents whose ``der`` parts seed the direction c gives ∂_c m as a Dual, so its
gradient and Hessian in the other variables are enclosed too: the third-order information
(∂²_z ∂_c m) that the face rule of :mod:`nashproof.prove.reduced` needs next to π*, where every
lower-order enclosure straddles 0. Only smooth operations are defined; a kink inside the box (``abs``,
``max`` or ``min`` of a ball holding 0) raises :class:`NotSmooth`.
"""

from __future__ import annotations

from flint import arb

from .ad import Dual


class NotSmooth(ArithmeticError):
    """A directional derivative is asked for where the function may have a kink."""


class Tangent:
    """``val`` + ε·``der``: a value and its derivative along one direction, both Duals."""

    __slots__ = ("der", "val")

    def __init__(self, val: Dual, der: Dual) -> None:
        self.val, self.der = val, der

    def __add__(self, o: TOperand) -> Tangent:
        if isinstance(o, Tangent):
            return Tangent(self.val + o.val, self.der + o.der)
        return Tangent(self.val + o, self.der)

    __radd__ = __add__

    def __neg__(self) -> Tangent:
        return Tangent(-self.val, -self.der)

    def __sub__(self, o: TOperand) -> Tangent:
        return self + (-o)

    def __rsub__(self, o: TOperand) -> Tangent:
        return (-self) + o

    def __mul__(self, o: TOperand) -> Tangent:
        if isinstance(o, Tangent):
            return Tangent(self.val * o.val, self.val * o.der + self.der * o.val)
        return Tangent(self.val * o, self.der * o)

    __rmul__ = __mul__

    def reciprocal(self) -> Tangent:
        r = self.val.reciprocal()
        return Tangent(r, -(self.der * r * r))

    def __truediv__(self, o: TOperand) -> Tangent:
        if isinstance(o, Tangent):
            return self * o.reciprocal()
        return self * (1 / o) if isinstance(o, Dual) else self * (arb(1) / o)

    def __rtruediv__(self, o: TOperand) -> Tangent:
        return self.reciprocal() * o

    def __pow__(self, e: int | arb) -> Tangent:
        if isinstance(e, int):
            if e == 0:
                return Tangent(self.val.like(arb(1)), self.der.like(arb(0)))
            if e < 0:
                return (self ** (-e)).reciprocal()
            return Tangent(self.val**e, self.val ** (e - 1) * e * self.der)
        return Tangent(self.val.powr(e), self.val.powr(e - 1) * e * self.der)

    def exp(self) -> Tangent:
        e = self.val.exp()
        return Tangent(e, e * self.der)

    def log(self) -> Tangent:
        return Tangent(self.val.log(), self.der * self.val.reciprocal())

    def sqrt(self) -> Tangent:
        s = self.val.sqrt()
        return Tangent(s, self.der * (2 * s).reciprocal())

    def sigmoid(self) -> Tangent:
        s = self.val.sigmoid()
        return Tangent(s, self.der * s * (1 - s))

    def softplus(self) -> Tangent:
        return Tangent(self.val.softplus(), self.der * self.val.sigmoid())

    def __abs__(self) -> Tangent:
        if self.val.val > 0:
            return self
        if self.val.val < 0:
            return -self
        raise NotSmooth("abs of a ball holding 0")

    def maximum(self, o: Tangent) -> Tangent:
        if self.val.val.lower() > o.val.val.upper():
            return self
        if o.val.val.lower() > self.val.val.upper():
            return o
        raise NotSmooth("max of overlapping balls")

    def minimum(self, o: Tangent) -> Tangent:
        return -((-self).maximum(-o))


TOperand = Tangent | Dual | arb | int
