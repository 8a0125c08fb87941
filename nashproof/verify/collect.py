"""Recording a run by precision doubling (``estimated``) or float64/longdouble (``screened``).

Every metric is computed at D and at D + G digits; its error estimate is twice their difference plus a
rounding floor (100·n·10^(−D)·scale). Float screening doubles with ``longdouble``. An estimate, not an
enclosure: the verdicts built on it say so (method ``estimated`` / ``screened``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import mpmath

from ..backends import Backend, ExtendedBackend, extended_available, make_backend, working_backend
from ..equilibrium import solve_equilibrium
from ..errors import InputError
from ..games import HALF, Game
from ..metrics import Reference, evaluate, kl
from ..numeric import LogPolicy, NumericGame
from ..solvers import NashMD, Solver, run
from .collect_certified import collect_certified
from .record import METRIC_SERIES, RunData, Series, mpf_of, mpf_of_fraction, pi_ref_is_equilibrium

mp = mpmath.mp


def collect(game: Game, solver: Solver, steps: int, digits: int = 50, guard: int | None = None,
            backend: str = "mpmath", on_step: Callable[[int], None] | None = None) -> RunData:
    """Run the solver at D and D + G digits and gather every metric with its error estimate."""
    if steps < 1:
        raise InputError(f"steps must be ≥ 1 for a check, got {steps}")
    if backend == "arb":
        return collect_certified(game, solver, steps, digits, on_step)
    g = guard if guard is not None else max(10, digits // 2)
    with mpmath.workdps(digits + g + 5):
        return _collect(game, solver, steps, digits, g, backend, on_step)


def _series(ng: NumericGame, star: LogPolicy, beta: Fraction, policies: list[LogPolicy],
            halves: list[LogPolicy | None]) -> tuple[Series, list[float]]:
    """Every metric of every iterate, and each iterate's log-magnitude scale (for the rounding floor)."""
    b = ng.backend
    series: Series = {name: [] for name in (*METRIC_SERIES, "l1_half")}
    scale: list[float] = []
    star_scale = max(abs(float(x)) for s in star for x in s)
    ref = Reference(ng, star)
    bb = b.scalar(beta)
    for t, lp in enumerate(policies):
        m = evaluate(ng, lp, ref, bb)
        for name in METRIC_SERIES:
            series[name].append(mpf_of(m.get(name)))
        half = halves[t] if t < len(halves) else None
        l1h = mp.zero if half is None else mpf_of(
            max(sum(abs(v) for v in ng.field_of(c, h)[0] - s) for c, (h, s) in enumerate(zip(half, ref.probs))))
        series["l1_half"].append(l1h)
        scale.append(1 + max(abs(float(x)) for lp_c in lp for x in lp_c) + star_scale)
    return series, scale


def _statics(game: Game, solver: Solver, ng: NumericGame, star: LogPolicy, exact: bool) -> dict[str, mpmath.mpf]:
    return {
        "beta": mpf_of_fraction(solver.beta),
        "n": mp.mpf(game.n),
        "N": mp.zero,
        "min_ref": mpf_of_fraction(game.min_reference()),
        "schedule": mp.mpf(1 if isinstance(solver, NashMD) and solver.schedule else 0),
        "kl_ref_star": mp.zero if exact else mpf_of(
            ng.average([kl(ng, star[c], ng.logref[c]) for c in range(ng.k)])),
        "p_ref_star": mpf_of_fraction(HALF) if exact else mpf_of(ng.average(
            [ng.ref[c] @ (ng.P[c] @ ng.backend.exp(star[c])) for c in range(ng.k)])),
    }


#: Statics computed from π* (the others are exact).
_COMPUTED_STATICS = ("kl_ref_star", "p_ref_star")


@dataclass
class _Measured:
    """One precision's metrics: the series, each iterate's scale and the statics."""

    series: Series
    scale: list[float]
    statics: dict[str, mpmath.mpf]


def _measure(game: Game, solver: Solver, steps: int, b: Backend, exact: bool,
             on_step: Callable[[int], None] | None) -> _Measured:
    eq = solve_equilibrium(game, solver.beta, b)
    traj = run(game, solver, steps, b, on_step=on_step)
    ng = NumericGame(game, b)
    series, scale = _series(ng, eq.logpi, solver.beta, traj.policies, traj.halves)
    return _Measured(series, scale, _statics(game, solver, ng, eq.logpi, exact))


def _doubling_errors(lo: Series, hi: Series, floor: mpmath.mpf, scale: Sequence[float]) -> Series:
    """Twice the difference between the two precisions plus the rounding floor, per value."""
    return {name: [2 * abs(lo[name][t] - v) + floor * scale[t] * (1 + abs(v)) for t, v in enumerate(vals)]
            for name, vals in hi.items()}


def _static_errors(lo: dict[str, mpmath.mpf], hi: dict[str, mpmath.mpf], floor: mpmath.mpf,
                   scale: float) -> dict[str, mpmath.mpf]:
    """Errors of the statics computed from π* (KL(π*‖π_ref), P(π_ref ≻ π*)); the others are exact."""
    return {name: 2 * abs(lo[name] - hi[name]) + floor * scale * (1 + abs(hi[name])) for name in _COMPUTED_STATICS}


def _collect(game: Game, solver: Solver, steps: int, digits: int, g: int, backend: str,
             on_step: Callable[[int], None] | None) -> RunData:
    # A perturbed or sampled solver (solvers.inexact) leaves π_ref even when π_ref = π*; so does a start ≠ π_ref.
    exact = (pi_ref_is_equilibrium(game) and not getattr(solver, "perturbed", False)
             and game.starts_at_reference())
    precisions = [make_backend(backend, digits)]
    if backend != "float":
        precisions.append(working_backend(digits + g))
    elif extended_available():  # float screening's second precision: longdouble
        precisions.append(ExtendedBackend())
    runs = [_measure(game, solver, steps, b, exact, on_step if idx == 0 else None) for idx, b in enumerate(precisions)]
    lo, hi = runs[0], runs[-1]
    floor = (100 * game.n * mpf_of_fraction(Fraction(1, 10**digits)) if backend != "float"
             else mp.mpf(2.0**-52) * 1000 * game.n)
    values = hi.series
    errors = _doubling_errors(lo.series, values, floor, lo.scale)
    static_errors = _static_errors(lo.statics, hi.statics, floor, lo.scale[0])
    lows = lo.series if len(runs) > 1 and backend != "float" else {}  # equality needs a real guard G
    if exact:  # π_ref is the equilibrium exactly: every solver stays at π_ref, every metric is exactly 0
        for series in (values, errors, lows):
            for name in series:
                series[name] = [mp.zero] * len(series[name])
        static_errors = {}
    values["N"] = [mp.mpf(t * solver.queries_per_step) for t in range(steps + 1)]
    errors["N"] = [mp.zero] * (steps + 1)
    if lows:
        lows["N"] = values["N"]
    return RunData(game, solver, solver.beta, digits, g, steps, values, errors, hi.statics, exact, backend,
                   static_errors, lows, lo.statics if lows else {},
                   "screened" if backend == "float" else "estimated")


#: The backend name of a record made from someone else's iterates (nothing was run).
GIVEN_ITERATES = "given iterates"


def from_iterates(game: Game, solver: Solver, policies: Sequence[Sequence[Sequence[Fraction]]],
                  relative_error: float, digits: int = 40) -> RunData:
    """Metrics of someone else's iterates π_0..π_K, given as exact probabilities per context.

    The iterates are taken as given. Each metric's error is that of our own arithmetic (the metrics
    and π* computed at ``digits`` and ``digits`` + 10: twice their difference) plus that of the
    iterates' own rounding (``relative_error`` per entry, e.g. 2⁻⁵² for float64):
    100·n·relative_error·scale·(1 + |value|).
    """
    guard = 10
    with mpmath.workdps(digits + guard + 5):
        measured = [_measure_given(game, solver, policies, working_backend(d)) for d in (digits, digits + guard)]
        (lo, hi) = measured
        floor = 100 * game.n * mp.mpf(relative_error)
        errors = _doubling_errors(lo.series, hi.series, floor, lo.scale)
        static_errors = _static_errors(lo.statics, hi.statics, 100 * game.n * mp.mpf(10) ** -digits, lo.scale[0])
        steps = len(policies) - 1
        values = hi.series
        values["N"] = [mp.mpf(t * solver.queries_per_step) for t in range(steps + 1)]
        errors["N"] = [mp.zero] * (steps + 1)
        return RunData(game, solver, solver.beta, digits, guard, steps, values, errors, hi.statics, False,
                       GIVEN_ITERATES, static_errors)


def _measure_given(game: Game, solver: Solver, policies: Sequence[Sequence[Sequence[Fraction]]],
                   b: Backend) -> _Measured:
    eq = solve_equilibrium(game, solver.beta, b)
    ng = NumericGame(game, b)
    logs = [[b.log_normalize(b.vector(c)) for c in pol] for pol in policies]
    series, scale = _series(ng, eq.logpi, solver.beta, logs, [])
    return _Measured(series, scale, _statics(game, solver, ng, eq.logpi, False))
