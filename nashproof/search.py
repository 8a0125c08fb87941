"""Worst cases on demand: adversarial search for the instance that brings a claim closest to failing.

For a claim ``lhs ≤ rhs`` the *ratio* of an instance is the largest lhs/rhs over the iterates
evaluated; for a right side made of several positive terms, the *normalised margin* of one term t is
(lhs − (rhs − t))/t, which is ≤ the ratio and reaches 1 exactly when that term's constant is sharp.
The search maximises a ratio over the instance space:

* games with n actions (and optionally several contexts): preference entries in [0, 1] with
  P + Pᵀ = 1 by construction, π_ref in the interior;
* β (log scale) and η inside the claim's hypotheses (beyond them with ``ignore_hypotheses``);
* the starting policy, as logits whose scale reaches 10^max_log10_logit, so that masses like
  e^(−10⁷) are representable (unless the claim assumes π_0 = π_ref).

The global optimiser is CMA-ES (``cma``) in float64 on the unit cube, followed by a Nelder–Mead
refinement; every decoded instance is already exact (rounded rationals, rational logits), so the
best one is re-evaluated as it stands by :func:`verify.collect` at high precision (precision
doubling) and its ratio printed with an error estimate. Tasks (target × n × restart) are seeded by
their identity and spread with :mod:`nashproof.parallel`.

The second half is the local threshold of the Nash-MP step (``step_threshold``): near π*, one
step is the linear map T = [I + (ηB + η²B²)/c]/c, c = 1 + ηβ, on log-policy perturbations, with
B = Q D^½ A D^½ Q skew-symmetric (D = diag π*, A = P − ½, Q projects out √π*); in the Fisher
metric its KL ratio times c is max_j [(1 − x_j/c)² + x_j/c²]/c, x_j = η²μ_j², over the singular
values μ_j of B on the tangent space (docs/proofs.md §3.4).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import lru_cache

import mpmath
import numpy as np
import sympy as sp

from .backends import FloatBackend
from .claims import SYMBOLS, Catalogue, Claim, builtin_catalogue, hypotheses_hold
from .claims import beta as BETA
from .claims import eta as ETA
from .claims import n as N_SYM
from .claims import sched as SCHED
from .claims import start_ref as START_REF
from .equilibrium import float_solve
from .errors import InputError, NashproofError
from .games import Context, Game, game_to_dict, make_game
from .numbers import fraction_str
from .numeric import NumericGame
from .parallel import pmap, task_seed
from .solvers import NashMD, Solver, make_solver
from .verify import (
    ExactStatement as _Compiled,
)
from .verify import (
    RunData,
    check_claim,
    collect,
    eta_bar,
    local_kl_ratio,
    local_radius2,
    local_spectrum,
)
from .verify import claim_points as _points
from .verify import compile_statement as _compile
from .verify import lambdify_exact as _lambdify
from .verify import propagate_error as _propagate
from .verify import symbol_args as _args

mp = mpmath.mp

SEARCHABLE = ("step", "bound", "static")
#: The spec searched for a claim whose first solver needs parameters (``--solver`` overrides): adversarial errors
#: of size δ = 1/100, whose worst case is sharpest at large β (docs/search.md).
DEFAULT_SPECS = {"nash-mp-inexact": "nash-mp-inexact:delta=1/100,perturb=adversarial",
                 "nash-mp-pg": "nash-mp-pg:T=2"}
#: Points whose float64 ratio is less accurate than this (estimated) are not used by the search.
FLOAT_TOLERANCE = 1e-6
_PARAMS = ("beta", "eta", "k", "n", "N", "schedule", "start_ref", "rho_loc", "epsilon", "C")
_ORDER = list(SYMBOLS)


# ------------------------------------------------------------------ targets


@dataclass(frozen=True)
class Target:
    """What to maximise: statement ``statement`` of a claim, whole (``term`` None) or one rhs term."""

    claim: str
    statement: int
    term: int | None = None
    text: str = ""

    @property
    def label(self) -> str:
        s = f"{self.claim}[{self.statement + 1}]"
        return s if self.term is None else f"{s} term {self.text}"


def _rhs_terms(rhs: sp.Expr) -> list[sp.Expr]:
    """The right side as a sum of ≥ 2 positive terms (grouped by metric symbol), else []."""
    metric = [s for s in SYMBOLS if SYMBOLS[s][0] not in _PARAMS]
    expr = sp.collect(sp.expand(rhs), metric)
    terms = list(sp.Add.make_args(expr))
    if len(terms) < 2:
        return []
    probe = {s: sp.Rational(1, 4) for s in expr.free_symbols}
    probe.update({s: sp.Rational(1, 10) for s in expr.free_symbols if s.name in ("beta",)})
    if any(not (t.subs(probe).evalf() > 0) for t in terms):
        return []
    return terms


def claim_targets(claim: Claim) -> list[Target]:
    """Every statement of the claim as a whole, then each positive term of a multi-term right side."""
    if claim.kind not in SEARCHABLE:
        raise InputError(f"claim {claim.id} is of kind {claim.kind!r}: search handles {', '.join(SEARCHABLE)} claims")
    out = []
    for i, st in enumerate(claim.statements):
        out.append(Target(claim.id, i))
        for j, t in enumerate(_rhs_terms(st.rhs)):
            out.append(Target(claim.id, i, j, sp.sstr(t)))
    return out


@dataclass
class _Fns:
    lhs: Callable[..., float]
    rhs: Callable[..., float]
    term: Callable[..., float] | None
    compiled: _Compiled | None = None  # for the float64 error estimate


def _fns(claim: Claim, target: Target, module: str) -> _Fns:
    st = claim.statements[target.statement]
    if not isinstance(st, (sp.LessThan, sp.StrictLessThan)):
        raise InputError(f"claim statements must be ≤ relations, got {sp.sstr(st)}")
    term = _rhs_terms(st.rhs)[target.term] if target.term is not None else None

    def lam(e: sp.Expr) -> Callable[..., float]:
        f: Callable[..., float] = sp.lambdify(_ORDER, e, modules=module)
        return f

    return _Fns(lam(st.lhs), lam(st.rhs), lam(term) if term is not None else None, _compile(st))


def _ratio(fns: _Fns, args: Sequence[object]) -> object:
    lhs, rhs = fns.lhs(*args), fns.rhs(*args)
    if fns.term is None:
        return lhs / rhs
    t = fns.term(*args)
    return (lhs - (rhs - t)) / t


# ------------------------------------------------------------------ instance space


@dataclass(frozen=True)
class Space:
    """The instance space of one search task (all ranges inclusive)."""

    n: int
    solver: str
    steps: int
    contexts: int = 1
    beta_range: tuple[Fraction, Fraction] = (Fraction(1, 100), Fraction(1))
    eta: Fraction | None = None  # fixed η (None: searched)
    eta_cap_factor: Fraction = Fraction(4)  # η ≤ factor·η̄(β) when the hypotheses do not bound η
    eta_floor: Fraction = Fraction(1, 2)  # η ≥ floor·(largest admissible η): step ratios → 1 as η → 0
    schedule: bool = False  # Nash-MD's η_t = 2/(β(t+2))
    free_start: bool = True
    max_log10_logit: int = 12
    ignore_hypotheses: bool = False
    game: Game | None = None  # fixed game: only β, η and the start are searched
    free_reference: bool = False  # with a fixed game: search π_ref too (its preference stays fixed)
    float_tolerance: float = FLOAT_TOLERANCE

    def dimension(self) -> int:
        per_ctx = self.n * (self.n - 1) // 2 + self.n + 1 if self.game is None else (
            self.n + 1 if self.free_reference else 0)
        start = self.n + 1 if self.free_start else 0
        k = self.contexts if self.game is None else len(self.game.contexts)
        weights = k if (self.game is None and k > 1) else 0
        return k * (per_ctx + start) + weights + 2


@dataclass(frozen=True)
class Instance:
    """One exact instance: a game (with start logits), a solver, β, η (None: solver default) and K."""

    game: Game
    solver: str
    beta: Fraction
    eta: Fraction | None
    steps: int

    def make_solver(self) -> Solver:
        return make_solver(self.solver, self.beta, self.eta)

    def as_dict(self) -> dict[str, object]:
        return {"game": game_to_dict(self.game), "solver": self.solver, "beta": fraction_str(self.beta),
                "eta": fraction_str(self.eta) if self.eta is not None else "default", "steps": self.steps}


def _unit(x: float) -> float:
    return min(1.0, max(0.0, float(x)))


def _q(x: float, scale: int = 10**6) -> Fraction:
    return Fraction(round(x * scale), scale)


def _plateaus(u: float) -> float:
    """[0, 1] → [0, 1] with flat stretches at 0, ½ and 1, so CMA-ES reaches ties and 0/1 entries."""
    if u <= 0.1 or u >= 0.9:
        return 0.0 if u <= 0.1 else 1.0
    if 0.4 <= u <= 0.6:
        return 0.5
    return (u - 0.1) / 0.6 if u < 0.4 else 0.5 + (u - 0.6) / 0.6


def _interior(dirs: Sequence[float], scale: float) -> tuple[Fraction, ...]:
    """π_ref ∝ exp(d·s), exact: 9 significant digits per entry, entries ≥ 10⁻³⁰⁰, normalised exactly."""
    top = max(dirs) * scale
    probs = [max(1e-300, math.exp(d * scale - top)) for d in dirs]
    raw = [Fraction(f"{p:.9e}") for p in probs]
    total = sum(raw, Fraction(0))
    return tuple(r / total for r in raw)


def _simplex(weights: Sequence[float], resolution: int = 10**9) -> tuple[Fraction, ...]:
    """Exact positive rationals summing to 1, close to ``weights``/Σ."""
    total = sum(weights)
    ints = [max(1, round(w / total * resolution)) for w in weights]
    s = sum(ints)
    return tuple(Fraction(i, s) for i in ints)


class _Hyp:
    """The claim's hypotheses in float64, for finding the admissible range of η quickly."""

    def __init__(self, claim: Claim) -> None:
        self.fns = [sp.lambdify((BETA, ETA, N_SYM, SCHED, START_REF), h, modules="math") for h in claim.hypotheses]
        self.mentions_eta = any(ETA in h.free_symbols for h in claim.hypotheses)

    def ok(self, beta: float, eta: float, n: int, sched: int, start_ref: int) -> bool:
        try:
            return all(bool(f(beta, eta, n, sched, start_ref)) for f in self.fns)
        except (ValueError, ZeroDivisionError, TypeError):
            return False

    def eta_max(self, beta: float, n: int, sched: int, start_ref: int, cap: float) -> float | None:
        if self.ok(beta, cap, n, sched, start_ref):
            return cap
        lo = cap * 1e-6
        if not self.ok(beta, lo, n, sched, start_ref):
            return None
        hi = cap
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if self.ok(beta, mid, n, sched, start_ref) else (lo, mid)
        return lo


def decode(space: Space, x: Sequence[float], hyp: _Hyp | None) -> Instance:
    """The exact instance encoded by a point of the unit cube (see :class:`Space`)."""
    it = iter(float(v) for v in x)
    n = space.n
    base = space.game
    k = space.contexts if base is None else len(base.contexts)
    contexts: list[Context] = []
    dirs: list[list[float]] = []
    scales: list[float] = []
    for c in range(k):
        if base is None:
            P = [[Fraction(1, 2)] * n for _ in range(n)]
            for i in range(n):
                for j in range(i + 1, n):
                    p = _q(_plateaus(_unit(next(it))))
                    P[i][j], P[j][i] = p, 1 - p
            dirs_ref = [2 * _unit(next(it)) - 1 for _ in range(n)]
            ref = _interior(dirs_ref, 10 ** (-1 + 3.8 * _unit(next(it))))
            ctx = Context(f"x{c}", Fraction(1), tuple(tuple(r) for r in P), ref)
        else:
            ctx = base.contexts[c]
            if space.free_reference:
                dirs_ref = [2 * _unit(next(it)) - 1 for _ in range(n)]
                ctx = replace(ctx, reference=_interior(dirs_ref, 10 ** (-1 + 3.8 * _unit(next(it)))))
        contexts.append(ctx)
        if space.free_start:
            dirs.append([2 * _unit(next(it)) - 1 for _ in range(n)])
            scales.append(10 ** (-8 + (space.max_log10_logit + 8) * _unit(next(it))))
    if base is None and k > 1:
        ws = _simplex([math.exp(4 * _unit(next(it)) - 2) for _ in range(k)], 10**6)
        contexts = [replace(c, weight=w) for c, w in zip(contexts, ws)]
    actions = base.actions if base is not None else tuple(f"y{i}" for i in range(n))
    game = make_game(actions, contexts, "search")
    lo, hi = space.beta_range
    b = _unit(next(it))
    beta = lo if lo == hi else Fraction(lo * (hi / lo) ** b).limit_denominator(10**7)
    beta = min(max(beta, lo), hi)
    if space.free_start:  # π_0 ∝ exp(log π*_β + d·s): near π* (s = 10⁻⁸) up to masses e^(−10^max_log10_logit)
        ng = NumericGame(game, FloatBackend())
        try:  # the float64 continuation alone: the centre need not be exact
            centre = [list(map(float, float_solve(ng.P[c], ng.logref[c], 1 / float(beta)))) for c in range(ng.k)]
        except NashproofError:
            centre = [list(map(float, x)) for x in ng.logref]
        game = game.with_start([[_q(m + d * sc, 10**12) for m, d in zip(mid, dd)]
                                for mid, dd, sc in zip(centre, dirs, scales)])
    e = _unit(next(it))
    eta: Fraction | None
    if space.schedule:
        eta = None
    elif space.eta is not None:
        eta = space.eta
    else:
        cap = float(space.eta_cap_factor) * eta_bar(beta)
        top: float | None = cap
        if hyp is not None and hyp.mentions_eta and not space.ignore_hypotheses:
            top = hyp.eta_max(float(beta), n, 0, int(game.starts_at_reference()), cap)
        if top is None:
            raise InputError("no step size satisfies the claim's hypotheses at this β")
        frac = float(space.eta_floor) + (1 - float(space.eta_floor)) * e
        eta = Fraction(math.floor(frac * top * 10**9), 10**9) or Fraction(1, 10**9)
    return Instance(game, space.solver, beta, eta, space.steps)


# ------------------------------------------------------------------ float64 objective


#: Where float64 is too inaccurate, the objective is recomputed in mpmath at this many digits.
FALLBACK_DIGITS = 30
_FAILURES = (NashproofError, ValueError, ZeroDivisionError, OverflowError, FloatingPointError, np.linalg.LinAlgError)


def float_ratio(claim: Claim, fns: _Fns, inst: Instance, tolerance: float = FLOAT_TOLERANCE) -> float:
    """The target's worst ratio over the instance's iterates, in float64 (0 where undefined).

    The float backend's error estimate (rounding floor × logit scale) is propagated to the ratio; where it
    exceeds ``tolerance`` (cancellation, e.g. near π*) the instance is re-evaluated in mpmath at
    :data:`FALLBACK_DIGITS` digits, so rounding can neither fake a ratio nor hide one.
    """
    try:
        data = collect_instance(inst.game, inst.make_solver(), inst.steps, 15, backend="float")
    except _FAILURES:
        return 0.0
    best, rejected = _best_ratio(claim, fns, data, tolerance, _float_scale(inst))
    if rejected:
        try:
            data = collect_instance(inst.game, inst.make_solver(), inst.steps, FALLBACK_DIGITS, guard=10)
        except _FAILURES:
            return best
        with mpmath.workdps(FALLBACK_DIGITS + 15):
            best = max(best, _best_ratio(claim, fns, data, tolerance)[0])
    return best


def _float_scale(inst: Instance) -> float:
    """Largest log-magnitude in play: start logits, log π_ref, and |log π*| ≤ max|log π_ref| + 1/β."""
    logs = [abs(float(x)) for c in inst.game.contexts for x in (c.start or ())]
    refs = [abs(math.log(float(r))) if r > 0 else 700.0 for c in inst.game.contexts for r in c.reference]
    return 1 + max(logs, default=0.0) + 2 * max(refs) + 1 / float(inst.beta)


def _best_ratio(claim: Claim, fns: _Fns, data: RunData, tolerance: float,
                float_scale: float | None = None) -> tuple[float, bool]:
    """Worst ratio over the points; float64 errors are 1000·n·u·(|v| + scale) per value when ``float_scale``."""
    best, rejected = 0.0, False
    unit = mp.mpf(1000 * data.game.n) * mp.mpf(2.0**-52)
    with np.errstate(all="ignore"):
        for t in _eval_points(claim, data.steps):
            vals, errs, ident = data.at(t)
            if float_scale is not None:
                errs = {name: unit * (abs(vals[name]) + float_scale) if errs.get(name) else mp.zero
                        for name in vals}
            args = [float(a) for a in _args(vals)]
            try:
                r = float(_ratio(fns, args))  # type: ignore[arg-type]
                denom = float(fns.rhs(*args) if fns.term is None else fns.term(*args))
                gap = float(fns.rhs(*args) - fns.lhs(*args))
                err = float(_propagate(fns.compiled, _args(vals), errs, ident)) / denom if fns.compiled else 0.0
            except (ValueError, ZeroDivisionError, OverflowError, TypeError):
                continue
            if gap == 0 and err == 0:  # an identity such as KL_0 ≤ KL_0 at k = 0, not a tight instance
                continue
            if not (math.isfinite(r) and denom > 0):
                continue
            if 0 <= err <= tolerance:
                best = max(best, r)
            else:
                rejected = True
    return best, rejected


def _eval_points(claim: Claim, steps: int) -> range:
    if claim.kind == "static":
        return range(1)
    return range(steps) if claim.kind == "step" else range(steps + 1)


# ------------------------------------------------------------------ search tasks


@dataclass(frozen=True)
class SearchTask:
    target: Target
    space: Space
    evals: int
    restart: int
    seed: int
    claim_modules: tuple[str, ...] = ()

    @property
    def identity(self) -> tuple[object, ...]:
        return (self.target.label, self.space.n, self.space.contexts, self.restart, self.seed)


@dataclass
class TaskResult:
    task: SearchTask
    x: list[float]
    ratio: float
    evaluations: int
    seconds: float


@lru_cache(maxsize=8)
def _catalogue(modules: tuple[str, ...]) -> Catalogue:
    cat = builtin_catalogue()
    for m in modules:
        cat.load(m)
    return cat


def run_search_task(task: SearchTask) -> TaskResult:
    """CMA-ES on the unit cube, then Nelder–Mead from the best point; deterministic given the task."""
    import cma
    from scipy.optimize import minimize

    start = time.monotonic()
    claim = _catalogue(task.claim_modules).get(task.target.claim)
    fns = _fns(claim, task.target, "math")
    hyp = _Hyp(claim)
    evals = 0
    best_x: list[float] = []
    best = -1.0

    def f(x: Sequence[float]) -> float:
        nonlocal evals, best, best_x
        evals += 1
        xs = [_unit(v) for v in x]
        try:
            r = float_ratio(claim, fns, decode(task.space, xs, hyp), task.space.float_tolerance)
        except NashproofError:
            r = 0.0
        if r > best:
            best, best_x = r, xs
        return -r

    rng = np.random.default_rng(task_seed(*task.identity))
    dim = task.space.dimension()
    x0 = list(rng.uniform(0.2, 0.8, dim))
    es = cma.CMAEvolutionStrategy(x0, 0.3, {"seed": int(rng.integers(1, 2**31 - 1)), "bounds": [0, 1],
                                             "maxfevals": max(10, task.evals * 3 // 4), "verbose": -9})
    while not es.stop():
        xs = es.ask()
        es.tell(xs, [f(x) for x in xs])
    if best_x:
        minimize(f, best_x, method="Nelder-Mead",
                 options={"maxfev": max(10, task.evals // 4), "xatol": 1e-12, "fatol": 1e-15})
    return TaskResult(task, best_x, best, evals, time.monotonic() - start)


# ------------------------------------------------------------------ confirmation


@dataclass
class Confirmation:
    """The exact instance re-evaluated at high precision."""

    ratio: mpmath.mpf
    error: mpmath.mpf
    k: int
    status: str
    note: str
    digits: int


def admissible(claim: Claim, inst: Instance) -> Instance:
    """Lower η (by parts in 10⁹) until the hypotheses hold exactly; unchanged when they do."""
    if inst.eta is None:
        return inst
    for _ in range(50):
        values = {BETA: sp.Rational(inst.beta.numerator, inst.beta.denominator),
                  ETA: sp.Rational(inst.eta.numerator, inst.eta.denominator), N_SYM: sp.Integer(inst.game.n),
                  SCHED: sp.Integer(0), START_REF: sp.Integer(1 if inst.game.starts_at_reference() else 0)}
        if hypotheses_hold(claim, values)[0]:
            return inst
        inst = replace(inst, eta=inst.eta * (1 - Fraction(1, 10**9)))
    return inst


#: The confirmation raises its precision up to this when rounding leaves the verdict open.
MAX_DIGITS = 400


def collect_instance(game: Game, solver: Solver, steps: int, digits: int, backend: str = "mpmath",
                     guard: int | None = None) -> RunData:
    """:func:`verify.collect` (precision doubling), with the inexact solvers' extra series (δ, √KL, step errors)."""
    from .verify.inexact import collect_inexact, is_inexact

    if is_inexact(solver):
        return collect_inexact(game, solver, steps, digits, backend=backend)  # type: ignore[arg-type]
    return collect(game, solver, steps, digits, guard=guard, backend=backend)


def confirm(claim: Claim, target: Target, inst: Instance, digits: int = 60,
            ignore_hypotheses: bool = False) -> Confirmation:
    """Ratio of the target at ``digits`` (precision doubling) with its error, and the claim's verdict."""
    while True:
        data = collect_instance(inst.game, inst.make_solver(), inst.steps, digits)
        verdict = check_claim(claim, data, ignore_hypotheses)
        if verdict.status != "inconclusive" or not verdict.needed_digits or verdict.needed_digits > MAX_DIGITS \
                or verdict.needed_digits <= digits:
            break
        digits = verdict.needed_digits
    ratio, err, at = _exact_ratio(claim, target, data)
    return Confirmation(ratio, err, at, verdict.status, verdict.note, digits)


def _exact_ratio(claim: Claim, target: Target, data: RunData) -> tuple[mpmath.mpf, mpmath.mpf, int]:
    st = claim.statements[target.statement]
    comp = _compile(st)
    fns = _Fns(comp.lhs, comp.rhs, _lambdify(_rhs_terms(st.rhs)[target.term]) if target.term is not None else None)
    best, best_err, best_k = mp.ninf, mp.zero, -1
    with mpmath.workdps(data.digits + data.guard):
        points, _ = _points(claim, data, True)
        for t in points:
            vals, errs, ident = data.at(t)
            args = _args(vals)
            denom = fns.rhs(*args) if fns.term is None else fns.term(*args)
            if not denom > 0:
                continue
            r = mp.mpf(_ratio(fns, args))
            prop = _propagate(comp, args, errs, ident)
            if prop == 0 and comp.rhs(*args) == comp.lhs(*args):  # an identity (KL_0 ≤ KL_0 at k = 0)
                continue
            err = prop / denom + abs(r) * mp.eps * 64
            if r > best:
                best, best_err, best_k = r, err, t
    return best, best_err, best_k


# ------------------------------------------------------------------ driver


@dataclass
class TargetResult:
    target: Target
    instance: Instance | None
    float_ratio: float
    confirmation: Confirmation | None
    evaluations: int
    seconds: float
    tasks: int
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        c = self.confirmation
        return {"target": self.target.label, "statement": self.target.statement + 1,
                "term": self.target.text or None,
                "ratio": mp.nstr(c.ratio, 17) if c is not None else None,
                "slack": mp.nstr(1 - c.ratio, 6) if c is not None else None,
                "ratio_error": mp.nstr(c.error, 3) if c is not None else None,
                "at_k": c.k if c is not None else None,
                "status": c.status if c is not None else None, "digits": c.digits if c is not None else None,
                "float_ratio": self.float_ratio, "evaluations": self.evaluations,
                "seconds": round(self.seconds, 2), "tasks": self.tasks,
                "instance": self.instance.as_dict() if self.instance is not None else None,
                **({"note": self.note} if self.note else {})}


@dataclass
class SearchConfig:
    sizes: tuple[int, ...] = (2, 3, 4, 5, 6)
    solver: str | None = None  # a full solver spec (e.g. nash-mp-inexact:delta=1/100); None: the claim's first
    contexts: int = 1
    beta_range: tuple[Fraction, Fraction] = (Fraction(1, 100), Fraction(1))
    eta: Fraction | None = None
    eta_floor: Fraction = Fraction(1, 2)
    steps: int | None = None
    evals: int = 2000
    restarts: int = 2
    seed: int = 0
    max_log10_logit: int = 12
    ignore_hypotheses: bool = False
    digits: int = 60
    jobs: int | None = None
    dask: str | None = None
    claim_modules: tuple[str, ...] = ()
    targets: tuple[int, ...] | None = None  # indices into claim_targets; None: all
    game: Game | None = None
    free_reference: bool = False
    float_tolerance: float = FLOAT_TOLERANCE
    on_done: Callable[[int], None] | None = field(default=None, repr=False)


def default_steps(claim: Claim) -> int:
    return 4 if claim.kind == "bound" and "*" not in claim.solvers else 1


def space_for(claim: Claim, n: int, cfg: SearchConfig) -> Space:
    solver = cfg.solver or (claim.solvers[0] if "*" not in claim.solvers else "nash-mp")
    solver = DEFAULT_SPECS.get(solver, solver)
    if solver.split(":")[0].strip() not in claim.solvers and "*" not in claim.solvers:
        raise InputError(f"solver {solver!r} is not one of claim {claim.id}'s ({', '.join(claim.solvers)})")
    free = {SCHED, START_REF} & set().union(*(h.free_symbols for h in claim.hypotheses)) if claim.hypotheses else set()
    schedule = solver == NashMD.name and SCHED in free and not cfg.ignore_hypotheses
    free_start = claim.kind != "static" and (START_REF not in free or cfg.ignore_hypotheses)
    return Space(n, solver, cfg.steps or default_steps(claim), cfg.contexts, cfg.beta_range, cfg.eta,
                 eta_floor=cfg.eta_floor, schedule=schedule, free_start=free_start, max_log10_logit=cfg.max_log10_logit,
                 ignore_hypotheses=cfg.ignore_hypotheses, game=cfg.game, free_reference=cfg.free_reference,
                 float_tolerance=cfg.float_tolerance)


def search(claim: Claim, cfg: SearchConfig) -> list[TargetResult]:
    """Search every target of the claim (or the chosen ones); confirm each best instance exactly."""
    all_targets = claim_targets(claim)
    if cfg.targets is not None and any(i >= len(all_targets) for i in cfg.targets):
        raise InputError(f"claim {claim.id} has {len(all_targets)} targets: "
                         + "; ".join(f"{i + 1} = {t.label}" for i, t in enumerate(all_targets)))
    chosen = all_targets if cfg.targets is None else [all_targets[i] for i in cfg.targets]
    sizes = (cfg.game.n,) if cfg.game is not None else cfg.sizes
    tasks = [SearchTask(t, space_for(claim, n, cfg), cfg.evals, r, cfg.seed, cfg.claim_modules)
             for t in chosen for n in sizes for r in range(cfg.restarts)]
    results = pmap(run_search_task, tasks, cfg.jobs, cfg.dask, cfg.on_done)
    out = []
    for target in chosen:
        mine = [r for r in results if r.task.target == target]
        best = max(mine, key=lambda r: r.ratio)  # first of equals: task order, not completion order
        evals = sum(r.evaluations for r in mine)
        secs = sum(r.seconds for r in mine)
        if not best.x or best.ratio <= 0:
            out.append(TargetResult(target, None, best.ratio, None, evals, secs, len(mine),
                                    "no instance with a defined ratio was found"))
            continue
        inst = admissible(claim, decode(best.task.space, best.x, _Hyp(claim)))
        conf = confirm(claim, target, inst, cfg.digits, cfg.ignore_hypotheses)
        out.append(TargetResult(target, inst, best.ratio, conf, evals, secs, len(mine)))
    return out


def exit_status(results: Sequence[TargetResult]) -> str:
    """``violated`` if any confirmed instance violates the claim, else ``inconclusive``, ``pass``, …"""
    statuses = {r.confirmation.status for r in results if r.confirmation is not None}
    for s in ("violated", "inconclusive", "pass", "equality", "not-applicable"):
        if s in statuses:
            return s
    return "inconclusive"  # nothing was confirmed: never a pass


# ------------------------------------------------------------------ local threshold of the Nash-MP step


def _first_crossing(f: Callable[[mpmath.mpf], mpmath.mpf], start: mpmath.mpf, limit: mpmath.mpf) -> mpmath.mpf | None:
    """Smallest η in [start, limit] with f(η) = 1 (f < 1 at start), by a geometric scan then bisection."""
    lo = start
    if f(lo) >= 1:
        return lo
    while lo < limit:
        hi = lo * mp.mpf(2) ** (mp.mpf(1) / 32)
        if f(hi) >= 1:
            for _ in range(mp.prec + 8):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if f(mid) < 1 else (lo, mid)
            return hi
        lo = hi
    return None


@dataclass
class StepThreshold:
    """The local thresholds of one game at one β, in units of η̄(β) and absolute."""

    game: str
    beta: Fraction
    eta_bar: mpmath.mpf
    mu_max: mpmath.mpf
    kl_threshold: mpmath.mpf | None  # largest η with the local KL contraction by 1/(1+ηβ)
    conv_threshold: mpmath.mpf | None  # largest η with local convergence (spectral radius < 1)
    far: list[tuple[str, float]] = field(default_factory=list)  # (η/η̄, worst one-step ratio found)

    def as_dict(self) -> dict[str, object]:
        def s(x: mpmath.mpf | None) -> str | None:
            return None if x is None else mp.nstr(x, 20)

        return {"game": self.game, "beta": fraction_str(self.beta), "eta_bar": s(self.eta_bar),
                "mu_max": s(self.mu_max), "kl_threshold": s(self.kl_threshold),
                "kl_threshold_over_eta_bar": s(self.kl_threshold / self.eta_bar) if self.kl_threshold else None,
                "convergence_threshold": s(self.conv_threshold),
                "convergence_threshold_over_eta_bar": (s(self.conv_threshold / self.eta_bar)
                                                       if self.conv_threshold else None),
                "far_regime": [{"eta_over_eta_bar": m, "worst_step_ratio": r} for m, r in self.far]}


def step_threshold(game: Game, beta: Fraction, digits: int = 40) -> StepThreshold:
    """Exact (to ``digits``) local thresholds of the Nash-MP step, worst over contexts."""
    mus = [m for ctx in local_spectrum(game, beta, digits) for m in ctx]
    with mpmath.workdps(digits + 10):
        bt = mp.mpf(beta.numerator) / beta.denominator
        bar = 2 * (bt + mp.sqrt(1 + bt**2))
        limit = bar * 1024
        kl = _first_crossing(lambda e: local_kl_ratio(e, bt, mus), bar / 64, limit)
        conv = _first_crossing(lambda e: local_radius2(e, bt, mus), bar / 64, limit)
        return StepThreshold(game.label, beta, bar, max(mus), kl, conv)


def far_regime(game: Game, beta: Fraction, multiples: Sequence[Fraction], evals: int, seed: int,
               jobs: int | None, dask: str | None) -> list[tuple[str, float]]:
    """Worst one-step NMP-KL-STEP ratio over starting points, at η = m·η̄ for each m (float64 search)."""
    claim = builtin_catalogue().get("NMP-KL-STEP")
    from .verify import eta_bar_below

    bar = eta_bar_below(beta)
    tasks = [SearchTask(Target(claim.id, 0), Space(game.n, "nash-mp", 1, beta_range=(beta, beta), eta=m * bar,
                                                   ignore_hypotheses=True, game=game), evals, 0, seed)
             for m in multiples]
    results = pmap(run_search_task, tasks, jobs, dask)
    return [(fraction_str(m), r.ratio) for m, r in zip(multiples, results)]


# ------------------------------------------------------------------ known sharp families


def sandwich_family(tau: Fraction = Fraction(1, 10**6), eps: Fraction = Fraction(1, 10**9),
                    beta: Fraction = Fraction(1, 2)) -> Instance:
    """docs/proofs.md §4.2: EXPL-SANDWICH's 1/(8β) term has ratio → 1 − 2τ as ε → 0 (τ > ε > 0).

    On the 4-cycle with ties (``cyclic:n=4``), π* = (½ − τ, τ, ½ − τ, τ) via π_ref ∝ π* e^(−Pπ*/β)
    (30 significant digits), and π = π* + ε(e₁ − e₃). CMA-ES from random points rarely finds this ridge.
    """
    from .families import load_game

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
