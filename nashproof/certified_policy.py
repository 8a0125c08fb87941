"""π*_β of a whole game as certified balls: the Krawczyk enclosure of every context, at a precision
raised until each probability is known to the digits asked for."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import cast

import numpy as np

from .backends.balls import (
    LOG2_10,
    MAX_BITS,
    BallBackend,
    BallMatrix,
    CertificationError,
    bits_for,
    float_matrix,
    log2_radius,
    to_arb,
)
from .backends.base import Vec
from .backends.float_newton import float_equilibrium
from .backends.krawczyk import REFINE_SCALE, enclose_fixed_point, refine_start
from .games import Game
from .numeric import NumericGame


def _float_log_reference(reference: Sequence[Fraction]) -> Vec:
    """log π_ref in float64 from the exact entries: finite even where π_ref underflows (1e-330)."""
    return np.array([math.log(r.numerator) - math.log(r.denominator) for r in reference], dtype=np.float64)


def certified_policy(game: Game, beta: Fraction, digits: int) -> tuple[list[Vec], int]:
    """π*_β of every context as certified balls of log-probabilities, and the bits used.

    The precision starts at ``digits`` + guard and is raised (up to :data:`MAX_BITS`) until every
    probability's relative radius is below 10^(−digits).
    """
    inv_beta = 1 / beta
    # 1/β multiplies every rounding of scale·Pπ: its bits (twice, for the Jacobian's cancellation) come on top
    bits = bits_for(digits) + int(math.log2(game.n + 1)) + 16 + 2 * max(0, math.ceil(math.log2(float(inv_beta))))
    starts: list[Vec] = []
    for context in game.contexts:
        starts.append(float_equilibrium(float_matrix(context.preference),
                                        _float_log_reference(context.reference), float(inv_beta)))
    refined = [False] * len(starts)
    previous = math.inf
    while True:
        b = BallBackend(digits, bits)
        ng = NumericGame(game, b)
        scale = to_arb(inv_beta)
        out = []
        for c in range(ng.k):
            Pm = cast(BallMatrix, ng.P[c])
            Pf = float_matrix(game.contexts[c].preference)
            if inv_beta > REFINE_SCALE and not refined[c]:
                starts[c] = refine_start(Pm.arb_mat(), ng.logref[c], scale, starts[c], max(bits, 128))
                refined[c] = True
            out.append(enclose_fixed_point(Pm.arb_mat(), Pf, ng.logref[c], scale, starts[c], bits))
        # log-radius = relative radius of π; compared in log₂ (no underflow at any precision)
        worst = max(log2_radius(t) for K in out for t in K)
        if worst <= -digits * LOG2_10 or bits >= MAX_BITS or worst > previous - 16:
            if worst > -digits * LOG2_10:
                raise CertificationError(f"π*_β: relative radius 2^{worst:.0f} > 1e-{digits} at {bits} bits")
            return out, bits
        previous = worst
        bits = min(MAX_BITS, bits + max(64, int(worst + digits * LOG2_10) + 32))
