"""Recording a run in ball arithmetic (``certified``): every metric is an enclosure."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import mpmath

from ..backends.balls import (
    LOG2_10,
    BallBackend,
    CertificationError,
    batch_fields,
    bits_for,
    log2_radius,
    to_arb,
    to_mpf,
)
from ..equilibrium import solve_equilibrium
from ..errors import InputError, SolverError
from ..games import HALF, Game
from ..metrics import evaluate, kl
from ..numeric import LogPolicy, NumericGame
from ..solvers import NashMD, Solver, run
from .record import METRIC_SERIES, BallRun, RunData, pi_ref_is_equilibrium

#: Radius growth budget along a trajectory, bits per iteration (measured ≈ 2.8 at η = 2).
GROWTH_BITS = 3


#: The largest working precision a certified trajectory may use.
MAX_TRAJECTORY_BITS = 16384


#: The largest --digits a certified retry may ask for.
MAX_RETRY_DIGITS = 1200


def ball_series(ng: NumericGame, star: LogPolicy, beta: Fraction, policies: list[LogPolicy],
                 halves: list[LogPolicy | None]) -> dict[str, list[Any]]:
    from flint import arb

    from ..metrics import l1

    b = ng.backend
    out: dict[str, list[Any]] = {name: [] for name in (*METRIC_SERIES, "l1_half")}
    fields = [batch_fields(b, ng.P[c], [lp[c] for lp in policies]) for c in range(ng.k)]
    for t, lp in enumerate(policies):
        for c in range(ng.k):  # P·π_t of every iterate came from one matrix product: hand them to the metrics
            ng.products[id(lp[c])] = (lp[c], *fields[c][t])
        m = evaluate(ng, lp, star, b.scalar(beta))
        for name in METRIC_SERIES:
            out[name].append(to_arb(m.get(name)))
        half = halves[t] if t < len(halves) else None
        out["l1_half"].append(arb(0) if half is None else
                              b.vmax([l1(ng, h, s) for h, s in zip(half, star)]))
    return out


#: Series a step point can compute without the field P·π (its n² product and the best response).
FIELD_FREE = frozenset({"kl", "kl_reverse", "l1", "l1_sq", "span", "l1_half"})


def field_free_series(ng: NumericGame, star: LogPolicy, policies: list[LogPolicy], halves: list[LogPolicy | None],
                      names: frozenset[str]) -> dict[str, list[Any]]:
    """The series ``names`` (⊆ :data:`FIELD_FREE`) of ``policies``: the same balls as :func:`ball_series`
    gives for them (the same operations), without computing the metrics a claim does not read."""
    from flint import arb

    from ..metrics import l1

    b = ng.backend
    probs = [b.exp(s) for s in star]
    out: dict[str, list[Any]] = {name: [] for name in names}
    for t, lp in enumerate(policies):
        pis = [b.exp(lp[c]) for c in range(ng.k)] if names & {"kl_reverse", "l1", "l1_sq"} else []
        dists = [sum(abs(x) for x in pis[c] - probs[c]) for c in range(ng.k)] if pis else []
        for name in names - {"l1_half"}:
            out[name].append(to_arb(_field_free_value(name, ng, star, probs, lp, pis, dists)))
        if "l1_half" in names:
            half = halves[t] if t < len(halves) else None
            out["l1_half"].append(arb(0) if half is None else b.vmax([l1(ng, h, s) for h, s in zip(half, star)]))
    return out


def _field_free_value(name: str, ng: NumericGame, star: LogPolicy, probs: list[Any], lp: LogPolicy, pis: list[Any],
                      dists: list[Any]) -> Any:
    """One field-free metric of one policy, computed as :func:`nashproof.metrics.evaluate` does."""
    from ..metrics import kl, span

    b = ng.backend
    if name == "kl":
        return ng.average([kl(ng, star[c], lp[c], probs[c]) for c in range(ng.k)])
    if name == "kl_reverse":
        return ng.average([kl(ng, lp[c], star[c], pis[c]) for c in range(ng.k)])
    if name == "l1":
        return ng.average(dists)
    if name == "l1_sq":
        return ng.average([d * d for d in dists])
    return b.vmax([span(lp[c] - star[c], b) for c in range(ng.k)])


def _ball_statics(game: Game, solver: Solver, ng: NumericGame, star: LogPolicy, exact: bool) -> dict[str, Any]:
    from flint import arb, fmpq

    def q(x: Fraction) -> Any:
        return arb(fmpq(x.numerator, x.denominator))

    b = ng.backend
    return {
        "beta": q(solver.beta), "n": arb(game.n), "N": arb(0), "min_ref": q(game.min_reference()),
        "schedule": arb(1 if isinstance(solver, NashMD) and solver.schedule else 0),
        "kl_ref_star": arb(0) if exact else to_arb(ng.average([kl(ng, star[c], ng.logref[c]) for c in range(ng.k)])),
        "p_ref_star": q(HALF) if exact else to_arb(ng.average(
            [ng.ref[c] @ (ng.P[c] @ b.exp(star[c])) for c in range(ng.k)])),
    }


def trajectory_bits(digits: int, steps: int) -> int:
    """The starting precision of a certified run: the digits asked for plus the radius growth budget."""
    return bits_for(digits) + GROWTH_BITS * steps + 32


def collect_certified(game: Game, solver: Solver, steps: int, digits: int = 50,
                      on_step: Callable[[int], None] | None = None, max_bits: int = MAX_TRAJECTORY_BITS) -> RunData:
    """Run the solver in balls; raise the precision until every log π_k is known to 10^(−digits).

    Starts at :func:`trajectory_bits` and retries with the measured deficit plus 32 bits, up to
    ``max_bits``; beyond that the run is kept as it is and the claims it cannot decide come out
    inconclusive.
    """
    from flint import arb

    if steps < 1:
        raise InputError(f"steps must be ≥ 1 for a check, got {steps}")
    if not 5 <= digits <= MAX_RETRY_DIGITS:
        raise InputError(f"digits must lie in [5, {MAX_RETRY_DIGITS}] for a certified check, got {digits}")
    # π_ref = π* exactly and the run starts there: every metric is exactly 0 (a start ≠ π_ref leaves it)
    exact = pi_ref_is_equilibrium(game) and game.starts_at_reference()
    bits = min(trajectory_bits(digits, steps), max_bits)
    while True:
        b = BallBackend(digits, bits)
        # π* to the working precision: its radius enters every metric as an absolute error
        eq = solve_equilibrium(game, solver.beta, BallBackend(max(digits, int((bits - 48) / LOG2_10)), bits))
        b.activate()
        try:
            traj = run(game, solver, steps, b, on_step=on_step)
        except SolverError as exc:  # in balls: a radius grew without bound (or no Krawczyk certificate)
            if bits >= max_bits:
                raise CertificationError(f"{exc}; radii not closed within {max_bits} bits") from None
            bits, on_step = min(max_bits, 2 * bits), None
            continue
        width = max(log2_radius(x) for lp in traj.policies for c in lp for x in c)  # log₂ of the widest
        if width <= -digits * LOG2_10 or bits >= max_bits:
            break
        bits = min(max_bits, bits + math.ceil(width + digits * LOG2_10) + 32)
        on_step = None
    ng = NumericGame(game, b)
    series = ball_series(ng, eq.logpi, solver.beta, traj.policies, traj.halves)
    statics = _ball_statics(game, solver, ng, eq.logpi, exact)
    if exact:  # π_ref is the equilibrium exactly: every metric is exactly 0
        series = {name: [arb(0)] * len(vals) for name, vals in series.items()}
    series["N"] = [arb(t * solver.queries_per_step) for t in range(steps + 1)]
    with mpmath.workdps(digits + 20):
        values = {name: [to_mpf(x) for x in vals] for name, vals in series.items()}
        errors = {name: [to_mpf(x.rad()) for x in vals] for name, vals in series.items()}  # exact, no underflow
        static_mid = {name: to_mpf(x) for name, x in statics.items()}
    data = RunData(game, solver, solver.beta, digits, 0, steps, values, errors, static_mid, exact, "arb")
    data.method = "certified"
    data.balls = BallRun(ng, eq.logpi, traj.policies, series, statics, bits)
    return data
