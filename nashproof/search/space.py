"""The instance space of a search: games, β, η and start logits decoded from the unit cube, every
decoded instance exact (rounded rationals, rational logits).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

import sympy as sp

from ..backends import FloatBackend
from ..claims import Claim, hypotheses_hold
from ..claims import beta as BETA
from ..claims import eta as ETA
from ..claims import n as N_SYM
from ..claims import sched as SCHED
from ..claims import start_ref as START_REF
from ..equilibrium import float_solve
from ..errors import InputError, NashproofError
from ..games import Context, Game, game_to_dict, make_game
from ..numbers import fraction_str
from ..numeric import NumericGame
from ..solvers import Solver, make_solver
from ..verify import eta_bar

#: The spec searched for a claim whose first solver needs parameters (``--solver`` overrides): adversarial errors
#: of size δ = 1/100, whose worst case is sharpest at large β (docs/search.md).
DEFAULT_SPECS = {"nash-mp-inexact": "nash-mp-inexact:delta=1/100,perturb=adversarial",
                 "nash-mp-pg": "nash-mp-pg:T=2"}


#: Points whose float64 ratio is less accurate than this (estimated) are not used by the search.
FLOAT_TOLERANCE = 1e-6


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


def to_unit(x: float) -> float:
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


class FloatHypotheses:
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


def decode(space: Space, x: Sequence[float], hyp: FloatHypotheses | None) -> Instance:
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
                    p = _q(_plateaus(to_unit(next(it))))
                    P[i][j], P[j][i] = p, 1 - p
            dirs_ref = [2 * to_unit(next(it)) - 1 for _ in range(n)]
            ref = _interior(dirs_ref, 10 ** (-1 + 3.8 * to_unit(next(it))))
            ctx = Context(f"x{c}", Fraction(1), tuple(tuple(r) for r in P), ref)
        else:
            ctx = base.contexts[c]
            if space.free_reference:
                dirs_ref = [2 * to_unit(next(it)) - 1 for _ in range(n)]
                ctx = replace(ctx, reference=_interior(dirs_ref, 10 ** (-1 + 3.8 * to_unit(next(it)))))
        contexts.append(ctx)
        if space.free_start:
            dirs.append([2 * to_unit(next(it)) - 1 for _ in range(n)])
            scales.append(10 ** (-8 + (space.max_log10_logit + 8) * to_unit(next(it))))
    if base is None and k > 1:
        ws = _simplex([math.exp(4 * to_unit(next(it)) - 2) for _ in range(k)], 10**6)
        contexts = [replace(c, weight=w) for c, w in zip(contexts, ws)]
    actions = base.actions if base is not None else tuple(f"y{i}" for i in range(n))
    game = make_game(actions, contexts, "search")
    lo, hi = space.beta_range
    b = to_unit(next(it))
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
    e = to_unit(next(it))
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
