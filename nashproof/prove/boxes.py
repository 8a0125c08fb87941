"""Boxes of exact rationals and the one bisection rule."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from flint import arb, fmpq

from ..errors import InputError
from ..numbers import fraction_str, parse_rational


def q(x: Fraction) -> arb:
    return arb(fmpq(x.numerator, x.denominator))


@dataclass(frozen=True)
class Box:
    """[lo_i, hi_i] per dimension; ``depth[i]`` counts the halvings of dimension i since the region."""

    lo: tuple[Fraction, ...]
    hi: tuple[Fraction, ...]
    depth: tuple[int, ...]

    @staticmethod
    def region(lo: Iterable[Fraction], hi: Iterable[Fraction]) -> Box:
        lo_, hi_ = tuple(lo), tuple(hi)
        for a, b in zip(lo_, hi_):
            if not a < b:
                raise InputError(f"empty or reversed range [{fraction_str(a)}, {fraction_str(b)}]")
        return Box(lo_, hi_, (0,) * len(lo_))

    @property
    def dims(self) -> int:
        return len(self.lo)

    def centre(self) -> tuple[Fraction, ...]:
        return tuple((a + b) / 2 for a, b in zip(self.lo, self.hi))

    def halfwidths(self) -> tuple[Fraction, ...]:
        return tuple((b - a) / 2 for a, b in zip(self.lo, self.hi))

    def balls(self) -> list[arb]:
        """One ball per dimension holding [lo_i, hi_i]."""
        return [q(a).union(q(b)) for a, b in zip(self.lo, self.hi)]

    def level(self) -> int:
        return sum(self.depth)

    def split(self, dim: int | None = None) -> tuple[Box, Box]:
        """Halve dimension ``dim`` at its midpoint; by default the least-halved one (the lowest index among
        ties). Any sequence of halvings gives a guillotine partition that a verifier can check without
        knowing the choices (:func:`nashproof.prove.certificate.tiling_gap`)."""
        i = min(range(self.dims), key=lambda j: (self.depth[j], j)) if dim is None else dim
        mid = (self.lo[i] + self.hi[i]) / 2
        depth = tuple(d + (j == i) for j, d in enumerate(self.depth))
        left = Box(self.lo, tuple(mid if j == i else h for j, h in enumerate(self.hi)), depth)
        right = Box(tuple(mid if j == i else x for j, x in enumerate(self.lo)), self.hi, depth)
        return left, right


    def text(self, names: list[str] | None = None) -> str:
        parts = [f"{fraction_str(a)}..{fraction_str(b)}" for a, b in zip(self.lo, self.hi)]
        if names:
            parts = [f"{nm} ∈ {p}" for nm, p in zip(names, parts)]
        return "[" + ", ".join(parts) + "]"

    def as_dict(self) -> dict[str, list[str]]:
        return {"lo": [fraction_str(x) for x in self.lo], "hi": [fraction_str(x) for x in self.hi]}


def box_from_dict(raw: object, where: str) -> tuple[tuple[Fraction, ...], tuple[Fraction, ...]]:
    if not isinstance(raw, dict) or not isinstance(raw.get("lo"), list) or not isinstance(raw.get("hi"), list):
        raise InputError(f"{where}: a box needs 'lo' and 'hi' lists of exact numbers")
    return (tuple(parse_rational(x, f"{where} lo") for x in raw["lo"]),
            tuple(parse_rational(x, f"{where} hi") for x in raw["hi"]))
