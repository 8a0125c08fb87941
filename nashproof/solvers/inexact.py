"""Inexact and stochastic Nash-MP (and sampled baselines), written once against the backend interface.

Four families of solvers, selected by a spec string ``name:key=value,...`` (``nashproof run
--solver nash-mp-inexact:delta=1e-3,perturb=adversarial``):

- ``nash-mp-inexact`` — Nash-MP whose every returned step (half and full) is within ``delta`` of
  the exact step in the span of log-probabilities, span(log π̂ − log π) ≤ δ (``metric=sup``:
  ‖log π̂ − log π‖_∞ ≤ δ after normalisation, which implies span ≤ 2δ). The perturbation is
  ``adversarial`` (the two-level direction that increases KL(π*‖·) most: exactly for the full step,
  to first order through the next step for the half step), ``random`` (seeded), or a callable.
- ``nash-mp-sampled``, ``nash-md-sampled``, ``mmd-sampled`` — every preference query P·σ is
  estimated from ``m`` duels per action against opponents drawn from σ, each duel a
  Bernoulli(P(y ≻ y')) draw from a seeded ``numpy`` generator.
- ``nash-mp-pg`` / ``nash-mp-pg-sampled`` — each proximal step is the maximiser of its
  (1+ηβ)-strongly concave objective, approximated by ``T`` steps of natural policy gradient on the
  logits with step ``lam``/(1+ηβ), from exact (one query per proximal step) or sampled (one fresh
  sampled query per inner step) preferences.

Random draws come from ``numpy.random.default_rng([seed, t, query, context])``: a run is a
function of its seed, and the two precisions of a check see the same duels.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from ..backends import Backend, Vec
from ..equilibrium import solve_equilibrium
from ..errors import InputError, SolverError
from ..games import Game
from ..numbers import fraction_str, parse_int, parse_rational
from ..numeric import LogPolicy, NumericGame, Oracle
from .exact import MMD, NashMD, NashMP, Solver, Step, mix

#: A user perturbation: (backend, exact normalised log-policy, "half" or "full", t, context) → log-policy.
Perturbation = Callable[[Backend, Vec, str, int, int], Vec]

PERTURBS = ("adversarial", "random", "none")
METRICS = ("span", "sup")


# ------------------------------------------------------------------ parameters


def _parse_int(text: str, what: str, low: int) -> int:
    return parse_int(text, what, low)


def check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | str):
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    return seed if isinstance(seed, int) and seed >= 0 else _parse_int(str(seed), "seed", 0)


#: Most duels per action and query: every duel is drawn, so 10¹¹ would run for hours.
MAX_M = 10**6


def check_m(m: object) -> int:
    if isinstance(m, bool) or not isinstance(m, int | str):
        raise InputError(f"m (duels per action) must be an integer ≥ 1, got {m!r}")
    value = m if isinstance(m, int) and m >= 1 else _parse_int(str(m), "m (duels per action)", 1)
    if value > MAX_M:
        raise InputError(f"m (duels per action) must be at most {MAX_M}, got {value}")
    return value


#: Limits for runs (not for the complexity formulas): beyond them a run takes hours, or δ leaves float range.
MAX_DUELS, MAX_INNER, MAX_DELTA = 10**8, 10**5, 10**6


def check_delta(delta: object) -> Fraction:
    d = parse_rational(delta, "delta")
    if d < 0:
        raise InputError(f"delta must be ≥ 0, got {fraction_str(d)}")
    if d > MAX_DELTA:
        shown = delta if isinstance(delta, str) else f"{float(d):.3g}"
        raise InputError(f"delta must be ≤ {MAX_DELTA} (a span error in log-probabilities), got {shown}")
    return d


def _check_limit(value: int, what: str, limit: int) -> int:
    if value > limit:
        raise InputError(f"{what} must be ≤ {limit} for a run (it would take hours), got {value}")
    return value


def check_confidence(value: object) -> Fraction:
    c = parse_rational(value, "confidence")
    if not 0 < c < 1:
        raise InputError(f"confidence must lie strictly between 0 and 1, got {fraction_str(c)}")
    return c


def parse_params(text: str, allowed: dict[str, str], who: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if not text.strip():
        return out
    for item in text.split(","):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise InputError(f"{who}: parameter {item!r} must look like key=value")
        if key not in allowed:
            raise InputError(f"{who}: unknown parameter {key!r}; allowed: {', '.join(allowed)}")
        if key in out:
            raise InputError(f"{who}: parameter {key!r} given twice")
        out[key] = value.strip()
    return out


# ------------------------------------------------------------------ shared helpers


def _span(v: Vec) -> float:
    return float(max(v) - min(v))


_EQ_CACHE: dict[tuple[int, str, int, Fraction], tuple[Game, LogPolicy]] = {}


def _star(ng: NumericGame, beta: Fraction) -> LogPolicy:
    """π*_β in the run's backend (the adversary knows the equilibrium), cached per game and precision."""
    key = (id(ng.game), ng.backend.name, ng.backend.digits, beta)
    hit = _EQ_CACHE.get(key)
    if hit is None or hit[0] is not ng.game:
        if len(_EQ_CACHE) > 16:
            _EQ_CACHE.clear()
        hit = (ng.game, solve_equilibrium(ng.game, beta, ng.backend).logpi)
        _EQ_CACHE[key] = hit
    return hit[1]


def _key(x: object) -> float:
    """A precision-independent sort key: ties and near-ties break by index at both precisions."""
    return round(float(x), 9)  # type: ignore[arg-type]


def _two_level(b: Backend, logp: Vec, order: list[int], delta: Fraction, value: Callable[[list[int], Vec], object]
               ) -> Vec:
    """The best two-level factor x = e^δ on a prefix S of ``order`` and 1 elsewhere, renormalised.

    ``value(S, p)`` scores a prefix; every prefix size 1..n−1 is tried. span(log x) = δ exactly.
    """
    n = len(logp)
    if n < 2 or delta == 0:
        return logp.copy()
    p = b.exp(logp)
    best: tuple[float, int] | None = None
    for j in range(1, n):
        score = round(float(value(order[:j], p)), 12)  # type: ignore[arg-type]
        if best is None or score > best[0]:
            best = (score, j)
    assert best is not None
    chosen = set(order[: best[1]])
    d = b.scalar(delta)
    shift = b.vector([1 if i in chosen else 0 for i in range(n)]) * d
    return b.log_normalize(logp + shift)


def adversarial_full(b: Backend, logp: Vec, logstar: Vec, delta: Fraction) -> Vec:
    """The two-level perturbation of ``logp`` that maximises KL(π*‖·) under span ≤ δ.

    KL(π*‖π̂) − KL(π*‖π) = log(1 + s(e^δ − 1)) − s*·δ for x = e^δ on S (π-mass s, π*-mass s*):
    raise the actions where π*/π is smallest.
    """
    ratio = [_key(x) for x in logstar - logp]
    order = sorted(range(len(logp)), key=lambda i: (ratio[i], i))
    pstar = b.exp(logstar)
    ed = b.expm1(b.vector([delta]))[0]

    def value(S: list[int], p: Vec) -> object:
        s = sum(p[i] for i in S)
        return b.log1p_scalar(s * ed) - sum(pstar[i] for i in S) * b.scalar(delta)

    return _two_level(b, logp, order, delta, value)


def adversarial_half(b: Backend, logh: Vec, grad: Vec, delta: Fraction) -> Vec:
    """The two-level perturbation of the half step that most increases ⟨grad, ĥ⟩ (first order)."""
    g = [_key(x) for x in grad]
    order = sorted(range(len(logh)), key=lambda i: (-g[i], i))
    ed = b.exp(b.vector([delta]))[0]

    def value(S: list[int], p: Vec) -> object:
        s = sum(p[i] for i in S)
        inside = sum(p[i] * grad[i] for i in S)
        total = p @ grad
        return (ed * inside + (total - inside)) / (1 + s * (ed - 1))

    return _two_level(b, logh, order, delta, value)


def random_direction(b: Backend, logp: Vec, delta: Fraction, rng: np.random.Generator) -> Vec:
    """A seeded random perturbation with span exactly δ (uniform direction rescaled to span 1)."""
    n = len(logp)
    if n < 2 or delta == 0:
        return logp.copy()
    u = rng.random(n)
    u = (u - u.min()) / (u.max() - u.min())
    return b.log_normalize(logp + b.vector([float(x) for x in u]) * b.scalar(delta))


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng([seed, *keys])


# ------------------------------------------------------------------ sampled preferences


class SampledOracle(Oracle):
    """P·σ estimated from ``m`` duels per action: opponents y' ~ σ, outcomes Bernoulli(P(y ≻ y')).

    Counts one query per call on the wrapped oracle, and n·m duels per context in ``samples``.
    """

    _FLOAT_P: ClassVar[dict[int, tuple[Game, list[npt.NDArray[np.float64]]]]] = {}

    def __init__(self, base: Oracle, m: int, seed: int, t: int,
                 on_error: Callable[[float], None] | None = None) -> None:
        self.ng = base.ng
        self.base = base
        self.on_error = on_error  # receives span(ĝ − Pσ) of every query (max over contexts)
        self.m = m
        self.seed = seed
        self.t = t
        self.calls = 0

    @property
    def count(self) -> int:
        return self.base.count

    @count.setter
    def count(self, value: int) -> None:
        self.base.count = value

    def _float_p(self) -> list[npt.NDArray[np.float64]]:
        game = self.ng.game
        hit = self._FLOAT_P.get(id(game))
        if hit is None or hit[0] is not game:
            if len(self._FLOAT_P) > 16:
                self._FLOAT_P.clear()
            hit = (game, [np.array([[float(x) for x in row] for row in c.preference]) for c in game.contexts])
            self._FLOAT_P[id(game)] = hit
        return hit[1]

    def wins(self, logsigma: LogPolicy) -> list[npt.NDArray[np.int64]]:
        """Duel wins per action and context (integers in [0, m]) for one query."""
        self.base.count += 1
        self.calls += 1
        out = []
        for c, (Pf, ls) in enumerate(zip(self._float_p(), logsigma)):
            n = len(ls)
            sigma = np.array([float(x) for x in self.ng.backend.exp(ls)])
            cdf = np.cumsum(sigma)
            rng = _rng(self.seed, self.t, self.calls, c)
            total = np.zeros(n, dtype=np.int64)
            chunk = max(1, 2_000_000 // n)
            for start in range(0, self.m, chunk):
                width = min(chunk, self.m - start)
                opp = np.minimum(np.searchsorted(cdf, rng.random((n, width)) * cdf[-1], side="right"), n - 1)
                probs = Pf[np.arange(n)[:, None], opp]
                total += (rng.random((n, width)) < probs).sum(axis=1)
            self.base.samples += n * self.m
            out.append(total)
        return out

    def query(self, logsigma: LogPolicy) -> list[Vec]:
        b = self.ng.backend
        out = [b.vector([Fraction(int(w), self.m) for w in ws]) for ws in self.wins(logsigma)]
        if self.on_error is not None:
            exact = [P @ b.exp(ls) for P, ls in zip(self.ng.P, logsigma)]
            self.on_error(max(_span(g - e) for g, e in zip(out, exact)))
        return out


# ------------------------------------------------------------------ solver base


class InexactSolver(Solver):
    """A solver with spec parameters, a derived per-step error bound, and a per-run step-error record."""

    params: ClassVar[dict[str, str]] = {}
    stochastic: ClassVar[bool] = False
    perturbed: ClassVar[bool] = True

    def __init__(self, beta: Fraction, eta: Fraction | None = None) -> None:
        super().__init__(beta, eta)
        self.step_errors: list[list[float]] = []  # one list per run: max span error of iteration t

    def delta_bound(self) -> Fraction:
        """The deterministic per-step error bound δ in span (0 where only sampling errs)."""
        return Fraction(0)

    def claim_values(self) -> dict[str, Fraction]:
        """Values of the claim symbols this solver fixes (δ, m, T, λ)."""
        return {"delta": self.delta_bound()}

    def queries_per_iteration(self) -> int:
        return self.queries_per_step

    def spec(self) -> str:
        return self.name

    def _begin(self, t: int) -> None:
        """Called at the start of every step: iteration 0 opens a new run's record."""
        if t == 0 or not self.step_errors:
            self.step_errors.append([])

    def _record(self, t: int, err: float) -> None:
        if not self.step_errors:
            self.step_errors.append([])
        run = self.step_errors[-1]
        while len(run) <= t:
            run.append(0.0)
        run[t] = max(run[t], err)


class InexactNashMP(InexactSolver, NashMP):
    """Nash-MP whose half and full steps are each returned within δ of the exact step."""

    name = "nash-mp-inexact"
    title = "Inexact Nash-MP"
    queries_per_step = 2
    params: ClassVar[dict[str, str]] = {
        "delta": "per-step error bound δ ≥ 0 (rational)", "perturb": "adversarial | random | none",
        "seed": "integer seed (random perturbations)", "metric": "span (default) | sup"}

    def __init__(self, beta: Fraction, eta: Fraction | None = None, delta: Fraction | str | int = 0,
                 perturb: str = "adversarial", seed: int = 0, metric: str = "span",
                 perturbation: Perturbation | None = None) -> None:
        self.delta = check_delta(delta)
        if perturb not in PERTURBS:
            raise InputError(f"perturb must be one of {', '.join(PERTURBS)}, got {perturb!r}")
        if metric not in METRICS:
            raise InputError(f"metric must be span or sup, got {metric!r}")
        self.perturb, self.seed, self.metric = perturb, check_seed(seed), metric
        self.perturbation = perturbation
        self.form = "canonical η (Munos normalisation)"
        InexactSolver.__init__(self, beta, eta)

    def delta_bound(self) -> Fraction:
        return self.delta if self.metric == "span" else 2 * self.delta

    def spec(self) -> str:
        kind = "custom" if self.perturbation is not None else self.perturb
        return f"{self.name}:delta={fraction_str(self.delta)},perturb={kind},seed={self.seed},metric={self.metric}"

    def describe(self) -> str:
        return (f"{self.title}: β = {fraction_str(self.beta)}, η = {fraction_str(self.eta)}, per-step error "
                f"{'span' if self.metric == 'span' else '‖·‖_∞'} ≤ {fraction_str(self.delta)}, "
                f"perturbation {'custom' if self.perturbation is not None else self.perturb}")

    def _check(self, b: Backend, exact: Vec, got: Vec, role: str) -> float:
        diff = got - exact
        size = _span(diff) if self.metric == "span" else float(max(abs(x) for x in diff))
        slack = float(self.delta) * 1e-9 + 1000 * float(b.eps) * (1 + float(max(abs(x) for x in exact)))
        if size > float(self.delta) + slack:
            raise SolverError(f"{self.name}: the {role} step's perturbation has size {size:.6g} > δ = "
                              f"{fraction_str(self.delta)} ({self.metric})")
        return _span(diff)

    def _perturb(self, ng: NumericGame, exact: Vec, role: str, t: int, c: int, grad: Vec | None,
                 logstar: Vec | None) -> Vec:
        b = ng.backend
        if self.perturbation is not None:
            out = b.log_normalize(self.perturbation(b, exact, role, t, c))
        elif self.perturb == "none" or self.delta == 0:
            out = exact.copy()
        elif self.perturb == "random":
            out = random_direction(b, exact, self.delta, _rng(self.seed, t, 0 if role == "half" else 1, c))
        elif role == "full":
            assert logstar is not None
            out = adversarial_full(b, exact, logstar, self.delta)
        else:
            assert grad is not None
            out = adversarial_half(b, exact, grad, self.delta)
        self._record(t, self._check(b, exact, out, role))
        return out

    def step(self, ng: NumericGame, logpi: LogPolicy, t: int, oracle: Oracle) -> Step:
        b = ng.backend
        self._begin(t)
        adversarial = self.perturbation is None and self.perturb == "adversarial" and self.delta > 0
        star = _star(ng, self.beta) if adversarial else None
        q = oracle.query(logpi)
        half: LogPolicy = []
        for c in range(ng.k):
            h = mix(b, logpi[c], ng.logref[c], q[c], self.eta, self.beta)
            grad = None
            if adversarial:
                assert star is not None
                # First order: KL(π*‖π̃) grows along −η Pᵀ(π* − π̃)·dĥ/(1+ηβ), π̃ the full step from h.
                tilde = mix(b, logpi[c], ng.logref[c], ng.P[c] @ b.exp(h), self.eta, self.beta)
                grad = ng.P[c].T @ (b.exp(tilde) - b.exp(star[c]))
            half.append(self._perturb(ng, h, "half", t, c, grad, None))
        q2 = oracle.query(half)
        new = []
        for c in range(ng.k):
            full = mix(b, logpi[c], ng.logref[c], q2[c], self.eta, self.beta)
            new.append(self._perturb(ng, full, "full", t, c, None, star[c] if star is not None else None))
        return Step(new, half)


class _Sampled(InexactSolver):
    """Mixin: the base method's own step, with every query answered by duels."""

    stochastic = True
    params: ClassVar[dict[str, str]] = {"m": "duels per action and query (integer ≥ 1)", "seed": "integer seed"}

    def __init__(self, beta: Fraction, eta: Fraction | None = None, m: int | str = 1, seed: int | str = 0) -> None:
        self.m, self.seed = _check_limit(check_m(m), "m (duels per action)", MAX_DUELS), check_seed(seed)
        InexactSolver.__init__(self, beta, eta)

    def claim_values(self) -> dict[str, Fraction]:
        return {"delta": self.delta_bound(), "m": Fraction(self.m)}

    def spec(self) -> str:
        return f"{self.name}:m={self.m},seed={self.seed}"

    def describe(self) -> str:
        return f"{super().describe()}; each query from {self.m} duels per action (seed {self.seed})"

    def step_scale(self, t: int) -> Fraction:
        """A field error ξ moves the step's log-policy by scale·ξ: η/(1+ηβ) for a proximal step."""
        eta = self.eta_at(t)
        return eta / (1 + eta * self.beta)

    def step(self, ng: NumericGame, logpi: LogPolicy, t: int, oracle: Oracle) -> Step:
        self._begin(t)
        scale = float(self.step_scale(t))

        def record(field_span: float) -> None:
            self._record(t, scale * field_span)

        sampled = SampledOracle(oracle, self.m, self.seed, t, record)
        result: Step = super().step(ng, logpi, t, sampled)  # type: ignore[safe-super]
        return result


class SampledNashMP(_Sampled, NashMP):
    name = "nash-mp-sampled"
    title = "Nash-MP, sampled preferences"
    queries_per_step = 2

    def __init__(self, beta: Fraction, eta: Fraction | None = None, m: int | str = 1, seed: int | str = 0) -> None:
        self.form = "canonical η (Munos normalisation)"
        _Sampled.__init__(self, beta, eta, m, seed)


class SampledNashMD(_Sampled, NashMD):
    name = "nash-md-sampled"
    title = "Nash-MD, sampled preferences"
    queries_per_step = 1

    def step_scale(self, t: int) -> Fraction:
        return self.eta_at(t)  # log π_{t+1} = normalize(μ + η_t ĝ)

    def __init__(self, beta: Fraction, eta: Fraction | None = None, m: int | str = 1, seed: int | str = 0) -> None:
        self.schedule = eta is None
        _Sampled.__init__(self, beta, eta, m, seed)


class SampledMMD(_Sampled, MMD):
    name = "mmd-sampled"
    title = "MMD, sampled preferences"
    queries_per_step = 1


def inner_delta(beta: Fraction, eta: Fraction, T: int, lam: Fraction) -> Fraction:
    """δ_T = r·2η/((1+ηβ)(1−r)), r = (1−λ)^T: the inner loop's per-step span error (docs/proofs.md §9.4)."""
    r = (1 - lam) ** T
    return r * 2 * eta / ((1 + eta * beta) * (1 - r))


class PolicyGradientNashMP(InexactSolver, NashMP):
    """Nash-MP whose proximal steps are T natural-policy-gradient steps on the logits (exact gradients).

    Inner update: log π ← normalize((1−λ) log π + λ [log π_k + ηβ log π_ref + η g]/(1+ηβ)), i.e. the
    logits move by λ/(1+ηβ) times the objective's functional gradient; started at π_k.
    """

    name = "nash-mp-pg"
    title = "Nash-MP, inner policy-gradient loop"
    queries_per_step = 2
    params: ClassVar[dict[str, str]] = {"T": "inner steps (integer ≥ 1)",
                                        "lam": "inner step λ in (0, 1] (rational, default 1/2)"}

    def __init__(self, beta: Fraction, eta: Fraction | None = None, T: int | str = 1, lam: Fraction | str = "1/2",
                 m: int | str | None = None, seed: int | str = 0) -> None:
        if isinstance(T, bool) or not isinstance(T, int | str):
            raise InputError(f"T (inner steps) must be an integer ≥ 1, got {T!r}")
        self.T = _check_limit(T if isinstance(T, int) and T >= 1 else _parse_int(str(T), "T (inner steps)", 1),
                              "T (inner steps)", MAX_INNER)
        self.lam = parse_rational(lam, "lam")
        if not 0 < self.lam <= 1:
            raise InputError(f"lam must lie in (0, 1], got {fraction_str(self.lam)}")
        self.m = _check_limit(check_m(m), "m (duels per action)", MAX_DUELS) if m is not None else None
        if self.m is not None and self.T * self.m > MAX_DUELS:
            raise InputError(f"T·m = {self.T}·{self.m} duels per action and iteration is more than {MAX_DUELS} "
                             "(every duel is drawn: such a run takes hours); lower T or m")
        self.seed = check_seed(seed)
        self.form = "canonical η (Munos normalisation)"
        InexactSolver.__init__(self, beta, eta)

    def delta_bound(self) -> Fraction:
        return inner_delta(self.beta, self.eta, self.T, self.lam)

    def claim_values(self) -> dict[str, Fraction]:
        out = {"delta": self.delta_bound(), "T": Fraction(self.T), "lam": self.lam}
        if self.m is not None:
            out["m"] = Fraction(self.m)
        return out

    def queries_per_iteration(self) -> int:
        return 2 if self.m is None else 2 * self.T

    def spec(self) -> str:
        tail = f",m={self.m},seed={self.seed}" if self.m is not None else ""
        return f"{self.name}:T={self.T},lam={fraction_str(self.lam)}{tail}"

    def describe(self) -> str:
        grads = "exact gradients" if self.m is None else f"gradients from {self.m} duels per action (seed {self.seed})"
        return (f"{self.title}: β = {fraction_str(self.beta)}, η = {fraction_str(self.eta)}, T = {self.T}, "
                f"λ = {fraction_str(self.lam)}, {grads}")

    def _prox(self, ng: NumericGame, logpi: LogPolicy, sigma: LogPolicy, t: int, oracle: Oracle,
              sampled: SampledOracle | None) -> LogPolicy:
        b = ng.backend
        eb = self.eta * self.beta
        lam, keep = b.scalar(self.lam), b.scalar(1 - self.lam)
        exact_field = [P @ b.exp(s) for P, s in zip(ng.P, sigma)]  # for the error record only (not a query)
        fields = oracle.query(sigma) if sampled is None else None
        thetas = [lp.copy() for lp in logpi]
        for _ in range(self.T):
            if sampled is not None:
                fields = sampled.query(sigma)
            assert fields is not None
            for c in range(ng.k):
                target = (logpi[c] + ng.logref[c] * b.scalar(eb) + fields[c] * b.scalar(self.eta)) / b.scalar(1 + eb)
                thetas[c] = b.log_normalize(keep * thetas[c] + lam * target)
        err = max(_span(thetas[c] - mix(b, logpi[c], ng.logref[c], exact_field[c], self.eta, self.beta))
                  for c in range(ng.k))
        self._record(t, err)
        return thetas

    def step(self, ng: NumericGame, logpi: LogPolicy, t: int, oracle: Oracle) -> Step:
        self._begin(t)
        sampled = SampledOracle(oracle, self.m, self.seed, t) if self.m is not None else None
        half = self._prox(ng, logpi, logpi, t, oracle, sampled)
        return Step(self._prox(ng, logpi, half, t, oracle, sampled), half)


class SampledPolicyGradientNashMP(PolicyGradientNashMP):
    """The LLM-style variant: each inner step uses a fresh sampled query (T queries per proximal step)."""

    name = "nash-mp-pg-sampled"
    title = "Nash-MP, inner policy gradient from sampled preferences"
    stochastic = True
    params: ClassVar[dict[str, str]] = {**PolicyGradientNashMP.params, "m": "duels per action and query (integer ≥ 1)",
                                        "seed": "integer seed"}

    def __init__(self, beta: Fraction, eta: Fraction | None = None, T: int | str = 1, lam: Fraction | str = "1/2",
                 m: int | str | None = 1, seed: int | str = 0) -> None:
        super().__init__(beta, eta, T, lam, 1 if m is None else m, seed)


INEXACT: dict[str, type[InexactSolver]] = {
    cls.name: cls for cls in (InexactNashMP, SampledNashMP, SampledNashMD, SampledMMD, PolicyGradientNashMP,
                              SampledPolicyGradientNashMP)
}


def build(name: str, beta: Fraction, eta: Fraction | None, text: str) -> InexactSolver:
    """An inexact solver from its name and ``key=value,...`` parameters."""
    cls = INEXACT[name]
    params = parse_params(text, cls.params, name)
    kwargs: dict[str, object] = dict(params)
    if name == "nash-mp-inexact" and "delta" not in params:
        raise InputError("nash-mp-inexact needs delta=..., e.g. nash-mp-inexact:delta=1e-3,perturb=adversarial")
    solver: InexactSolver = cls(beta, eta, **kwargs)
    return solver
