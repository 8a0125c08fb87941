"""Named hypotheses for the bugs real trainers have, each with its fitted parameter in the user's terms.

Every hypothesis is the declared map with one change; ``fam`` is the declared rule's family (its
canonical form: extragradient → nash-mp, omd → mmd) and each observation's ``eta`` is the declared
step in that form. Parameters are fitted by least squares on the log-ratios (a golden-section search
on a log scale, then Gauss–Newton steps to full float64 accuracy) and snapped to a short rational
when that fits as well: a user's hyperparameter (0.9, 1e-3) is then shown as written.

* opponents at temperature τ: the field is P·softmax(log π/τ) instead of Pπ (1 parameter);
* the sign of the KL term: β → −β (no parameter);
* the magnet equal to the current policy: π_ref → π_k (no parameter);
* log-probabilities clamped at log ε (or logits at max − c), then renormalised (1 parameter);
* per-coordinate step scaling: K steps of Adam or RMSProp (torch's defaults) on the logits towards
  the declared step, from fresh moments (2 parameters: the learning rate and K);
* a first-order (Euler) step π ⊙ (1 + Δ − ⟨π, Δ⟩) in place of π ⊙ e^Δ / Z, Δ the declared
  log-displacement (no parameter).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from .ident import Hypothesis, Obs, hypothesis, lognorm, nice, show
from .rules import TEMPERED, step

F64 = npt.NDArray[np.float64]
HAS_BETA = ("mmd", "nash-mp", "nash-md")
ADAM_STEPS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200)


def declared(fam: str, o: Obs, tau: float = 1.0, lr: F64 | None = None, beta: float | None = None) -> F64:
    return step(fam, o.logpi, o.P, o.logref if lr is None else lr, o.beta if beta is None else beta, o.eta, tau,
                o.logprev)


def _residuals(pred: Callable[[Obs], F64], obs: Sequence[Obs]) -> F64:
    parts = []
    for o in obs:
        with np.errstate(all="ignore"):
            p = pred(o)
        parts.append((o.logout - p) / o.tol)
    r = np.concatenate(parts)
    return r if np.all(np.isfinite(r)) else np.full(r.shape, 1e150)


def fit1(model: Callable[[float], Callable[[Obs], F64]], obs: Sequence[Obs], lo: float, hi: float) -> float:
    """The parameter x in [lo, hi] (x > 0) minimising the tolerance-weighted residuals of model(x)."""
    def cost(lx: float) -> float:
        with np.errstate(all="ignore"):
            return float(np.sum(_residuals(model(math.exp(lx)), obs) ** 2))

    grid = np.linspace(math.log(lo), math.log(hi), 41)
    vals = [cost(g) for g in grid]
    i = int(np.argmin(vals))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    g = (math.sqrt(5) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = cost(c), cost(d)
    for _ in range(50):  # one new evaluation per iteration: the other point is reused
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = cost(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = cost(d)
    x = math.exp((a + b) / 2)
    for _ in range(4):  # Gauss–Newton: the golden section only finds the minimum to √ε
        h = 1e-6 * x
        r = _residuals(model(x), obs)
        J = (_residuals(model(x + h), obs) - _residuals(model(x - h), obs)) / (2 * h)
        den = float(J @ J)
        if den <= 0 or not math.isfinite(den):
            break
        nxt = x - float(J @ r) / den
        if not (lo / 2 < nxt < 2 * hi):
            break
        x = nxt
    snapped = float(nice(x, 1e-6))
    if snapped != x and cost(math.log(snapped)) <= cost(math.log(x)) + 1:
        return snapped
    return x


def temperature(fam: str, obs: Sequence[Obs], beta: float) -> Hypothesis | None:
    if fam not in TEMPERED:
        return None
    tau = fit1(lambda t: lambda o: declared(fam, o, tau=t), obs, 0.05, 20.0)
    if abs(tau - 1) < 1e-9:
        return None
    return hypothesis(f"opponents at temperature {show(tau, 1e-6)} (the declared {fam} plays against π itself)",
                      beta, "", lambda o: declared(fam, o, tau=tau), obs,
                      tau, f"τ = {show(tau, 1e-6)}", params=1)


def kl_sign(fam: str, obs: Sequence[Obs], beta: float) -> Hypothesis | None:
    if fam not in HAS_BETA or any(o.eta * o.beta >= 1 for o in obs):
        return None
    return hypothesis("the KL term with the wrong sign (β → −β: a step away from π_ref)", beta,
                      "", lambda o: declared(fam, o, beta=-o.beta), obs, math.nan,
                      "no parameter", params=0)


def magnet_current(fam: str, obs: Sequence[Obs], beta: float) -> Hypothesis | None:
    if fam not in HAS_BETA:
        return None
    return hypothesis("the magnet equal to the current policy (π_ref replaced by π_k: the anchor moves with "
                      "the iterate)", beta, "", lambda o: declared(fam, o, lr=o.logpi), obs,
                      math.nan, "no parameter", params=0)


def _floor(lp: F64, eps: float) -> F64:
    return lognorm(np.maximum(lp, math.log(eps)))


def _logit_clip(lp: F64, c: float) -> F64:
    return lognorm(np.maximum(lp - float(np.max(lp)), -c))


def clipping(fam: str, obs: Sequence[Obs], beta: float) -> Hypothesis | None:
    eps = fit1(lambda e: lambda o: _floor(declared(fam, o), e), obs, 1e-12, 0.5)
    h1 = hypothesis(f"probabilities clamped below at ε = {show(eps, 1e-6)} (a log-probability threshold), then "
                    "renormalised", beta, "", lambda o: _floor(declared(fam, o), eps), obs,
                    eps, f"ε = {show(eps, 1e-6)}", params=1)
    c = fit1(lambda x: lambda o: _logit_clip(declared(fam, o), x), obs, 0.1, 60.0)
    h2 = hypothesis(f"logits clipped at {show(c, 1e-6)} below the largest (then renormalised)", beta, "",
                    lambda o: _logit_clip(declared(fam, o), c), obs, c, f"c = {show(c, 1e-6)}", params=1)
    return min(h1, h2, key=lambda h: h.chi2)


def _optimiser(target: F64, lp: F64, lr: float, steps: int, adam: bool) -> F64:
    """``steps`` steps of Adam (β = (0.9, 0.999)) or RMSProp (α = 0.99), eps 1e-8, on logits z = log π_k,
    minimising the cross-entropy to the declared step's distribution (gradient softmax(z) − π*)."""
    z = lp.copy()
    m = np.zeros_like(z)
    v = np.zeros_like(z)
    pt = np.exp(target)
    for k in range(1, steps + 1):
        p = np.exp(lognorm(z))
        g = p - pt
        if adam:
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            z = z - (lr / (1 - 0.9**k)) * m / (np.sqrt(v) / math.sqrt(1 - 0.999**k) + 1e-8)
        else:
            v = 0.99 * v + 0.01 * g * g
            z = z - lr * g / (np.sqrt(v) + 1e-8)
    return lognorm(z)


def per_coordinate(fam: str, obs: Sequence[Obs], beta: float) -> Hypothesis | None:
    sub = list(obs[:: max(1, len(obs) // 6)])
    targets = {id(o): declared(fam, o) for o in obs}
    best: Hypothesis | None = None
    for adam in (True, False):
        fits = []
        for K in ADAM_STEPS:
            def model(lr: float, K: int = K, adam: bool = adam) -> Callable[[Obs], F64]:
                return lambda o: _optimiser(targets[id(o)], o.logpi, lr, K, adam)
            lr = fit1(model, sub, 1e-4, 2.0)
            with np.errstate(all="ignore"):
                fits.append((float(np.sum(_residuals(model(lr), sub) ** 2)), K, lr))
        _, K, lr = min(fits)
        name = "Adam" if adam else "RMSProp"

        def pred(o: Obs, lr: float = lr, K: int = K, adam: bool = adam) -> F64:
            return _optimiser(targets[id(o)], o.logpi, lr, K, adam)

        h = hypothesis(f"per-coordinate step scaling: {K} {name} step{'s' if K > 1 else ''} at learning rate "
                       f"{show(lr, 1e-6)} on the logits towards the declared step (it stops short of the step)",
                       beta, "",
                       pred, obs,
                       lr, f"{name} lr = {show(lr, 1e-6)}, K = {K}", params=2)
        if best is None or h.chi2 < best.chi2:
            best = h
    return best


def euler(fam: str, obs: Sequence[Obs], beta: float) -> Hypothesis | None:
    def pred(o: Obs) -> F64:
        d = declared(fam, o) - o.logpi
        p = np.exp(o.logpi)
        q = p * (1 + d - float(p @ d))
        return np.log(q) if np.all(q > 0) else np.full(len(q), np.nan)

    return hypothesis("a first-order (Euler) step π ⊙ (1 + Δ) in place of the exponential step π ⊙ e^Δ / Z", beta,
                      "", pred, obs, math.nan, "no parameter", params=0)


BUGS: tuple[Callable[[str, Sequence[Obs], float], Hypothesis | None], ...] = (
    temperature, kl_sign, magnet_current, euler, clipping)


def bug_hypotheses(fam: str, obs: Sequence[Obs], beta: float, expensive: bool) -> list[Hypothesis]:
    """The named bugs (the optimiser hypothesis only when ``expensive``: it fits two parameters)."""
    out = [h for fn in BUGS if (h := fn(fam, obs, beta)) is not None]
    if expensive:
        h = per_coordinate(fam, obs, beta)
        if h is not None:
            out.append(h)
    return out

