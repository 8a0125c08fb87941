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
from collections.abc import Callable, Generator, Sequence

import numpy as np
import numpy.typing as npt

from .ident import Hypothesis, Obs, hypothesis, lognorm, nice, show
from .optim import lanes, optimiser
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
    return _finite(np.concatenate(parts))


def _finite(r: F64) -> F64:
    """The residual vector, or a huge one when a prediction was not finite (the fit then avoids it)."""
    return r if np.all(np.isfinite(r)) else np.full(r.shape, 1e150)


def fit1(model: Callable[[float], Callable[[Obs], F64]], obs: Sequence[Obs], lo: float, hi: float) -> float:
    """The parameter x in [lo, hi] (x > 0) minimising the tolerance-weighted residuals of model(x)."""
    search = fit_search(lo, hi)
    xs = next(search)
    while True:
        with np.errstate(all="ignore"):
            rs = [_residuals(model(x), obs) for x in xs]
        try:
            xs = search.send(rs)
        except StopIteration as done:
            return float(done.value)


def fit_search(lo: float, hi: float) -> Generator[list[float], list[F64], float]:
    """:func:`fit1`'s search, written as a coroutine so that many fits can run in lock step: it yields the
    parameters whose residual vectors it needs next and is sent those vectors (in the same order)."""
    def cost(r: F64) -> float:
        with np.errstate(all="ignore"):
            return float(np.sum(r**2))

    grid = np.linspace(math.log(lo), math.log(hi), 41)
    vals = [cost(r) for r in (yield [math.exp(g) for g in grid])]
    i = int(np.argmin(vals))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    g = (math.sqrt(5) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = (cost(r) for r in (yield [math.exp(c), math.exp(d)]))
    for _ in range(50):  # one new evaluation per iteration: the other point is reused
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = cost((yield [math.exp(c)])[0])
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = cost((yield [math.exp(d)])[0])
    x = math.exp((a + b) / 2)
    for _ in range(4):  # Gauss–Newton: the golden section only finds the minimum to √ε
        h = 1e-6 * x
        r, up, down = yield [x, x + h, x - h]
        J = (up - down) / (2 * h)
        den = float(J @ J)
        if den <= 0 or not math.isfinite(den):
            break
        nxt = x - float(J @ r) / den
        if not (lo / 2 < nxt < 2 * hi):
            break
        x = nxt
    snapped = float(nice(x, 1e-6))
    if snapped != x:
        at_snapped, at_x = (cost(r) for r in (yield [math.exp(math.log(snapped)), math.exp(math.log(x))]))
        if at_snapped <= at_x + 1:
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


def fit_every_k(sub: Sequence[Obs], targets: list[F64], adam: bool, ks: Sequence[int] = ADAM_STEPS
                ) -> list[tuple[float, int, float]]:
    """(χ², K, lr) for every K of ``ks``: :func:`fit1` of the learning rate at each K, every fit run
    in lock step, so that each round of requests is one batch of optimiser runs (one run per learning rate,
    serving every K that asked for it: the grid of the first round is the same for every K)."""
    def residuals(wanted: list[tuple[int, float]]) -> list[F64]:
        by_lr: dict[float, list[int]] = {}
        for K, x in wanted:
            by_lr.setdefault(x, []).append(K)
        lrs = list(by_lr)
        runs = lanes(targets, [o.logpi for o in sub], lrs, [by_lr[x] for x in lrs], adam)
        at = {x: i for i, x in enumerate(lrs)}
        out = []
        with np.errstate(all="ignore"):
            for K, x in wanted:
                out.append(_finite(np.concatenate([(o.logout - p) / o.tol for o, p in zip(sub, runs[at[x]][K])])))
        return out

    searches = {K: fit_search(1e-4, 2.0) for K in ks}
    asked = {K: next(s) for K, s in searches.items()}
    fitted: dict[int, float] = {}
    while asked:
        rs = residuals([(K, x) for K, xs in asked.items() for x in xs])
        at = 0
        for K, xs in list(asked.items()):
            got, at = rs[at:at + len(xs)], at + len(xs)
            try:
                asked[K] = searches[K].send(got)
            except StopIteration as done:
                fitted[K] = float(done.value)
                del asked[K]
    rs = residuals([(K, fitted[K]) for K in ks])
    with np.errstate(all="ignore"):
        return [(float(np.sum(r**2)), K, fitted[K]) for r, K in zip(rs, ks)]


def per_coordinate(fam: str, obs: Sequence[Obs], beta: float) -> Hypothesis | None:
    sub = list(obs[:: max(1, len(obs) // 6)])
    targets = {id(o): declared(fam, o) for o in obs}
    best: Hypothesis | None = None
    for adam in (True, False):
        _, K, lr = min(fit_every_k(sub, [targets[id(o)] for o in sub], adam))
        name = "Adam" if adam else "RMSProp"
        memo: dict[int, F64] = {}

        def pred(o: Obs, lr: float = lr, K: int = K, adam: bool = adam, memo: dict[int, F64] = memo) -> F64:
            if id(o) not in memo:
                memo[id(o)] = optimiser(targets[id(o)], o.logpi, lr, K, adam)
            return memo[id(o)]

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

