"""Run a solver, evaluate claims on every iterate, and produce verdicts.

Rounding never decides a verdict. Every metric is computed twice, at the working precision D
and at D + G digits; its error estimate is twice their difference plus a rounding floor
(100·n·10^(−D)·scale); float64 screening doubles with ``longdouble``. A claim's margin must exceed
the propagated error to count as ``pass`` or ``violated``; otherwise the point is ``inconclusive``
(the report says which precision would settle it) or, when the two sides are equal (an exact
identity of the game, or a gap that shrinks with precision), ``equality``. Nothing evaluated is
``inconclusive``. This is an estimate by precision doubling, not a certified enclosure.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import sympy as sp
from sympy.printing.lambdarepr import LambdaPrinter

from .backends import Backend, ExtendedBackend, extended_available, make_backend, working_backend
from .backends.balls import (
    LOG2_10,
    BallBackend,
    CertificationError,
    batch_fields,
    bits_for,
    log2_abs,
    log2_radius,
    to_arb,
    to_mpf,
    upper,
)
from .claims import SYMBOLS, Claim, hypotheses_hold
from .claims.constants import unenclosable
from .equilibrium import solve_equilibrium
from .errors import InputError, SolverError
from .games import HALF, Game
from .metrics import Reference, evaluate, kl
from .numbers import fraction_str
from .numeric import LogPolicy, NumericGame
from .solvers import NashMD, Solver, run

mp = mpmath.mp
Series = dict[str, list[mpmath.mpf]]

#: ``equality``: the claim holds, with its two sides equal at some point, either proved (an exact
#: identity of the game) or numerically (the gap is within the rounding at D + G digits and shrinks
#: with precision). Exit code 0, like ``pass``.
STATUSES = ("pass", "equality", "violated", "inconclusive", "not-applicable")


def eta_bar(beta: Fraction) -> float:
    """Largest step of NMP-KL-STEP: η̄(β) = 2(β + √(1+β²))."""
    return 2 * (float(beta) + math.sqrt(1 + float(beta) ** 2))


def eta_bar_below(beta: Fraction, digits: int = 12) -> Fraction:
    """A rational just below η̄(β), exactly admissible: (η/2)² ≤ 1 + ηβ."""
    scale = 10**digits
    x = Fraction(math.floor(eta_bar(beta) * scale) - 1, scale)
    while (x / 2) ** 2 > 1 + x * beta:
        x -= Fraction(1, scale)
    return x


@dataclass
class RunData:
    """Every metric of a trajectory, at D + G digits, with an error estimate for each value.

    ``lows`` holds the same series at D digits (empty when only one precision was run); the
    checker uses them to tell an identity (a gap that shrinks with precision) from a gap that
    rounding hides.
    """

    game: Game
    solver: Solver
    beta: Fraction
    digits: int
    guard: int
    steps: int
    values: Series
    errors: Series
    statics: dict[str, mpmath.mpf]
    exact_equilibrium: bool = False
    backend_name: str = "mpmath"
    static_errors: dict[str, mpmath.mpf] = field(default_factory=dict)
    lows: Series = field(default_factory=dict)
    static_lows: dict[str, mpmath.mpf] = field(default_factory=dict)
    method: str = "estimated"  # certified (balls) | estimated (precision doubling) | screened (float64)
    balls: BallRun | None = None
    #: Statics known as exact rationals (an inexact solver's δ, m, α, …): bound exactly, never rounded.
    exact_statics: dict[str, Fraction] = field(default_factory=dict)

    def exact_at(self, k: int) -> dict[str, Fraction]:
        """The run's exact values at iterate k: its parameters (β, η_t, k, n, π_ref's minimum, the
        schedule flag) and its exact statics. The engine binds these as exact balls."""
        eta = self.solver.eta_at(k)
        return {**self.exact_statics, "beta": self.beta, "eta": eta, "k": Fraction(k), "n": Fraction(self.game.n),
                "min_ref": self.game.min_reference(), "schedule": Fraction(1 if isinstance(self.solver, NashMD) and self.solver.schedule else 0)}

    def at(self, k: int, low: bool = False) -> tuple[dict[str, mpmath.mpf], dict[str, mpmath.mpf],
                                                    dict[str, tuple[str, int]]]:
        """Values, errors and identities of every symbol at iterate k (``@next``: k+1, ``@0``: 0).

        The identity (metric, index) lets the checker see that, e.g., KL_k and KL_0 at k = 0 are one
        number, so their rounding errors cancel instead of adding up. ``low``: the values at D digits.
        """
        statics, values = (self.static_lows, self.lows) if low else (self.statics, self.values)
        vals: dict[str, mpmath.mpf] = dict(statics)
        errs: dict[str, mpmath.mpf] = {key: self.static_errors.get(key, mp.zero) for key in statics}
        ident: dict[str, tuple[str, int]] = {}
        last = len(self.values["kl"]) - 1
        for name, series in values.items():
            for suffix, t in (("", k), ("@0", 0), ("@next", k + 1)):
                if t <= last:
                    vals[name + suffix], errs[name + suffix] = series[t], self.errors[name][t]
                    ident[name + suffix] = (name, t)
        vals["k"], errs["k"] = mp.mpf(k), mp.zero
        vals["eta"] = mp.mpf(self.solver.eta_at(k).numerator) / self.solver.eta_at(k).denominator
        errs["eta"] = mp.zero
        return vals, errs, ident

    @property
    def has_lows(self) -> bool:
        return bool(self.lows)


def _mpf(x: Fraction) -> mpmath.mpf:
    return mp.mpf(x.numerator) / x.denominator


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


_METRICS = ("kl", "kl_reverse", "l1", "l1_sq", "exploitability", "exploitability_unreg", "span", "gap")


def _series(ng: NumericGame, star: LogPolicy, beta: Fraction, policies: list[LogPolicy],
            halves: list[LogPolicy | None]) -> tuple[Series, list[float]]:
    """Every metric of every iterate, and each iterate's log-magnitude scale (for the rounding floor)."""
    b = ng.backend
    series: Series = {name: [] for name in (*_METRICS, "l1_half")}
    scale: list[float] = []
    star_scale = max(abs(float(x)) for s in star for x in s)
    ref = Reference(ng, star)
    bb = b.scalar(beta)
    for t, lp in enumerate(policies):
        m = evaluate(ng, lp, ref, bb)
        for name in _METRICS:
            series[name].append(_mpf_of(m.get(name)))
        half = halves[t] if t < len(halves) else None
        l1h = mp.zero if half is None else _mpf_of(
            max(sum(abs(v) for v in ng.field_of(c, h)[0] - s) for c, (h, s) in enumerate(zip(half, ref.probs))))
        series["l1_half"].append(l1h)
        scale.append(1 + max(abs(float(x)) for lp_c in lp for x in lp_c) + star_scale)
    return series, scale


def _mpf_of(x: object) -> mpmath.mpf:
    """A backend scalar as an mpmath number, exactly for ``longdouble`` (mpf(x) would go through float)."""
    if isinstance(x, np.floating) and x.dtype.itemsize > 8:
        num, den = x.as_integer_ratio()
        return mp.mpf(num) / den
    return mp.mpf(x)


def _statics(game: Game, solver: Solver, ng: NumericGame, star: LogPolicy, exact: bool) -> dict[str, mpmath.mpf]:
    return {
        "beta": _mpf(solver.beta),
        "n": mp.mpf(game.n),
        "N": mp.zero,
        "min_ref": _mpf(game.min_reference()),
        "schedule": mp.mpf(1 if isinstance(solver, NashMD) and solver.schedule else 0),
        "kl_ref_star": mp.zero if exact else _mpf_of(
            ng.average([kl(ng, star[c], ng.logref[c]) for c in range(ng.k)])),
        "p_ref_star": _mpf(HALF) if exact else _mpf_of(ng.average(
            [ng.ref[c] @ (ng.P[c] @ ng.backend.exp(star[c])) for c in range(ng.k)])),
    }


#: Statics computed from π* (the others are exact).
_COMPUTED_STATICS = ("kl_ref_star", "p_ref_star")


def _pi_ref_is_equilibrium(game: Game) -> bool:
    """Exact test: Pπ_ref constant in every context means π* = π_ref (and every solver stays there).

    In integers over common denominators, stopping at the first row that differs.
    """
    for c in game.contexts:
        den = math.lcm(*{x.denominator for row in c.preference for x in row})
        ref_den = math.lcm(*{r.denominator for r in c.reference})
        ref = [r.numerator * (ref_den // r.denominator) for r in c.reference]
        first = None
        for row in c.preference:
            value = sum(x.numerator * (den // x.denominator) * r for x, r in zip(row, ref))
            if first is None:
                first = value
            elif value != first:
                return False
    return True


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
    exact = (_pi_ref_is_equilibrium(game) and not getattr(solver, "perturbed", False)
             and game.starts_at_reference())
    precisions = [make_backend(backend, digits)]
    if backend != "float":
        precisions.append(working_backend(digits + g))
    elif extended_available():  # float screening's second precision: longdouble
        precisions.append(ExtendedBackend())
    runs = [_measure(game, solver, steps, b, exact, on_step if idx == 0 else None) for idx, b in enumerate(precisions)]
    lo, hi = runs[0], runs[-1]
    floor = (100 * game.n * _mpf(Fraction(1, 10**digits)) if backend != "float"
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
                       "given iterates", static_errors)


def _measure_given(game: Game, solver: Solver, policies: Sequence[Sequence[Sequence[Fraction]]],
                   b: Backend) -> _Measured:
    eq = solve_equilibrium(game, solver.beta, b)
    ng = NumericGame(game, b)
    logs = [[b.log_normalize(b.vector(c)) for c in pol] for pol in policies]
    series, scale = _series(ng, eq.logpi, solver.beta, logs, [])
    return _Measured(series, scale, _statics(game, solver, ng, eq.logpi, False))


# ------------------------------------------------------------------ verdicts


@dataclass
class Verdict:
    """The outcome of one claim on one run."""

    claim: str
    status: str
    provenance: str
    kind: str
    game: str = ""
    solver: str = ""
    beta: str = ""
    eta: str = ""
    first_k: int | None = None
    observed: str | None = None
    bound: str | None = None
    margin: str | None = None
    error: str | None = None
    tightness: str | None = None
    fitted_rate: str | None = None
    claimed_rate: str | None = None
    min_constant: str | None = None
    slower: bool = False
    needed_digits: int | None = None
    failed_hypothesis: str | None = None
    evaluated: str = ""
    note: str = ""
    expected: str | None = None
    extra: dict[str, object] = field(default_factory=dict)
    method: str = "estimated"  # certified | estimated | screened
    certified_at: str | None = None  # certified: on the exact trajectory or at exactly represented points

    @property
    def outcome(self) -> str:
        """``status``, or ``expected`` when the suite declared this very outcome."""
        return "expected" if self.expected is not None and self.expected == self.status else self.status

    def as_dict(self) -> dict[str, object]:
        d = {k: v for k, v in self.__dict__.items() if v is not None and v != "" and v != {}}
        d["outcome"] = self.outcome
        return d


def _s(x: mpmath.mpf, d: int = 6) -> str:
    return str(mp.nstr(x, d))


_Point = tuple[int, dict[str, mpmath.mpf], dict[str, mpmath.mpf], dict[str, tuple[str, int]]]
_ORDER = list(SYMBOLS)
_NAMES = [SYMBOLS[s][0] for s in _ORDER]


def _lambdify(expr: sp.Expr) -> Callable[..., mpmath.mpf]:
    f: Callable[..., mpmath.mpf] = sp.lambdify(_ORDER, expr, modules="mpmath")
    return f


@dataclass
class _Compiled:
    lhs: Callable[..., mpmath.mpf]
    rhs: Callable[..., mpmath.mpf]
    grads: list[tuple[str, Callable[..., mpmath.mpf]]]


@functools.lru_cache(maxsize=512)
def _compile(rel: sp.Basic) -> _Compiled:
    """lhs, rhs and the gradient of rhs − lhs as mpmath functions: built once per statement."""
    if not isinstance(rel, (sp.LessThan, sp.StrictLessThan)):
        raise InputError(f"claim statements must be ≤ relations, got {sp.sstr(rel)}")
    lhs, rhs = rel.lhs, rel.rhs
    gap = rhs - lhs
    grads = []
    for sym in gap.free_symbols:
        if sym in SYMBOLS:
            d = sp.diff(gap, sym)
            if d.has(sp.Derivative):  # e.g. of a ceiling: piecewise constant
                d = d.replace(lambda e: isinstance(e, sp.Derivative), lambda e: sp.Integer(0))
            grads.append((SYMBOLS[sym][0], _lambdify(d)))
    return _Compiled(_lambdify(lhs), _lambdify(rhs), grads)


def _args(vals: dict[str, mpmath.mpf]) -> list[mpmath.mpf]:
    return [vals.get(name, mp.nan) for name in _NAMES]


def _floor_index(data: RunData, metric: str, last: int) -> int:
    """Last k ≤ ``last`` before the metric has fewer than 9 correct digits (0 values are exact)."""
    for t in range(last + 1):
        if not _above_floor(data, metric, t):
            return t - 1
    return last


def _param_values(data: RunData) -> dict[sp.Symbol, sp.Expr]:
    from .claims import beta, eta, inner_pg, n, sched, start_ref

    solver = data.solver
    return {inner_pg: sp.Integer(1 if solver.name in ("nash-mp-pg", "nash-mp-pg-sampled") else 0),beta: sp.Rational(solver.beta.numerator, solver.beta.denominator),
            eta: sp.Rational(solver.eta_at(0).numerator, solver.eta_at(0).denominator),
            n: sp.Integer(data.game.n),
            sched: sp.Integer(1 if isinstance(solver, NashMD) and solver.schedule else 0),
            start_ref: sp.Integer(1 if data.game.starts_at_reference() else 0)}


def check_claim(claim: Claim, data: RunData, ignore_hypotheses: bool = False, until_floor: bool = True,
                eps_grid: int = 6) -> Verdict:
    """Evaluate one claim on one run."""
    solver = data.solver
    base = Verdict(claim.id, "pass", claim.provenance, claim.kind, data.game.label, solver.name,
                   fraction_str(data.beta), fraction_str(solver.eta) if not isinstance(solver, NashMD)
                   or not solver.schedule else "2/(β(t+2))", method=data.method)
    if not claim.applies_to(solver.name):
        base.status, base.note = "not-applicable", f"claim is about {', '.join(claim.solvers)}"
        return base
    if claim.kind in ("existence", "dimension"):
        base.status = "not-applicable"
        base.note = ("no checkable statement is known" if claim.kind == "existence"
                     else "checked by the dimension family (a [[dimension]] suite entry)")
        return base
    ok, failed = hypotheses_hold(claim, {**_param_values(data), **_local_values(claim, data)})
    if not ok:
        if not ignore_hypotheses:
            base.status, base.failed_hypothesis = "not-applicable", failed
            base.note = f"hypothesis {failed} is false for these parameters"
            return base
        base.failed_hypothesis = failed
        base.note = f"hypothesis {failed} is false; evaluated anyway (--ignore-hypotheses)"
    with mpmath.workdps(data.digits + data.guard + (20 if data.method == "certified" else 0)):
        if claim.kind == "rate" and _constant_applies(claim, data):
            return _check_rate_constant(claim, data, base, until_floor, eps_grid)
        if claim.kind == "rate":
            return _check_rate(claim, data, base, until_floor)
        if data.method == "certified":
            return check_certified(claim, data, base, until_floor, eps_grid)
        return _check_inequalities(claim, data, base, until_floor, eps_grid)


def _points(claim: Claim, data: RunData, until_floor: bool) -> tuple[list[int], int | None]:
    last = data.steps - (1 if claim.kind == "step" else 0)
    if claim.kind == "static":
        return [0], None
    stop = _floor_index(data, claim.metric, data.steps) if until_floor else data.steps
    if claim.kind == "step":
        stop = min(stop - 1, last)
    cut = stop if stop < last else None
    return list(range(max(stop, -1) + 1)), cut


def _check_inequalities(claim: Claim, data: RunData, v: Verdict, until_floor: bool, eps_grid: int) -> Verdict:
    compiled = [_compile(s) for s in claim.statements]
    identities = [_proved_identity(s, data.game) for s in claim.statements]
    points, cut = _points(claim, data, until_floor)
    if claim.kind == "hitting":
        evaluations = _hitting_points(data, claim, eps_grid)
    else:
        evaluations = [(t, *data.at(t)) for t in points]
    tally = _Tally()
    for t, vals, errs, ident in evaluations:
        args = _args(vals)
        first = t == 0 or claim.kind == "hitting"  # hitting points read the run at k = 0
        for rel, comp, identity in zip(claim.statements, compiled, identities):
            p = _point(comp, args, errs, rel, first, identity is not None,
                       data.exact_at(0 if claim.kind == "hitting" else t))
            tally.add(t, p)
            if p.status == "violated":
                v.status, v.first_k = "violated", t
                v.observed, v.bound, v.margin, v.error = _s(p.lhs, 12), _s(p.rhs, 12), _s(p.gap), _s(p.err, 3)
                if claim.kind == "hitting":
                    v.note = (v.note + f" at ε = {_s(vals['eps'])}").strip()
                v.tightness = tally.tightness()
                v.evaluated = _range_text(claim, evaluations, cut)
                return v
            if p.status == "equal" and identity is not None:
                tally.proved = identity
    v.tightness = tally.tightness()
    v.evaluated = _range_text(claim, evaluations, cut)
    if data.exact_equilibrium:
        v.note = (v.note + " π_ref is the equilibrium exactly (Pπ_ref constant): every metric is exactly 0").strip()
    return _conclude(claim, data, v, tally, bool(evaluations))


@dataclass
class _PointResult:
    status: str  # pass, violated, undecided, equal
    lhs: mpmath.mpf
    rhs: mpmath.mpf
    gap: mpmath.mpf
    err: mpmath.mpf
    prop: mpmath.mpf


def _point(comp: _Compiled, args: list[mpmath.mpf], errs: dict[str, mpmath.mpf], rel: sp.Basic, first: bool,
           identity: bool, exact: dict[str, Fraction]) -> _PointResult:
    """One statement at one point: pass or violated only when the ball of rhs − lhs lies on one side of 0.

    The balls have the estimated values as midpoints and their error estimates as radii; constants and
    the arithmetic of the statement are enclosed exactly (:func:`_ball_compiled`), so the rounding of
    the working precision never decides. An identity is ``equal`` only when it is proved.
    """
    lhs, rhs = comp.lhs(*args), comp.rhs(*args)
    gap = rhs - lhs
    ball = _ball_compiled(rel, first)
    if ball is True or ball is False:
        return _PointResult("pass" if ball else "violated", lhs, rhs, gap, mp.zero, mp.zero)
    from flint import arb

    with _ball_precision():
        balls = [_estimate_ball(a, errs.get(name, mp.zero), exact.get(name)) for a, name in zip(args, _NAMES)]
        g = ball.gap(*balls)
    err = to_mpf(g.rad().upper())
    if g < 0:
        status = "violated"
    elif g >= 0:
        status = "pass"
    elif identity:
        status = "equal"
    else:
        status = "undecided"
    return _PointResult(status, lhs, rhs, gap, err, err)


def _estimate_ball(value: mpmath.mpf, error: mpmath.mpf, exact: Fraction | None) -> Any:
    """The ball of one estimated value: exact for the run's rationals, else value ± (error estimate + the
    rounding of the stored value; none for integers, 1/2 and exact zeros, which are stored exactly)."""
    from flint import arb

    if exact is not None:
        return to_arb(exact)
    if mp.isnan(value):
        return None
    stored_exactly = error == 0 and (value == mp.floor(value) or value == mp.mpf(0.5))
    return arb(to_arb(value), to_arb(error + (mp.zero if stored_exactly else abs(value) * mp.eps)))


def _ball_precision() -> Any:
    """flint at the current mpmath working precision plus a guard."""
    from .backends.balls import precision

    return precision(mp.prec + 64)


@dataclass
class _Tally:
    """What the points of one claim gave: the worst ratio, undecided points, points of equality."""

    worst_ratio: mpmath.mpf | None = None
    undecided: list[tuple[int, mpmath.mpf, mpmath.mpf]] = field(default_factory=list)
    equal: list[int] = field(default_factory=list)
    proved: str = ""

    def add(self, t: int, p: _PointResult) -> None:
        if p.rhs > 0 and p.lhs >= 0 and not (p.gap == 0 and p.prop == 0):  # skip identities such as KL_0 ≤ KL_0
            ratio = p.lhs / p.rhs
            self.worst_ratio = ratio if self.worst_ratio is None or ratio > self.worst_ratio else self.worst_ratio
        if p.status == "undecided":
            self.undecided.append((t, p.gap, p.err))
        elif p.status == "equal":
            self.equal.append(t)

    def tightness(self) -> str | None:
        return _s(self.worst_ratio) if self.worst_ratio is not None else None


def _conclude(claim: Claim, data: RunData, v: Verdict, tally: _Tally, evaluated: bool) -> Verdict:
    """The verdict of a claim with no certain violation: pass, equality or inconclusive."""
    if not evaluated:
        if claim.kind == "hitting" and data.exact_equilibrium:
            v.note = (v.note + " KL_0 = 0 exactly: K_ε = 0 for every ε").strip()
            return v
        v.status = "inconclusive"
        if claim.kind == "hitting" and _above_floor(data, claim.metric, 0):
            v.note = (v.note + " nothing evaluated: the first target ε = KL_0/√10 is not reached within the "
                      "run; rerun with more --steps").strip()
        else:
            v.needed_digits = _digits_for_floor(data, claim.metric)
            v.note = (v.note + " nothing evaluated: no iterate clears the rounding floor; rerun with "
                      f"--digits {v.needed_digits}").strip()
    elif tally.undecided:
        t, gap, err = tally.undecided[0]
        v.status, v.first_k, v.margin, v.error = "inconclusive", t, _s(gap), _s(err, 3)
        need = data.digits + (int(mp.ceil(mp.log10(err / abs(gap)))) if gap != 0 else data.digits) + 5
        v.needed_digits = need
        v.note = (v.note + f" {len(tally.undecided)} point(s) inside the rounding error; "
                  f"rerun with --digits {need}").strip()
    elif tally.equal:
        v.status, v.first_k = "equality", tally.equal[0]
        v.note = (v.note + f" {len(tally.equal)} point(s) hold with equality, proved: {tally.proved}").strip()
    return v


def _above_floor(data: RunData, metric: str, t: int) -> bool:
    value, error = data.values[metric][t], data.errors[metric][t]
    return bool(value == 0 or error <= value * mp.mpf("1e-9"))


def _digits_for_floor(data: RunData, metric: str) -> int:
    """Digits that would bring the first iterate below the floor (the one that cut the evaluation
    short) to 9 correct digits, plus 5."""
    t = next((t for t in range(len(data.values[metric])) if not _above_floor(data, metric, t)), 0)
    value, error = abs(data.values[metric][t]), data.errors[metric][t]
    if value == 0 or error == 0:
        return 2 * data.digits
    return data.digits + max(1, int(mp.ceil(mp.log10(error / value)))) + 9 + 5


def _proved_identity(statement: sp.Basic, game: Game) -> str | None:
    """Why ``statement`` holds with equality at every π on this game, when that is proved exactly."""
    from .claims import Expl, KL_rev, beta

    if statement == sp.Le(beta * KL_rev, Expl) and _field_gaps_constant(game):
        return ("in every context P(e_i − e_1) is a constant vector (e.g. 2 actions), so Pπ − Pπ* is "
                "constant, D_F(Pπ, Pπ*) = 0 and Expl_β(π) = β KL(π‖π*) exactly (docs/proofs.md §4.2)")
    return None


def _field_gaps_constant(game: Game) -> bool:
    """Exact test: A δ ∈ span(1) for every δ with Σδ = 0, i.e. every column difference of P is constant."""
    for c in game.contexts:
        P = c.preference
        for i in range(1, c.n):
            if len({row[i] - row[0] for row in P}) != 1:
                return False
    return True


def _propagate(comp: _Compiled, args: list[mpmath.mpf], errs: dict[str, mpmath.mpf],
               ident: dict[str, tuple[str, int]]) -> mpmath.mpf:
    """First-order error of rhs − lhs; symbols naming the same number have their gradients summed."""
    grad: dict[object, mpmath.mpf] = {}
    err_of: dict[object, mpmath.mpf] = {}
    for name, g in comp.grads:
        key: object = ident.get(name, name)
        grad[key] = grad.get(key, mp.zero) + g(*args)
        err_of[key] = errs.get(name, mp.zero)
    return sum((abs(grad[key]) * err_of[key] for key in grad), mp.zero)


def _range_text(claim: Claim, evaluations: list[_Point], cut: int | None) -> str:
    if not evaluations:
        return "no point above the rounding floor"
    if claim.kind == "hitting":
        return f"{len(evaluations)} targets ε"
    text = f"k = {evaluations[0][0]}..{evaluations[-1][0]}"
    if cut is not None:
        text += " (later iterates are below the rounding floor)"
    return text


def _hitting_points(data: RunData, claim: Claim, grid: int) -> list[_Point]:
    """Targets ε = M_0·10^(−j/2); K_ε is the first k with M_k ≤ ε, for targets reached above the floor."""
    series, errors = data.values[claim.metric], data.errors[claim.metric]
    out: list[_Point] = []
    m0 = series[0]
    if m0 == 0:
        return out
    for j in range(1, 2 * grid + 1):
        target = m0 * mp.mpf(10) ** (-mp.mpf(j) / 2)
        hit = next((t for t, m in enumerate(series) if m <= target), None)
        if hit is None or (errors[hit] > abs(series[hit] - target) / 2 and series[hit] != target):
            break
        vals, errs, ident = data.at(0)
        vals["eps"], errs["eps"] = target, mp.zero
        vals["k_eps"], errs["k_eps"] = mp.mpf(hit), mp.zero
        out.append((hit, vals, errs, ident))
    return out


def _local_values(claim: Claim, data: RunData) -> dict[sp.Symbol, sp.Expr]:
    """ρ_loc (the linearised Nash-MP step's asymptotic KL rate), computed only for claims that use it."""
    from .claims import rho_loc

    used = set().union(*(e.free_symbols for e in (*claim.hypotheses, *claim.statements)),
                       claim.rate.free_symbols if claim.rate is not None else set())
    if rho_loc not in used:
        return {}
    from .search import local_radius2, local_spectrum

    with mpmath.workdps(data.digits + data.guard):
        mus = [m for ctx in local_spectrum(data.game, data.beta, data.digits) for m in ctx]
        value = local_radius2(_mpf(data.solver.eta_at(0)), _mpf(data.beta), mus)
        return {rho_loc: sp.Float(mp.nstr(value, data.digits), data.digits)}


def _constant_applies(claim: Claim, data: RunData) -> bool:
    return claim.constant is not None and hypotheses_hold(
        Claim(claim.id, "", "bound", claim.metric, (), claim.constant_hypotheses, claim.solvers, "D", ""),
        _param_values(data))[0]


def _check_rate_constant(claim: Claim, data: RunData, v: Verdict, until_floor: bool, eps_grid: int) -> Verdict:
    """A rate claim whose constant C is known (catalogue or user): check rate and constant as a bound."""
    from .claims import C

    statements = tuple(s.subs(C, claim.constant) for s in claim.statements)
    bound = Claim(claim.id, claim.title, "bound", claim.metric, statements, (), claim.solvers, claim.provenance,
                  claim.source)
    check = check_certified if data.method == "certified" else _check_inequalities
    out = check(bound, data, v, until_floor, eps_grid)
    out.kind, out.note = "rate", (out.note + f" constant C = {sp.sstr(claim.constant)} checked as a bound").strip()
    return out


def _check_rate(claim: Claim, data: RunData, v: Verdict, until_floor: bool) -> Verdict:
    assert claim.rate is not None
    # A fitted rate is evidence from a finite run, never a certificate, whatever the data's method.
    v.method = "estimated"
    subs = {**_param_values(data), **_local_values(claim, data)}
    r = mp.mpf(sp.N(claim.rate.subs(subs), data.digits + data.guard))
    scale = mp.mpf(sp.N(claim.scale.subs(subs), data.digits + data.guard))
    # A rate is only ever fitted on iterates above the rounding floor, whatever ``until_floor`` says.
    stop = _floor_index(data, claim.metric, data.steps)
    series = data.values[claim.metric][: stop + 1]
    pts = [(t, m) for t, m in enumerate(series) if m > 0]
    v.claimed_rate = _s(r, 8)
    v.evaluated = f"k = 0..{stop}" + (" (later iterates are below the rounding floor)" if stop < data.steps else "")
    if data.exact_equilibrium or len(pts) < 4:
        v.note = "metric is exactly 0 (π_ref is the equilibrium)" if data.exact_equilibrium else (
            "too few iterates above the rounding floor to fit a rate")
        v.status = "pass" if data.exact_equilibrium else "inconclusive"
        return v
    ratios = [m / (scale * r**t) for t, m in pts]
    c_min = max(ratios)
    arg = ratios.index(c_min)
    tail = pts[len(pts) // 2:]
    xs = [mp.mpf(t) for t, _ in tail]
    ys = [mp.log(m) for _, m in tail]
    xbar, ybar = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - xbar) * (y - ybar) for x, y in zip(xs, ys)) / sum((x - xbar) ** 2 for x in xs)
    fitted = mp.exp(slope)
    v.fitted_rate, v.min_constant = _s(fitted, 8), _s(c_min, 6)
    # Slower: the tail decays less than 90 % as fast as claimed, and M_k/r^k still peaks in the last quarter.
    v.slower = bool(-slope < -mp.log(r) * mp.mpf("0.9") and arg >= 3 * len(pts) // 4)
    # ∃C: M_k ≤ C·scale·r^k holds on every finite run (C = the largest ratio): without a proved constant
    # a run cannot refute the rate. A slower-looking tail is evidence only: inconclusive, never violated.
    if v.slower:
        v.status, v.first_k = "inconclusive", pts[arg][0]
        v.note = ("the fitted tail rate looks slower than the claimed rate (evidence from a finite run, not a "
                  "proof: the constant is unknown, so no finite run can refute the rate; run longer)")
    else:
        v.note = ("holds on this run with C ≥ the smallest constant shown (a finite run always admits some C); "
                  "the fitted tail rate is consistent with the claimed one")
    return v


# ------------------------------------------------------------------ dimension


@dataclass
class DimensionRow:
    n: int
    backend: str
    worst_step_ratio: str
    constant: str
    fitted_rate: str
    points: int = 0
    exact: bool = False  # π_ref is the equilibrium: KL is exactly 0 at every iterate


@dataclass
class _Bounds:
    """The largest normalised ratio at one size: midpoint, and the ends of its error interval."""

    mid: mpmath.mpf
    low: mpmath.mpf
    high: mpmath.mpf
    points: int


def _ratio_bounds(pairs: list[tuple[mpmath.mpf, mpmath.mpf, mpmath.mpf, mpmath.mpf, mpmath.mpf]]) -> _Bounds:
    """max over (a, ea, b, eb, c) of a/(c·b): its value and interval when a, b are known to ± ea, eb."""
    if not pairs:
        return _Bounds(mp.zero, mp.zero, mp.zero, 0)
    mids = [a / (c * b) for a, _, b, _, c in pairs]
    lows = [(a - ea) / (c * (b + eb)) for a, ea, b, eb, c in pairs]
    highs = [(a + ea) / (c * (b - eb)) for a, ea, b, eb, c in pairs]
    return _Bounds(max(mids), max(lows), max(highs), len(pairs))


def _dimension_bounds(data: RunData, rho: mpmath.mpf) -> tuple[_Bounds, _Bounds, mpmath.mpf]:
    """Step ratio KL_{k+1}/(ρ KL_k) and constant KL_k/(ρ^k KL_0) with intervals, and the fitted rate.

    Only iterates whose KL has 3 correct digits enter (the others are below the rounding floor).
    """
    kl_series, errs = data.values["kl"], data.errors["kl"]
    steps = len(kl_series) - 1
    ok = [t for t in range(steps + 1) if kl_series[t] > 0 and errs[t] < kl_series[t] * mp.mpf("1e-3")]
    reliable = set(ok)
    step = _ratio_bounds([(kl_series[t + 1], errs[t + 1], kl_series[t], errs[t], rho) for t in ok
                          if t + 1 in reliable])
    # The constant at k = 0 is exactly 1 (the same number on both sides); k ≥ 1 carries both errors.
    const = _ratio_bounds([(kl_series[t], errs[t], kl_series[0], errs[0], rho**t) for t in ok if t > 0]) \
        if 0 in reliable else _Bounds(mp.zero, mp.zero, mp.zero, 0)
    if 0 in reliable:
        one = mp.one
        const = _Bounds(max(const.mid, one), max(const.low, one), max(const.high, one), const.points + 1)
    pts = [(t, kl_series[t]) for t in ok]
    fitted = mp.exp((mp.log(pts[-1][1]) - mp.log(pts[0][1])) / (pts[-1][0] - pts[0][0])) if len(pts) > 1 else mp.nan
    return step, const, fitted


def _dimension_start(claim: Claim, family: str, beta: Fraction, eta: Fraction,
                     **extra: str) -> tuple[Verdict, bool]:
    """NMP-DIM's verdict skeleton and whether its hypotheses hold (``not-applicable`` otherwise)."""
    if "{n}" not in family:
        raise InputError("a dimension family needs {n} in its spec, e.g. cyclic:n={n},skew=1/2")
    v = Verdict(claim.id, "pass", claim.provenance, claim.kind, family, "nash-mp", fraction_str(beta),
                fraction_str(eta), **extra)  # type: ignore[arg-type]
    ok, failed = hypotheses_hold(claim, {sp.Symbol("beta", positive=True): sp.Rational(beta.numerator,
                                 beta.denominator), sp.Symbol("eta", positive=True): sp.Rational(
                                     eta.numerator, eta.denominator)})
    if not ok:
        v.status, v.failed_hypothesis = "not-applicable", failed
    return v, ok


def check_dimension(claim: Claim, family: str, sizes: list[int], beta: Fraction, eta: Fraction, steps: int,
                    digits: int = 30, float_from: int = 64, on_size: Callable[[int], None] | None = None) -> Verdict:
    """NMP-DIM: the same family at several n; the normalised contraction and constant must stay ≤ 1.

    Like every verdict, a violation must be certain (the lower end of a ratio's error interval above
    1) and a pass too (every upper end ≤ 1, with at least one step evaluated at every size).
    """
    from .families import load_game
    from .solvers import NashMP

    v, ok = _dimension_start(claim, family, beta, eta)
    if not ok:
        return v
    solver = NashMP(beta, eta)
    rho = 1 / (1 + _mpf(eta) * _mpf(beta))
    rows: list[DimensionRow] = []
    bounds: list[_Bounds] = []
    for size in sizes:
        game = load_game(family.replace("{n}", str(size)))
        backend = "float" if size >= float_from else "mpmath"
        data = collect(game, solver, steps, digits, backend=backend)
        step, const, fitted = _dimension_bounds(data, rho)
        rows.append(DimensionRow(size, backend, _s(step.mid), _s(const.mid), _s(fitted / rho), step.points,
                                 data.exact_equilibrium))
        bounds += [step, const]
        if on_size is not None:
            on_size(size)
    v.extra["sizes"] = [r.__dict__ for r in rows]
    v.tightness = _s(max(b.mid for b in bounds))
    v.evaluated = f"n = {', '.join(str(s) for s in sizes)}; float64 screening for n ≥ {float_from}"
    return _dimension_verdict(v, rows, bounds)


def _dimension_verdict(v: Verdict, rows: list[DimensionRow], bounds: list[_Bounds]) -> Verdict:
    highest = max(b.high for b in bounds)
    if max(b.low for b in bounds) > 1:
        v.status = "violated"
        v.note = (f"a normalised contraction or constant exceeds 1 at some n beyond its error "
                  f"(interval up to {_s(highest)})")
    elif highest > 1 or any(r.points == 0 and not r.exact for r in rows):
        v.status = "inconclusive"
        empty = [str(r.n) for r in rows if r.points == 0 and not r.exact]
        v.note = (f"no step above the rounding floor at n = {', '.join(empty)}" if empty else
                  f"a ratio's error interval reaches {_s(highest)} > 1: rounding cannot decide it; raise the digits")
    else:
        growth = [mp.mpf(r.fitted_rate) for r in rows if r.fitted_rate != "nan"]
        trend = bool(growth) and growth[-1] > growth[0] * mp.mpf("1.05")
        v.note = "normalised fitted rate grows with n (all still within the bound)" if trend else (
            "normalised step ratio and constant ≤ 1 at every n, error intervals included")
    return v


def bound_series(claim: Claim, data: RunData) -> list[mpmath.mpf | None]:
    """The right-hand side of a bound claim's first statement at every k (None where undefined)."""
    if claim.kind != "bound" or not claim.statements:
        return []
    comp = _compile(claim.statements[0])
    out: list[mpmath.mpf | None] = []
    with mpmath.workdps(data.digits + data.guard):
        for t in range(data.steps + 1):
            vals, _, _ = data.at(t)
            try:
                out.append(comp.rhs(*_args(vals)))
            except (ValueError, ZeroDivisionError):
                out.append(None)
    return out


# ------------------------------------------------------------------ certified (balls)
#
# With the ball backend every metric is an enclosure. A claim is ``pass`` only when its
# inequality holds for every point of the balls, ``violated`` only when it fails for every
# point, ``inconclusive`` otherwise. RunData.values then holds the midpoints and RunData.errors
# the radii (upper bounds), so plots, rate fits and the rounding floor read them unchanged.

#: Radius growth budget along a trajectory, bits per iteration (measured ≈ 2.8 at η = 2).
GROWTH_BITS = 3
#: The largest working precision a certified trajectory may use.
MAX_TRAJECTORY_BITS = 16384
#: The largest --digits a certified retry may ask for.
MAX_RETRY_DIGITS = 1200

_ON_TRAJECTORY = "exact trajectory"
_AT_POINTS = "exactly represented points (π ∝ exp(mid log π_k)), one exact step each"


@dataclass
class BallRun:
    """What a certified check needs beyond RunData: the balls, and the run to re-step from exact points."""

    ng: NumericGame
    star: LogPolicy
    policies: list[LogPolicy]
    series: dict[str, list[Any]]
    statics: dict[str, Any]
    bits: int
    points: dict[int, dict[str, list[Any]]] = field(default_factory=dict)  # step claims, by k


class _BallPrinter(LambdaPrinter):  # type: ignore[misc]
    """Print a claim for ball evaluation: exact rationals, ball functions, no floats."""

    def _print_Rational(self, e: sp.Rational) -> str:
        return f"_q({e.p}, {e.q})"

    def _print_Integer(self, e: sp.Integer) -> str:
        return f"_q({e.p}, 1)"

    def _print_Float(self, e: sp.Float) -> str:
        sign, man, exp, bc = e._mpf_ if e._mpf_[1] else (0, 0, 0, 0)
        return f"_float({-1 if sign else 1}, {int(man)}, {int(exp)}, {int(bc)}, {int(e._prec)})"

    _print_Half = _print_One = _print_Zero = _print_NegativeOne = _print_Rational

    def _print_Pow(self, e: sp.Pow, rational: bool = False) -> str:
        return f"_pow({self._print(e.base)}, {self._print(e.exp)})"

    def _print_Function(self, e: sp.Function) -> str:
        return f"_fn({type(e).__name__!r}, {', '.join(self._print(a) for a in e.args)})"

    _print_log = _print_exp = _print_ceiling = _print_floor = _print_Abs = _print_sqrt = _print_Function

    def _print_Max(self, e: sp.Basic) -> str:
        return f"_fn('Max', {', '.join(self._print(a) for a in e.args)})"

    _print_Min = _print_Max

    def _print_Pi(self, e: sp.Basic) -> str:
        return "_fn('pi')"

    def _print_Exp1(self, e: sp.Basic) -> str:
        return "_fn('E')"


def _ball_fn(name: str, *args: Any) -> Any:
    from flint import arb

    xs = [to_arb(a) for a in args]
    if name == "Max" or name == "Min":
        out = xs[0]
        for x in xs[1:]:
            out = out.max(x) if name == "Max" else out.min(x)
        return out
    if name == "pi":
        return arb.pi()
    if name == "E":
        return arb(1).exp()
    if name == "ceiling":
        return xs[0].ceil()
    if name == "Abs":
        return abs(xs[0])
    method = getattr(xs[0], name, None)
    if method is None or len(xs) != 1:
        raise InputError(f"function {name} has no ball version: the claim cannot be certified")
    return method()


def _ball_float(sign: int, man: int, exp: int, bc: int, prec: int) -> Any:
    """A sympy Float: its binary value ± half an ulp of its precision (covering the decimal it was written as)."""
    from flint import arb, fmpz

    if man == 0:
        return arb(0)
    mid = arb(fmpz(sign * man)) * arb(2) ** exp  # exact: a power of two times an integer
    return arb(mid, arb(2) ** (exp + bc - prec - 1))


def _ball_pow(a: Any, e: Any) -> Any:
    x, y = to_arb(a), to_arb(e)
    z = y.unique_fmpz() if y.is_exact() else None
    if z is not None:
        return x ** int(z)
    return x**y


def _ball_lambdify(expr: sp.Basic) -> Callable[..., Any]:
    from flint import arb, fmpq

    ns = {"_q": lambda p, q: arb(fmpq(p, q)), "_fn": _ball_fn, "_pow": _ball_pow, "_float": _ball_float}
    f: Callable[..., Any] = sp.lambdify(_ORDER, expr, modules=[ns], printer=_BallPrinter)
    return f


@dataclass
class _BallCompiled:
    lhs: Callable[..., Any]
    rhs: Callable[..., Any]
    gap: Callable[..., Any]


_ALIASES_AT_0 = {sym: next(s for s, (nm, _) in SYMBOLS.items() if nm == SYMBOLS[sym][0][:-2])
                 for sym in SYMBOLS if SYMBOLS[sym][0].endswith("@0")}


def _ball_compile(rel: sp.Basic, first: bool) -> _BallCompiled | bool:
    """Ball functions for rhs, lhs and rhs − lhs; at k = 0, X@0 and X are one number (exact identity).

    Returns True/False when the statement is identically true/false at that point.
    """
    if first:
        from .claims import k as k_symbol

        rel = rel.subs({**_ALIASES_AT_0, k_symbol: 0})
    if rel is sp.true or rel is sp.false:
        return bool(rel)
    if not isinstance(rel, (sp.LessThan, sp.StrictLessThan)):
        raise InputError(f"claim statements must be ≤ relations, got {sp.sstr(rel)}")
    bad = unenclosable(rel)
    if bad is not None:
        raise InputError(f"claim statement {sp.sstr(rel)}: {bad} has no exact enclosure")
    gap = sp.simplify(rel.rhs - rel.lhs) if first else rel.rhs - rel.lhs
    return _BallCompiled(_ball_lambdify(rel.lhs), _ball_lambdify(rel.rhs), _ball_lambdify(gap))


_BALL_CACHE: dict[tuple[sp.Basic, bool], _BallCompiled | bool] = {}


def _ball_compiled(rel: sp.Basic, first: bool) -> _BallCompiled | bool:
    key = (rel, first)
    if key not in _BALL_CACHE:
        _BALL_CACHE[key] = _ball_compile(rel, first)
    return _BALL_CACHE[key]


def _ball_series(ng: NumericGame, star: LogPolicy, beta: Fraction, policies: list[LogPolicy],
                 halves: list[LogPolicy | None]) -> dict[str, list[Any]]:
    from flint import arb

    from .metrics import l1

    b = ng.backend
    out: dict[str, list[Any]] = {name: [] for name in (*_METRICS, "l1_half")}
    fields = [batch_fields(b, ng.P[c], [lp[c] for lp in policies]) for c in range(ng.k)]
    for t, lp in enumerate(policies):
        for c in range(ng.k):  # P·π_t of every iterate came from one matrix product: hand them to the metrics
            ng.products[id(lp[c])] = (lp[c], *fields[c][t])
        m = evaluate(ng, lp, star, b.scalar(beta))
        for name in _METRICS:
            out[name].append(to_arb(m.get(name)))
        half = halves[t] if t < len(halves) else None
        out["l1_half"].append(arb(0) if half is None else
                              b.vmax([l1(ng, h, s) for h, s in zip(half, star)]))
    return out


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
    exact = _pi_ref_is_equilibrium(game) and game.starts_at_reference()
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
    series = _ball_series(ng, eq.logpi, solver.beta, traj.policies, traj.halves)
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


def _ball_at(data: RunData, k: int, series: dict[str, list[Any]],
             at: int | None = None) -> tuple[dict[str, Any], dict[str, tuple[str, int]]]:
    """Balls of every symbol at index k of ``series``; the run's parameters (k, η_t) are those of iterate
    ``at`` (default k): a step point's two-entry series is indexed 0, 1 but stands for iterate ``at``."""
    from flint import arb, fmpq

    assert data.balls is not None
    vals: dict[str, Any] = dict(data.balls.statics)
    ident: dict[str, tuple[str, int]] = {}
    last = len(series["kl"]) - 1
    for name, s in series.items():
        for suffix, t in (("", k), ("@0", 0), ("@next", k + 1)):
            if t <= last:
                vals[name + suffix] = s[t]
                ident[name + suffix] = (name, t)
    t = k if at is None else at
    eta = data.solver.eta_at(t)
    vals["k"], vals["eta"] = arb(t), arb(fmpq(eta.numerator, eta.denominator))
    return vals, ident


def _step_point_series(data: RunData, t: int) -> dict[str, list[Any]]:
    """Metrics at π = normalize(exp(mid log π_t)) (an exact distribution) and one exact step from it."""
    from .numeric import Oracle

    assert data.balls is not None
    br = data.balls
    if t not in br.points:
        b = br.ng.backend
        assert isinstance(b, BallBackend)
        b.activate()
        x = [b.log_normalize(np.array([to_arb(v).mid() for v in c], dtype=object)) for c in br.policies[t]]
        step = data.solver.step(br.ng, x, t, Oracle(br.ng))
        br.points[t] = _ball_series(br.ng, br.star, data.beta, [x, step.policy], [step.half])
    return br.points[t]


def check_certified(claim: Claim, data: RunData, v: Verdict, until_floor: bool, eps_grid: int) -> Verdict:
    """A claim on certified data: decided only when every point of the balls agrees."""
    assert data.balls is not None
    v.method = "certified"
    step = claim.kind == "step" and not data.exact_equilibrium  # exact π*: the trajectory is exactly π_ref
    v.certified_at = _AT_POINTS if step else _ON_TRAJECTORY
    evaluations: list[tuple[int, dict[str, Any], dict[str, tuple[str, int]]]] = []
    cut: int | None = None
    if claim.kind == "hitting":
        if data.exact_equilibrium:
            v.evaluated, v.note = "exact", "π_ref is the equilibrium exactly: KL_0 = 0, so K_ε = 0 for every ε > 0"
            return v
        evaluations = _ball_hitting_points(data, claim, eps_grid)
    elif step:
        for t in range(data.steps):
            pair = _step_point_series(data, t)
            vals, ident = _ball_at(data, 0, pair, at=t)
            evaluations.append((t, vals, ident))
    else:
        points, cut = _points(claim, data, until_floor)
        if until_floor and claim.kind != "static":  # the floor of every metric the claim reads, not only its own
            stop = _ball_floor(data, claim)
            if points and stop < points[-1]:
                points, cut = points[: stop + 1], stop
        evaluations = [(t, *_ball_at(data, t, data.balls.series)) for t in points]
    undecided: list[tuple[int, Any]] = []
    equal: list[int] = []
    proved = ""
    identities = {rel: _proved_identity(rel, data.game) for rel in claim.statements}
    worst_ratio: Any = None
    for t, vals, _ident in evaluations:
        args = [vals.get(name, None) for name in _NAMES]
        for rel in claim.statements:
            comp = _ball_compiled(rel, first=t == 0 and not step)
            if comp is True:
                continue
            if comp is False:
                v.status, v.first_k, v.note = "violated", t, "the statement is identically false here"
                return v
            assert isinstance(comp, _BallCompiled)
            lhs, rhs, gap = comp.lhs(*args), comp.rhs(*args), comp.gap(*args)
            if rhs > 0 and lhs >= 0 and not gap.is_zero():
                ratio = lhs / rhs
                if worst_ratio is None or ratio.mid() > worst_ratio.mid():
                    worst_ratio = ratio
            if gap < 0:
                v.status, v.first_k = "violated", t
                v.observed, v.bound = _ball_s(lhs, 12), _ball_s(rhs, 12)
                v.margin, v.error = _ball_s(gap), _rad_s(gap)
                if claim.kind == "hitting":
                    v.note = (v.note + f" at ε = {_ball_s(vals['eps'])}").strip()
                v.tightness = _ball_s(worst_ratio) if worst_ratio is not None else None
                v.evaluated = _ball_range_text(claim, evaluations, cut, step)
                return v
            if not gap >= 0:
                identity = identities[rel]
                if identity is not None:  # equality proved exactly; the balls straddle 0 around it
                    equal.append(t)
                    proved = identity
                else:
                    undecided.append((t, gap))
    v.tightness = _ball_s(worst_ratio) if worst_ratio is not None else None
    v.evaluated = _ball_range_text(claim, evaluations, cut, step)
    if data.exact_equilibrium:
        v.note = (v.note + " π_ref is the equilibrium exactly (Pπ_ref constant): every metric is exactly 0").strip()
    if not evaluations:
        v.status = "inconclusive"
        if claim.kind == "hitting":
            v.note = (v.note + " no target ε was certainly reached within the horizon: raise the steps").strip()
        else:
            v.note = (v.note + " nothing could be evaluated: no point is certified; raise --digits").strip()
            v.needed_digits = min(2 * data.digits, MAX_RETRY_DIGITS)
        return v
    if undecided:
        t, gap = undecided[0]
        v.status, v.first_k, v.margin, v.error = "inconclusive", t, _ball_s(gap), _rad_s(gap)
        extra = 0
        for _, g in undecided:  # the balls' width over the gap's size; a gap inside its own radius: double
            lg_mid, lg_rad = log2_abs(g), log2_radius(g)
            extra = max(extra, math.ceil((lg_rad - lg_mid) / LOG2_10) + 5 if lg_mid > lg_rad else data.digits)
        v.needed_digits = min(data.digits + max(extra, 5), MAX_RETRY_DIGITS)
        v.note = (v.note + f" {len(undecided)} point(s) where the balls straddle the bound; "
                  f"rerun with --digits {v.needed_digits}").strip()
    elif equal:
        v.status, v.first_k = "equality", equal[0]
        v.note = (v.note + f" {len(equal)} point(s) hold with equality, proved: {proved}").strip()
    return v


def _ball_floor(data: RunData, claim: Claim) -> int:
    """Last k before any series the claim reads has a relative radius above 1e-9 (exact zeros are exact)."""
    names = {SYMBOLS[sym][0].split("@")[0] for rel in claim.statements for sym in rel.free_symbols if sym in SYMBOLS}
    stop = data.steps
    for name in names & set(_METRICS):
        stop = min(stop, _floor_index(data, name, data.steps))
    return stop


def _rad_s(x: Any) -> str:
    """The ball's radius, printed rounded up (3 digits)."""
    return str(to_arb(x).rad().upper().str(3, radius=False))


def _ball_s(x: Any, d: int = 6) -> str:
    return str(mp.nstr(to_mpf(to_arb(x)), d))


def _ball_range_text(claim: Claim, evaluations: list[Any], cut: int | None, step: bool) -> str:
    if not evaluations:
        return "no point could be evaluated"
    if claim.kind == "hitting":
        return f"{len(evaluations)} targets ε"
    text = f"k = {evaluations[0][0]}..{evaluations[-1][0]}"
    if step:
        return text + " (each at an exactly represented point)"
    if cut is not None:
        text += " (later iterates: balls wider than 1e-9 relative)"
    return text


def _ball_hitting_points(data: RunData, claim: Claim, grid: int) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    """Targets ε = mid(M_0)·10^(−j/2), exact; K_ε is certain: M_t > ε for t < K_ε and M_K_ε ≤ ε, for every point."""
    from flint import arb

    assert data.balls is not None
    series = data.balls.series[claim.metric]
    out: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    if series[0].is_zero():
        return out
    targets = [(series[0].mid() * arb(10) ** (arb(-j) / 2)).mid() for j in range(1, 2 * grid + 1)]
    if not series[-1] <= targets[1]:  # slow decay: targets spread over the decay seen in the run instead
        ratio = series[-1].mid() / series[0].mid()
        targets = [(series[0].mid() * ratio ** (arb(j) / (2 * grid))).mid() for j in range(1, 2 * grid + 1)]
    for target in targets:
        hit = None
        for t, m in enumerate(series):
            if m <= target:
                hit = t
                break
            if not m > target:
                break
        if hit is None:
            break
        vals, ident = _ball_at(data, 0, data.balls.series)
        vals["eps"], vals["k_eps"] = target, arb(hit)
        out.append((hit, vals, ident))
    return out


#: NMP-DIM runs certified up to this size, float64 screening above it.
CERTIFIED_DIM_MAX = 1024


def check_dimension_certified(claim: Claim, family: str, sizes: list[int], beta: Fraction, eta: Fraction,
                              steps: int, digits: int = 30,
                              on_size: Callable[[int], None] | None = None) -> Verdict:
    """NMP-DIM in balls: KL_{k+1}(1+ηβ)/KL_k and KL_k(1+ηβ)^k/KL_0 ≤ 1 decided for every point of the balls.

    Sizes above :data:`CERTIFIED_DIM_MAX` are screened in float64 (and said so).
    """
    from flint import arb, fmpq

    from .families import load_game
    from .solvers import NashMP

    v, ok = _dimension_start(claim, family, beta, eta, method="certified", certified_at=_ON_TRAJECTORY)
    if not ok:
        return v
    big = [s for s in sizes if s > CERTIFIED_DIM_MAX]
    small = [s for s in sizes if s <= CERTIFIED_DIM_MAX]
    rows: list[DimensionRow] = []
    verdicts: list[str] = []
    worst = mp.zero
    solver = NashMP(beta, eta)
    for size in small:
        data = collect_certified(load_game(family.replace("{n}", str(size))), solver, steps, digits)
        assert data.balls is not None
        kl_b = data.balls.series["kl"]
        one_plus = 1 + arb(fmpq(eta.numerator, eta.denominator)) * arb(fmpq(beta.numerator, beta.denominator))
        live = [t for t in range(steps + 1) if kl_b[t] > 0]
        ratios = [kl_b[t + 1] * one_plus / kl_b[t] for t in live if t + 1 in live]
        consts = [kl_b[t] * one_plus**t / kl_b[0] for t in live if t > 0] if 0 in live else []  # t = 0: exactly 1
        balls_ = ratios + consts
        if any(r > 1 for r in balls_):
            verdicts.append("violated")
        elif not all(r <= 1 for r in balls_):
            verdicts.append("inconclusive")
        step_ratio = max((upper(r) for r in ratios), default=0.0)
        const = max((upper(c) for c in consts), default=0.0)
        with mpmath.workdps(digits):
            pts = [(t, to_mpf(kl_b[t])) for t in live]
            fitted = (mp.exp((mp.log(pts[-1][1]) - mp.log(pts[0][1])) / (pts[-1][0] - pts[0][0])) * (
                1 + _mpf(eta) * _mpf(beta))) if len(pts) > 1 else mp.nan
        rows.append(DimensionRow(size, "arb", f"{step_ratio:.6g}", f"{const:.6g}", _s(fitted)))
        worst = max(worst, mp.mpf(step_ratio), mp.mpf(const))
        if on_size is not None:
            on_size(size)
    if big:
        screened = check_dimension(claim, family, big, beta, eta, steps, digits, float_from=0)
        screened_rows: list[dict[str, Any]] = list(screened.extra.get("sizes", []))  # type: ignore[call-overload]
        rows.extend(DimensionRow(**r) for r in screened_rows)
        verdicts.append(screened.status)
        v.method = "screened" if not small else "certified and screened"
        if not small:
            v.certified_at = None
    v.extra["sizes"] = [r.__dict__ for r in rows]
    v.tightness = _s(worst)
    v.evaluated = (f"n = {', '.join(str(s) for s in sizes)}; certified (balls) for n ≤ {CERTIFIED_DIM_MAX}"
                   + (", float64 screening above" if big else ""))
    if "violated" in verdicts:
        v.status, v.note = "violated", "a normalised contraction or constant exceeds 1 for every point of the balls"
    elif "inconclusive" in verdicts:
        v.status, v.note = "inconclusive", "a normalised ratio's ball straddles 1: raise the digits"
    else:
        growth = [mp.mpf(r.fitted_rate) for r in rows if r.fitted_rate != "nan"]
        trend = bool(growth) and growth[-1] > growth[0] * mp.mpf("1.05")
        v.note = ("normalised fitted rate grows with n (all still within the bound)" if trend else
                  "normalised step ratio and constant ≤ 1 at every n, for every point of the balls")
    return v
