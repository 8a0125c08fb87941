"""Run a solver, evaluate claims on every iterate, and produce verdicts.

Rounding never decides a verdict. Every metric is computed twice, at the working precision D
and at D + G digits; its error estimate is twice their difference plus a rounding floor
(100·n·10^(−D)·scale). A claim's margin must exceed the propagated error to count as ``pass``
or ``violated``; otherwise the point is ``inconclusive`` and the report says which precision
would settle it. This is an estimate by precision doubling, not a certified enclosure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
import sympy as sp

from .backends import make_backend
from .claims import SYMBOLS, Claim, hypotheses_hold
from .equilibrium import solve_equilibrium
from .errors import InputError
from .games import HALF, Game
from .metrics import evaluate, kl
from .numbers import fraction_str
from .numeric import LogPolicy, NumericGame
from .solvers import NashMD, Solver, run

mp = mpmath.mp
Series = dict[str, list[mpmath.mpf]]

STATUSES = ("pass", "violated", "inconclusive", "not-applicable")


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
    """Every metric of a trajectory, at D + G digits, with an error estimate for each value."""

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

    def at(self, k: int) -> tuple[dict[str, mpmath.mpf], dict[str, mpmath.mpf], dict[str, tuple[str, int]]]:
        """Values, errors and identities of every symbol at iterate k (``@next``: k+1, ``@0``: 0).

        The identity (metric, index) lets the checker see that, e.g., KL_k and KL_0 at k = 0 are one
        number, so their rounding errors cancel instead of adding up.
        """
        vals: dict[str, mpmath.mpf] = dict(self.statics)
        errs: dict[str, mpmath.mpf] = {key: mp.zero for key in self.statics}
        ident: dict[str, tuple[str, int]] = {}
        last = len(self.values["kl"]) - 1
        for name, series in self.values.items():
            for suffix, t in (("", k), ("@0", 0), ("@next", k + 1)):
                if t <= last:
                    vals[name + suffix], errs[name + suffix] = series[t], self.errors[name][t]
                    ident[name + suffix] = (name, t)
        vals["k"], errs["k"] = mp.mpf(k), mp.zero
        vals["eta"] = mp.mpf(self.solver.eta_at(k).numerator) / self.solver.eta_at(k).denominator
        errs["eta"] = mp.zero
        return vals, errs, ident


def _mpf(x: Fraction) -> mpmath.mpf:
    return mp.mpf(x.numerator) / x.denominator


def collect(game: Game, solver: Solver, steps: int, digits: int = 50, guard: int | None = None,
            backend: str = "mpmath", on_step: Callable[[int], None] | None = None) -> RunData:
    """Run the solver at D and D + G digits and gather every metric with its error estimate."""
    if steps < 1:
        raise InputError(f"steps must be ≥ 1 for a check, got {steps}")
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
    for t, lp in enumerate(policies):
        m = evaluate(ng, lp, star, b.scalar(beta))
        for name in _METRICS:
            series[name].append(mp.mpf(m.get(name)))
        half = halves[t] if t < len(halves) else None
        l1h = mp.zero if half is None else mp.mpf(
            max(sum(abs(v) for v in b.exp(h) - b.exp(s)) for h, s in zip(half, star)))
        series["l1_half"].append(l1h)
        scale.append(1 + max(abs(float(x)) for lp_c in lp for x in lp_c) + star_scale)
    return series, scale


def _statics(game: Game, solver: Solver, ng: NumericGame, star: LogPolicy, exact: bool) -> dict[str, mpmath.mpf]:
    return {
        "beta": _mpf(solver.beta),
        "n": mp.mpf(game.n),
        "N": mp.zero,
        "min_ref": _mpf(game.min_reference()),
        "schedule": mp.mpf(1 if isinstance(solver, NashMD) and solver.schedule else 0),
        "kl_ref_star": mp.zero if exact else mp.mpf(
            ng.average([kl(ng, star[c], ng.logref[c]) for c in range(ng.k)])),
        "p_ref_star": _mpf(HALF) if exact else mp.mpf(ng.average(
            [ng.ref[c] @ (ng.P[c] @ ng.backend.exp(star[c])) for c in range(ng.k)])),
    }


def _pi_ref_is_equilibrium(game: Game) -> bool:
    """Exact test: Pπ_ref constant in every context means π* = π_ref (and every solver stays there)."""
    return all(len({sum((p * r for p, r in zip(row, c.reference)), Fraction(0)) for row in c.preference}) == 1
               for c in game.contexts)


def _collect(game: Game, solver: Solver, steps: int, digits: int, g: int, backend: str,
             on_step: Callable[[int], None] | None) -> RunData:
    exact = _pi_ref_is_equilibrium(game) and game.starts_at_reference()
    runs: list[tuple[Series, list[float]]] = []
    precisions = [make_backend(backend, digits)]
    if backend != "float":
        precisions.append(make_backend("mpmath", digits + g))
    for idx, b in enumerate(precisions):
        eq = solve_equilibrium(game, solver.beta, b)
        traj = run(game, solver, steps, b, on_step=on_step if idx == 0 else None)
        ng = NumericGame(game, b)
        runs.append(_series(ng, eq.logpi, solver.beta, traj.policies, traj.halves))
    (lo, scale), (hi, _) = runs[0], runs[-1]
    floor = (100 * game.n * _mpf(Fraction(1, 10**digits)) if backend != "float"
             else mp.mpf(2.0**-52) * 1000 * game.n)
    errors: Series = {}
    for name in hi:
        errors[name] = [2 * (abs(lo[name][t] - v) if len(runs) > 1 else mp.zero) + floor * scale[t] * (1 + abs(v))
                        for t, v in enumerate(hi[name])]
    if exact:  # π_ref is the equilibrium exactly: every solver stays at π_ref, every metric is exactly 0
        for name in hi:
            hi[name] = [mp.zero] * len(hi[name])
            errors[name] = [mp.zero] * len(hi[name])
    statics = _statics(game, solver, ng, eq.logpi, exact)
    hi["N"] = [mp.mpf(t * solver.queries_per_step) for t in range(steps + 1)]
    errors["N"] = [mp.zero] * (steps + 1)
    return RunData(game, solver, solver.beta, digits, g, steps, hi, errors, statics, exact, backend)


def from_iterates(game: Game, solver: Solver, policies: Sequence[Sequence[Sequence[Fraction]]],
                  relative_error: float, digits: int = 40) -> RunData:
    """Metrics of someone else's iterates π_0..π_K, given as exact log-probabilities per context.

    The iterates are taken as given; their own rounding (``relative_error`` per entry, e.g. 2⁻⁵² for
    float64) sets each metric's error: 100·n·relative_error·scale·(1 + |value|).
    """
    with mpmath.workdps(digits + 10):
        b = make_backend("mpmath", digits)
        eq = solve_equilibrium(game, solver.beta, b)
        ng = NumericGame(game, b)
        logs = [[b.log_normalize(b.vector(c)) for c in pol] for pol in policies]
        series, scale = _series(ng, eq.logpi, solver.beta, logs, [])
        floor = 100 * game.n * mp.mpf(relative_error)
        errors = {name: [floor * scale[t] * (1 + abs(v)) for t, v in enumerate(vals)] for name, vals in series.items()}
        steps = len(policies) - 1
        series["N"] = [mp.mpf(t * solver.queries_per_step) for t in range(steps + 1)]
        errors["N"] = [mp.zero] * (steps + 1)
        return RunData(game, solver, solver.beta, digits, 10, steps, series, errors,
                       _statics(game, solver, ng, eq.logpi, False), False, "given iterates")


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


def _compile(rel: sp.Basic) -> _Compiled:
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
    values, errors = data.values[metric], data.errors[metric]
    for t in range(last + 1):
        if values[t] != 0 and errors[t] > values[t] * mp.mpf("1e-9"):
            return t - 1
    return last


def _param_values(data: RunData) -> dict[sp.Symbol, sp.Expr]:
    from .claims import beta, eta, n, sched, start_ref

    solver = data.solver
    return {beta: sp.Rational(solver.beta.numerator, solver.beta.denominator),
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
                   or not solver.schedule else "2/(β(t+2))")
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
    with mpmath.workdps(data.digits + data.guard):
        if claim.kind == "rate" and _constant_applies(claim, data):
            return _check_rate_constant(claim, data, base, until_floor, eps_grid)
        if claim.kind == "rate":
            return _check_rate(claim, data, base, until_floor)
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
    points, cut = _points(claim, data, until_floor)
    worst_ratio = None
    undecided: list[tuple[int, mpmath.mpf, mpmath.mpf]] = []
    evaluations: list[_Point] = []
    if claim.kind == "hitting":
        evaluations = _hitting_points(data, claim, eps_grid)
    else:
        for t in points:
            evaluations.append((t, *data.at(t)))
    for t, vals, errs, ident in evaluations:
        args = _args(vals)
        for comp in compiled:
            lhs, rhs = comp.lhs(*args), comp.rhs(*args)
            gap = rhs - lhs
            prop = _propagate(comp, args, errs, ident)
            err = prop + (abs(lhs) + abs(rhs)) * mp.eps * 16
            if rhs > 0 and lhs >= 0 and not (gap == 0 and prop == 0):  # skip identities such as KL_0 ≤ KL_0
                ratio = lhs / rhs
                worst_ratio = ratio if worst_ratio is None or ratio > worst_ratio else worst_ratio
            if gap + err < 0:
                v.status, v.first_k = "violated", t
                v.observed, v.bound, v.margin, v.error = _s(lhs, 12), _s(rhs, 12), _s(gap), _s(err, 3)
                if claim.kind == "hitting":
                    v.note = (v.note + f" at ε = {_s(vals['eps'])}").strip()
                v.tightness = _s(worst_ratio) if worst_ratio is not None else None
                v.evaluated = _range_text(claim, evaluations, cut)
                return v
            if gap - err < 0 and not (gap >= 0 and prop == 0):
                undecided.append((t, gap, err))
    v.tightness = _s(worst_ratio) if worst_ratio is not None else None
    v.evaluated = _range_text(claim, evaluations, cut)
    if data.exact_equilibrium:
        v.note = (v.note + " π_ref is the equilibrium exactly (Pπ_ref constant): every metric is exactly 0").strip()
    if undecided:
        t, gap, err = undecided[0]
        v.status, v.first_k, v.margin, v.error = "inconclusive", t, _s(gap), _s(err, 3)
        need = data.digits + (int(mp.ceil(mp.log10(err / abs(gap)))) if gap != 0 else data.digits) + 5
        v.needed_digits = need
        v.note = (v.note + f" {len(undecided)} point(s) inside the rounding error; rerun with --digits {need}").strip()
    return v


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
    out = _check_inequalities(bound, data, v, until_floor, eps_grid)
    out.kind, out.note = "rate", (out.note + f" constant C = {sp.sstr(claim.constant)} checked as a bound").strip()
    return out


def _check_rate(claim: Claim, data: RunData, v: Verdict, until_floor: bool) -> Verdict:
    assert claim.rate is not None
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
    if v.slower:
        v.status, v.first_k = "violated", pts[arg][0]
        v.note = ("fitted tail rate is slower than the claimed rate (the constant is unknown: this is evidence "
                  "from a finite run, not a proof)")
    return v


# ------------------------------------------------------------------ dimension


@dataclass
class DimensionRow:
    n: int
    backend: str
    worst_step_ratio: str
    constant: str
    fitted_rate: str


def check_dimension(claim: Claim, family: str, sizes: list[int], beta: Fraction, eta: Fraction, steps: int,
                    digits: int = 30, float_from: int = 64, on_size: Callable[[int], None] | None = None) -> Verdict:
    """NMP-DIM: the same family at several n; the normalised contraction and constant must stay ≤ 1."""
    from .families import load_game
    from .solvers import NashMP

    if "{n}" not in family:
        raise InputError("a dimension family needs {n} in its spec, e.g. cyclic:n={n},skew=1/2")
    v = Verdict(claim.id, "pass", claim.provenance, claim.kind, family, "nash-mp", fraction_str(beta),
                fraction_str(eta))
    solver = NashMP(beta, eta)
    ok, failed = hypotheses_hold(claim, {sp.Symbol("beta", positive=True): sp.Rational(beta.numerator,
                                 beta.denominator), sp.Symbol("eta", positive=True): sp.Rational(
                                     eta.numerator, eta.denominator)})
    if not ok:
        v.status, v.failed_hypothesis = "not-applicable", failed
        return v
    rho = 1 / (1 + _mpf(eta) * _mpf(beta))
    rows: list[DimensionRow] = []
    worst = mp.zero
    for size in sizes:
        game = load_game(family.replace("{n}", str(size)))
        backend = "float" if size >= float_from else "mpmath"
        data = collect(game, solver, steps, digits, backend=backend)
        kl_series, errs = data.values["kl"], data.errors["kl"]
        reliable = [t for t in range(steps + 1) if errs[t] < kl_series[t] * mp.mpf("1e-3")]
        ratios = [(kl_series[t + 1] + errs[t + 1]) / (rho * (kl_series[t] - errs[t]))
                  for t in reliable if t + 1 in reliable]
        step_ratio = max(ratios) if ratios else mp.zero
        const = max((kl_series[t] / (rho**t * kl_series[0]) for t in range(steps + 1)
                     if errs[t] < kl_series[t] * mp.mpf("1e-3")), default=mp.zero) if kl_series[0] > 0 else mp.zero
        pts = [(t, m) for t, m in enumerate(kl_series) if m > 0 and errs[t] < m * mp.mpf("1e-3")]
        fitted = mp.exp((mp.log(pts[-1][1]) - mp.log(pts[0][1])) / (pts[-1][0] - pts[0][0])) if len(pts) > 1 else mp.nan
        rows.append(DimensionRow(size, backend, _s(step_ratio), _s(const), _s(fitted / rho)))
        worst = max(worst, step_ratio, const)
        if on_size is not None:
            on_size(size)
    v.extra["sizes"] = [r.__dict__ for r in rows]
    v.tightness = _s(worst)
    v.evaluated = f"n = {', '.join(str(s) for s in sizes)}; float64 screening for n ≥ {float_from}"
    if worst > 1:
        v.status = "violated"
        v.note = "a normalised contraction or constant exceeds 1 at some n"
    else:
        growth = [mp.mpf(r.fitted_rate) for r in rows if r.fitted_rate != "nan"]
        trend = bool(growth) and growth[-1] > growth[0] * mp.mpf("1.05")
        v.note = "normalised fitted rate grows with n (all still within the bound)" if trend else (
            "normalised step ratio and constant ≤ 1 at every n")
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
