"""Identification for the audit: which rule, at which step, explains observed steps (float64).

Each hypothesis is a map from log π_k to log π_{k+1} on one context with one parameter (or two,
for the decoupled mixture), fitted by least squares on the centred log-ratios: the one-step rules
are linear in their parameter after a change of variable (MMD: w = ηβ/(1+ηβ), proximal point: the
same with the observed output inside the field), the two-step ones are fitted by a short
fixed-point iteration on that linear problem. Rules that coincide at a fixed β are one
*equivalence class* (spec conventions, derived [D]):

* extragradient (EGPO) at η_e is Nash-MP at η = η_e/(1 − η_eβ), both ways;
* online mirror descent at η, (1 − ηβ) log π + ηβ log π_ref + ηPπ, is MMD at η/(1 − ηβ).

Only class representatives are fitted; the other members are reported with their own step.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial

import numpy as np
import numpy.typing as npt

from ..numbers import fraction_str

F64 = npt.NDArray[np.float64]


def lognorm(z: F64) -> F64:
    m = float(np.max(z))
    return z - (m + math.log(float(np.sum(np.exp(z - m)))))


def centred(z: F64) -> F64:
    return z - float(np.mean(z))


@dataclass
class Obs:
    """One observed step on one context: log π_k, the candidate's log π_{k+1}, the context's data."""

    logpi: F64
    logout: F64
    P: F64
    logref: F64
    beta: float
    eta: float  # the step the candidate was handed (η_t for a schedule)
    tol: float  # conformance tolerance of this step
    logprev: F64 | None = None  # log π_(k−1) (optimistic MWU); None: a fresh start (π_(−1) = π_k)
    expected: F64 | None = None  # the declared map's log π_(k+1) (40 digits), the identification's baseline

    def pi(self) -> F64:
        return np.exp(self.logpi)


# ------------------------------------------------------------------ the maps


def _prox(lp: F64, lr: F64, fld: F64, eta: float, beta: float) -> F64:
    return lognorm((lp + eta * beta * lr + eta * fld) / (1 + eta * beta))


def nash_mp(o: Obs, eta: float, lr: F64 | None = None) -> F64:
    lr = o.logref if lr is None else lr
    half = _prox(o.logpi, lr, o.P @ o.pi(), eta, o.beta)
    return _prox(o.logpi, lr, o.P @ np.exp(half), eta, o.beta)


def mmd(o: Obs, eta: float, lr: F64 | None = None) -> F64:
    return _prox(o.logpi, o.logref if lr is None else lr, o.P @ o.pi(), eta, o.beta)


def nash_md(o: Obs, eta: float, lr: F64 | None = None) -> F64:
    w = eta * o.beta
    mu = lognorm((1 - w) * o.logpi + w * (o.logref if lr is None else lr))
    return lognorm(mu + eta * (o.P @ np.exp(mu)))


def mwu(o: Obs, eta: float, lr: F64 | None = None) -> F64:
    return lognorm(o.logpi + eta * (o.P @ o.pi()))


def proximal_point(o: Obs, eta: float, lr: F64 | None = None) -> F64:
    lr = o.logref if lr is None else lr
    x = o.logpi.copy()
    c = eta / (1 + eta * o.beta)
    damp = 1.0 / (1.0 + c)  # damped fixed-point iteration; contraction for c·‖P‖ < 1 + c
    for _ in range(400):
        nxt = _prox(o.logpi, lr, o.P @ np.exp(x), eta, o.beta)
        step = damp * (nxt - x)
        x = lognorm(x + step)
        if float(np.max(np.abs(step))) < 1e-15:
            break
    return x


def policy_gradient(o: Obs, eta: float, lr: F64 | None = None) -> F64:
    """Softmax policy gradient on the regularized objective: logits += η π ⊙ (g − ⟨π, g⟩)."""
    p = o.pi()
    g = o.P @ p - o.beta * (o.logpi - (o.logref if lr is None else lr))
    return lognorm(o.logpi + eta * p * (g - float(p @ g)))


MAPS: dict[str, Callable[..., F64]] = {
    "nash-mp": nash_mp, "mmd": mmd, "nash-md": nash_md, "proximal-point": proximal_point, "mwu": mwu,
    "policy-gradient": policy_gradient,
}


def equivalents(rule: str, eta: float, beta: float) -> list[tuple[str, float]]:
    """The class of (rule, η) at β: the members that are the same map."""
    if rule in ("nash-mp", "extragradient"):
        e = eta if rule == "nash-mp" else eta / (1 - eta * beta)
        return [("nash-mp", e), ("extragradient", e / (1 + e * beta))]
    if rule in ("mmd", "omd"):
        e = eta if rule == "mmd" else eta / (1 - eta * beta)
        return [("mmd", e), ("omd", e / (1 + e * beta))]
    return [(rule, eta)]


def representative(rule: str, eta: float, beta: float) -> tuple[str, float]:
    return equivalents(rule, eta, beta)[0]


# ------------------------------------------------------------------ fitting


def _ls(ys: list[F64], xs: list[F64]) -> float:
    """argmin_θ Σ ‖centred(y) − θ·centred(x)‖²."""
    num = sum(float(centred(y) @ centred(x)) for y, x in zip(ys, xs))
    den = sum(float(centred(x) @ centred(x)) for x in xs)
    return num / den if den > 0 else math.nan


def _w_to_eta(w: float, beta: float) -> float:
    return w / (beta * (1 - w)) if 0 < w < 1 else math.nan


def fit(rule: str, obs: Sequence[Obs], lr_uniform: bool = False) -> float:
    """Least-squares step of ``rule`` on observations at one β (NaN when the rule cannot fit)."""
    beta = obs[0].beta
    lrs = [np.full_like(o.logref, -math.log(len(o.logref))) if lr_uniform else o.logref for o in obs]
    dy = [o.logout - o.logpi for o in obs]
    if rule == "mwu":
        return _ls(dy, [o.P @ o.pi() for o in obs])
    if rule == "policy-gradient":
        feats = []
        for o, lr in zip(obs, lrs):
            p = o.pi()
            g = o.P @ p - beta * (o.logpi - lr)
            feats.append(p * (g - float(p @ g)))
        return _ls(dy, feats)
    if rule == "mmd":
        return _w_to_eta(_ls(dy, [(lr - o.logpi) + (o.P @ o.pi()) / beta for o, lr in zip(obs, lrs)]), beta)
    if rule == "proximal-point":
        return _w_to_eta(_ls(dy, [(lr - o.logpi) + (o.P @ np.exp(o.logout)) / beta for o, lr in zip(obs, lrs)]),
                         beta)
    eta = fit("mmd", obs, lr_uniform) if rule == "nash-mp" else 1 / beta / 2
    for _ in range(12):
        if not math.isfinite(eta) or eta <= 0:
            return math.nan
        if rule == "nash-mp":
            feats = [(lr - o.logpi) + (o.P @ np.exp(_prox(o.logpi, lr, o.P @ o.pi(), eta, beta))) / beta
                     for o, lr in zip(obs, lrs)]
            new = _w_to_eta(_ls(dy, feats), beta)
        else:  # nash-md: log π' − log π = η[β(log ref − log π) + P π^μ] + c, with π^μ from the current η
            feats = []
            for o, lr in zip(obs, lrs):
                w = min(eta * beta, 1.0)
                mu = lognorm((1 - w) * o.logpi + w * lr)
                feats.append(beta * (lr - o.logpi) + o.P @ np.exp(mu))
            new = _ls(dy, feats)
        if not math.isfinite(new) or abs(new - eta) <= 1e-15 * abs(eta):
            eta = new
            break
        eta = new
    if rule == "nash-md" and math.isfinite(eta) and eta * beta > 1:
        return math.nan
    return eta


def fit_mixture(obs: Sequence[Obs], two_step: bool) -> tuple[float, float]:
    """(w, a) with log π' = (1 − w) log π + w log π_ref + a·field: a decoupled from w (a ≠ w/β)."""
    dy = [centred(o.logout - o.logpi) for o in obs]
    w, a = 0.5, 1.0
    for _ in range(12 if two_step else 1):
        f1, f2 = [], []
        for o in obs:
            opp = o.pi()
            if two_step:
                opp = np.exp(lognorm((1 - w) * o.logpi + w * o.logref + a * (o.P @ o.pi())))
            f1.append(centred(o.logref - o.logpi))
            f2.append(centred(o.P @ opp))
        A = np.array([[sum(float(x @ y) for x, y in zip(f1, f1)), sum(float(x @ y) for x, y in zip(f1, f2))],
                      [sum(float(x @ y) for x, y in zip(f2, f1)), sum(float(x @ y) for x, y in zip(f2, f2))]])
        b = np.array([sum(float(x @ y) for x, y in zip(f1, dy)), sum(float(x @ y) for x, y in zip(f2, dy))])
        try:
            w, a = (float(v) for v in np.linalg.solve(A, b))
        except np.linalg.LinAlgError:
            return math.nan, math.nan
    return w, a


def split_map(o: Obs, eta_half: float, eta_full: float) -> F64:
    """Nash-MP with the half step at η_half and the full step at η_full (a slip in one of the two steps)."""
    half = _prox(o.logpi, o.logref, o.P @ o.pi(), eta_half, o.beta)
    return _prox(o.logpi, o.logref, o.P @ np.exp(half), eta_full, o.beta)


def centre_half_map(o: Obs, eta: float) -> F64:
    """Nash-MP whose full step is centred at the half step instead of π_k."""
    half = _prox(o.logpi, o.logref, o.P @ o.pi(), eta, o.beta)
    return _prox(half, o.logref, o.P @ np.exp(half), eta, o.beta)


def _argmin_log(f: Callable[[float], float], lo: float = -7.0, hi: float = 7.0) -> float:
    """η > 0 minimising f(η): a grid on log η, then golden-section refinement around the best point."""
    grid = np.linspace(lo, hi, 57)
    vals = [f(math.exp(x)) for x in grid]
    i = int(np.argmin(vals))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    g = (math.sqrt(5) - 1) / 2
    for _ in range(60):
        c, d = b - g * (b - a), a + g * (b - a)
        if f(math.exp(c)) <= f(math.exp(d)):
            b = d
        else:
            a = c
    return math.exp((a + b) / 2)


def fit_split(obs: Sequence[Obs]) -> tuple[float, float]:
    """(η_half, η_full): η_half by search, η_full by least squares given the half step."""
    beta = obs[0].beta
    dy = [o.logout - o.logpi for o in obs]

    def full_eta(eh: float) -> float:
        feats = [(o.logref - o.logpi) + (o.P @ np.exp(_prox(o.logpi, o.logref, o.P @ o.pi(), eh, beta))) / beta
                 for o in obs]
        return _w_to_eta(_ls(dy, feats), beta)

    def cost(eh: float) -> float:
        ef = full_eta(eh)
        return rms(partial(split_map, eta_half=eh, eta_full=ef), obs) if math.isfinite(ef) and ef > 0 else math.inf

    eh = _argmin_log(cost)
    return eh, full_eta(eh)


def mixture_map(o: Obs, w: float, a: float, two_step: bool) -> F64:
    opp = o.pi()
    if two_step:
        opp = np.exp(lognorm((1 - w) * o.logpi + w * o.logref + a * (o.P @ opp)))
    return lognorm((1 - w) * o.logpi + w * o.logref + a * (o.P @ opp))


def worst_ratio(pred: Callable[[Obs], F64], obs: Sequence[Obs]) -> float:
    """max over observations of max|log π' − prediction| / tolerance."""
    return ratio_chi2(pred, obs)[0]


def ratio_chi2(pred: Callable[[Obs], F64], obs: Sequence[Obs]) -> tuple[float, float]:
    """(max of |log π' − prediction| / tolerance, Σ of its squares) over every entry."""
    worst = total = 0.0
    for o in obs:
        try:
            with np.errstate(all="ignore"):
                p = pred(o)
        except (FloatingPointError, ValueError, OverflowError, ZeroDivisionError):
            return math.inf, math.inf
        if not np.all(np.isfinite(p)):
            return math.inf, math.inf
        r = np.abs(o.logout - p) / o.tol
        worst = max(worst, float(np.max(r)))
        total += float(r @ r)
    return worst, total


def baseline(obs: Sequence[Obs]) -> tuple[float, float]:
    """(worst ratio, χ²) of the declared map itself (``Obs.expected``); (inf, inf) when unknown."""
    if not obs or any(o.expected is None for o in obs):
        return math.inf, math.inf
    return ratio_chi2(lambda o: o.expected if o.expected is not None else o.logout, obs)


def rms(pred: Callable[[Obs], F64], obs: Sequence[Obs]) -> float:
    total = 0.0
    for o in obs:
        with np.errstate(all="ignore"):
            p = pred(o)
        if not np.all(np.isfinite(p)):
            return math.inf
        total += float(np.mean((o.logout - p) ** 2))
    return math.sqrt(total / max(len(obs), 1))


# ------------------------------------------------------------------ reporting


def nice(x: float, rel: float = 1e-9) -> Fraction:
    """A short rational within ``rel`` (relative) of x, else x itself as a Fraction."""
    if not math.isfinite(x):
        raise ValueError("nice() needs a finite number")
    for den in range(1, 1001):
        num = round(x * den)
        if num > 0 and abs(num / den - x) <= rel * abs(x):
            return Fraction(num, den)
    return Fraction(x)


def fit_declared(declared: str, obs: list[Obs], beta: float) -> Fraction | None:
    """The declared rule's step fitted to ``obs`` (via its class representative), as a short fraction
    when one is within 1e-9; None when no positive step fits."""
    rep = {"extragradient": "nash-mp", "omd": "mmd"}.get(declared, declared)
    eta = fit(rep, obs)
    if not math.isfinite(eta) or eta <= 0:
        return None
    members = dict(equivalents(rep, eta, beta))
    value = members.get(declared, eta)
    short = nice(value)
    return short if short.denominator <= 1000 else Fraction(value)


def show(x: float, rel: float = 1e-9) -> str:
    if not math.isfinite(x) or x <= 0:
        return f"{x:.6g}"
    f = nice(x, rel)
    return fraction_str(f) if f.denominator <= 1000 else f"{x:.6g}"


def step_forms(rule: str, eta: float, beta: float) -> str:
    """A step in every form a candidate may use: canonical η, γ = ηβ, EGPO's η_e, MMD's (lr, temp)."""
    if rule in ("nash-mp", "extragradient"):
        (_, e), (_, ee) = equivalents(rule, eta, beta)
        return f"η = {show(e)} (γ = ηβ = {show(e * beta)}; the same map as extragradient with η_e = {show(ee)})"
    if rule in ("mmd", "omd"):
        (_, e), (_, eo) = equivalents(rule, eta, beta)
        return f"η = {show(e)} (MMD lr = {show(e)}, temp = {show(beta)}; the same map as omd with η = {show(eo)})"
    return f"η = {show(eta)}"


@dataclass
class Hypothesis:
    """One fitted hypothesis at one β."""

    name: str  # a rule, or a named diagnosis
    beta: float
    param: str  # the fitted step, in words
    ratio: float  # worst error / tolerance at the fitted step
    residual: float  # RMS log-ratio
    eta: float = math.nan
    short: str = ""  # the fitted step in a few words (tables)
    chi2: float = math.inf  # Σ (error / tolerance)² over every compared entry
    params: int = 1  # fitted parameters (the AIC-style penalty: 2 per parameter)

    @property
    def explains(self) -> bool:
        return self.ratio <= 1.0  # one threshold: the conformance tolerance

    @property
    def score(self) -> float:
        return self.chi2 + 2 * self.params


@dataclass
class Identified:
    best: list[Hypothesis] = field(default_factory=list)  # per β: the best hypothesis
    table: list[Hypothesis] = field(default_factory=list)  # every hypothesis tried, per β


def hypothesis(name: str, beta: float, param: str, pred: Callable[[Obs], F64], obs: Sequence[Obs],
               eta: float, short: str = "", params: int = 1) -> Hypothesis:
    ratio, chi2 = ratio_chi2(pred, obs)
    return Hypothesis(name, beta, param, ratio, rms(pred, obs), eta,
                      short or (f"η = {show(eta)}" if name in MAPS else param), chi2, params)


def subsample(obs: Sequence[Obs]) -> list[Obs]:
    """The observations identification fits: about 30, evenly spread, with the first 15 that depart from the
    declared map among them (a bug that shows on one start is fitted where it shows)."""
    def departs(o: Obs) -> bool:
        return o.expected is not None and float(np.max(np.abs(o.logout - o.expected))) > o.tol

    bad = [o for o in obs if departs(o)][:15]
    seen = {id(o) for o in bad}
    return bad + [o for o in obs[:: max(1, len(obs) // 30)] if id(o) not in seen]


RULES = ("nash-mp", "mmd", "nash-md", "proximal-point", "mwu")


def identify(obs_by_beta: dict[float, list[Obs]], rules: Sequence[str] = RULES,
             diagnoses: Sequence[str] = ()) -> Identified:
    """Fit every rule (and the requested diagnoses) at each β; rank by worst error/tolerance."""
    result = Identified()
    for beta, obs in sorted(obs_by_beta.items()):
        sample = subsample(obs)
        hyps: list[Hypothesis] = []
        for rule in rules:
            sub = sample
            if beta == 0 and rule not in ("mwu", "policy-gradient"):
                continue  # the regularised rules' fits divide by β
            eta = fit(rule, sub)
            if not math.isfinite(eta) or eta <= 0:
                continue
            rel = max(1e-9, 10 * float(np.median([o.tol for o in sub])))  # the fit is as good as the data
            raw = hypothesis(rule, beta, step_forms(rule, eta, beta), partial(MAPS[rule], eta=eta), sub, eta)
            short = float(nice(eta, rel)) if nice(eta, rel).denominator <= 1000 else eta
            snapped = hypothesis(rule, beta, step_forms(rule, short, beta), partial(MAPS[rule], eta=short), sub,
                                 short) if short != eta else raw
            hyps.append(snapped if snapped.chi2 <= raw.chi2 + 1 else raw)  # the short value unless it fits worse
        for diag in diagnoses:
            h = _diagnosis(diag, sample, beta)
            if h is not None:
                hyps.append(h)
        hyps.sort(key=lambda h: h.ratio)
        result.table.extend(hyps)
        if hyps:
            result.best.append(hyps[0])
    return result


def _diagnosis(name: str, obs: Sequence[Obs], beta: float) -> Hypothesis | None:
    rule, _, variant = name.partition("/")
    if beta == 0 and name != "policy-gradient":
        return None
    if variant == "uniform-magnet":
        eta = fit(rule, obs, lr_uniform=True)
        if not math.isfinite(eta) or eta <= 0:
            return None
        fn = MAPS[rule]

        def pred(o: Obs) -> F64:
            return fn(o, eta, np.full_like(o.logref, -math.log(len(o.logref))))

        return hypothesis(f"π_ref ignored (uniform magnet), {rule}", beta, step_forms(rule, eta, beta), pred, obs,
                          eta, f"η = {show(eta)}")
    if variant == "transposed":  # Pᵀσ = 1 − Pσ: the opponent's preference, a step against the preference
        eta = fit(rule, [dataclasses.replace(o, P=np.ascontiguousarray(o.P.T)) for o in obs])
        if not math.isfinite(eta) or eta <= 0:
            return None
        fn = MAPS[rule]

        def pred_t(o: Obs) -> F64:
            return fn(dataclasses.replace(o, P=np.ascontiguousarray(o.P.T)), eta)

        return hypothesis(f"Pᵀ in place of P (the opponent's preference), {rule}", beta, step_forms(rule, eta, beta),
                          pred_t, obs, eta, f"η = {show(eta)}")
    if variant == "split-step":
        eh, ef = fit_split(obs)
        if not (math.isfinite(eh) and math.isfinite(ef) and ef > 0) or abs(eh / ef - 1) < 1e-3:
            return None  # one step size: that is Nash-MP itself
        ratio = nice(ef / eh, 1e-4)
        return hypothesis(f"half and full steps at different step sizes (full/half = {show(float(ratio), 1e-4)})",
                          beta, f"half step η = {show(eh, 1e-6)}, full step η = {show(ef, 1e-6)}",
                          partial(split_map, eta_half=eh, eta_full=ef), obs, ef,
                          f"η_half = {show(eh, 1e-6)}, η_full = {show(ef, 1e-6)}", params=2)
    if variant == "centre-half":
        eta = _argmin_log(lambda e: rms(partial(centre_half_map, eta=e), obs))
        shown = f"η = {show(eta, 1e-6)}"
        return hypothesis("the full step centred at the half step instead of π_k (nash-mp)", beta, shown,
                          partial(centre_half_map, eta=eta), obs, eta, shown)
    if variant == "decoupled":
        two = rule in ("nash-mp", "extragradient")
        w, a = fit_mixture(obs, two)
        if not (math.isfinite(w) and math.isfinite(a) and 0 < w < 1 and a > 0):
            return None  # not a mixture of π_k and π_ref with a step along the preference (a < 0: see Pᵀ)
        coupled = w / (beta * (1 - w)) if 0 < w < 1 else math.nan
        eta_a = a / (1 - w) if w < 1 else math.nan
        param = (f"weight on π_ref w = {show(w, 1e-6)} (the step η = {show(eta_a, 1e-6)} would need w = "
                 f"{show(eta_a * beta / (1 + eta_a * beta), 1e-6)}; w alone means η = {show(coupled, 1e-6)}; "
                 f"as if β were {show(w / a, 1e-6)})")
        return hypothesis(f"mixture weight decoupled from the step ({'two' if two else 'one'}-step)", beta, param,
                          partial(mixture_map, w=w, a=a, two_step=two), obs, eta_a,
                          f"w = {show(w, 1e-6)}, η = {show(eta_a, 1e-6)}", params=2)
    if name == "policy-gradient":
        eta = fit("policy-gradient", obs)
        if not math.isfinite(eta):
            return None
        return hypothesis("a policy-gradient step (softmax logits) in place of a mirror step", beta,
                          f"learning rate {show(eta, 1e-6)}", partial(policy_gradient, eta=eta), obs, eta,
                          f"learning rate {show(eta, 1e-6)}")
    return None
