"""Known sharp families: instances from the proofs that the witness corpus also tries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction

import mpmath

from ..games import Context, make_game
from .space import Instance

mp = mpmath.mp


def sandwich_family(tau: Fraction = Fraction(1, 10**6), eps: Fraction = Fraction(1, 10**9),
                    beta: Fraction = Fraction(1, 2)) -> Instance:
    """docs/proofs.md §4.2: EXPL-SANDWICH's 1/(8β) term has ratio → 1 − 2τ as ε → 0 (τ > ε > 0).

    On the 4-cycle with ties (``cyclic:n=4``), π* = (½ − τ, τ, ½ − τ, τ) via π_ref ∝ π* e^(−Pπ*/β)
    (30 significant digits), and π = π* + ε(e₁ − e₃). CMA-ES from random points rarely finds this ridge.
    """
    from ..families import load_game

    game = load_game("cyclic:n=4")
    P = game.contexts[0].preference
    with mpmath.workdps(40):
        star = [mp.mpf(1) / 2 - _mpq(tau), _mpq(tau), mp.mpf(1) / 2 - _mpq(tau), _mpq(tau)]
        field_ = [mp.fsum(_mpq(P[i][j]) * star[j] for j in range(4)) for i in range(4)]
        raw = [Fraction(mp.nstr(s * mp.exp(-f / _mpq(beta)), 30)) for s, f in zip(star, field_)]
        ref = tuple(r / sum(raw, Fraction(0)) for r in raw)
        pi = [s + d * _mpq(eps) for s, d in zip(star, (0, 1, 0, -1))]
        start = tuple(Fraction(mp.nstr(mp.log(p), 30)) for p in pi)
    ctx = replace(game.contexts[0], reference=ref, start=start)
    return Instance(make_game(game.actions, [ctx], "sandwich-family"), "nash-mp", beta, Fraction(2), 1)


def kl0_gap_family(exponent: int = 450, beta: Fraction = Fraction(1, 2030)) -> Instance:
    """docs/search.md: NMP-KL0's first inequality has ratio ≈ 1 − 2β on 2 actions with P(y0 ≻ y1) = 0 and
    π_ref = (1 − ε, ε), ε = 10^(−exponent), as long as ε·e^(1/(2β)) ≪ 1 (so β ≳ 1/(2 ln 10 · exponent)).

    From β KL(π*‖ref) = ½ − P(ref ≻ π*) − β KL(ref‖π*) with x = π*(y1): ½ − P(ref ≻ π*) = x/2 + O(ε) and
    KL(ref‖π*) = x + O(x² + ε log(x/ε)), so the ratio is 1 − 2β(1 + O(x)). π_ref below float64's range is needed
    for β < 1/1500; ε ≥ 10^(−450) keeps every number of the game file under 1000 characters (exact, not rounded).
    """
    eps = Fraction(1, 10**exponent)
    ctx = Context("x0", Fraction(1), ((Fraction(1, 2), Fraction(0)), (Fraction(1), Fraction(1, 2))), (1 - eps, eps))
    return Instance(make_game(("y0", "y1"), [ctx], "kl0-gap-family"), "nash-mp", beta, Fraction(2), 1)


def _mpq(x: Fraction) -> mpmath.mpf:
    return mp.mpf(x.numerator) / x.denominator


#: Instances from the proofs that the corpus also tries, by target label.
KNOWN_SHARP: dict[str, Callable[[], Instance]] = {"EXPL-SANDWICH[2] term L1sq_k/(8*beta)": sandwich_family,
                                                  "NMP-KL0[1]": kl0_gap_family}
