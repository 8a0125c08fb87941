"""Refuting a rate with an unknown constant by proof: an invariant-cone floor under the run's KL rate.

A finite run never refutes ``∃C: KL_k ≤ C·ρ^k``. When Nash-MP's own step near π* proves that the
trajectory's KL decays no faster than g^(2k) with g² > ρ (``prove.asymptotic``), no C exists: the
verdict is a certified ``violated``. Everything else leaves the fitted verdict as it was.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from ..claims import SYMBOLS, Claim, rho_loc
from ..prove.asymptotic import RateFloor, local_certificate
from ..solvers import NashMP
from .collect import GIVEN_ITERATES
from .compiler import compile_claim
from .record import RunData

#: Metrics M bounded below near π* by c·‖z − z*‖^p (z: the free logits), with the power p: KL both ways
#: and ‖π − π*‖₁² by Pinsker and softmax's inverse Lipschitz bound, Expl_β(π) ≥ β·KL(π‖π*) (the best
#: response does at least as well as π*, and skew-symmetry makes that gain exactly β·KL(π‖π*)), the span
#: of log π − log π* ≥ max_i |z_i − z*_i|, ‖π − π*‖₁ as above. The cone's growth g then gives M_k ≥ c·g^(pk).
POWERS = {"kl": 2, "kl_reverse": 2, "l1_sq": 2, "exploitability": 2, "span": 1, "l1": 1}
#: Precision of the certificate (bits): its balls only carry rounding, never the run's digits.
BITS = 192


def proof_applies(claim: Claim, data: RunData) -> bool:
    """The certificate speaks about exact Nash-MP at a fixed η on a one-context game, for a KL metric."""
    if claim.rate is None or claim.metric not in POWERS or type(data.solver) is not NashMP:
        return False
    if len(data.game.contexts) != 1 or data.game.n < 2 or data.exact_equilibrium:
        return False
    if data.backend_name == GIVEN_ITERATES:  # someone else's trace: the proof would be about Nash-MP, not it
        return False
    names = {SYMBOLS[s][0] for s in claim.rate.free_symbols if s in SYMBOLS}
    return len(names) == len(claim.rate.free_symbols) and names <= {"beta", "eta", "n", "min_ref", "rho_loc"}


def prove_rate_floor(claim: Claim, data: RunData) -> tuple[RateFloor, str] | None:
    """A proved floor above the claimed rate (and the claimed rate's enclosure, printed), or None."""
    from flint import arb

    from ..backends.balls import precision
    from ..certified_policy import certified_policy

    assert claim.rate is not None
    ctx = data.game.contexts[0]
    eta = data.solver.eta_at(0)
    with precision(BITS):
        logs, _ = certified_policy(data.game, data.beta, BITS * 3 // 10)
        logstar = [arb(x) for x in logs[0]]
    local = local_certificate(ctx.preference, ctx.reference, logstar, data.beta, eta, BITS)
    if local is None:
        return None
    values: dict[str, object] = {k: v for k, v in data.exact_at(0).items() if isinstance(v, Fraction)}
    if rho_loc in claim.rate.free_symbols:
        values["rho_loc"] = local.spectral_sq
    with precision(BITS):
        gap = compile_claim(sp.Le(claim.rate, 0, evaluate=False)).gap(values, bits=BITS)
        if isinstance(gap, bool):
            return None
        claimed = -gap
        if not claimed.is_finite() or not claimed > 0:
            return None
        # The cone bounds ‖y_k‖ ≥ c·g^k: the metric decays no faster than g^(pk), so compare g² with ρ^(2/p).
        power = POWERS[claim.metric]
        floor = local.rate_floor(claimed if power == 2 else claimed**2, ctx.start, power)
        return None if floor is None else (floor, claimed.str(12, radius=False))
