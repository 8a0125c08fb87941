"""Audit someone else's update rule (or trace of iterates) against a declared algorithm.

The candidate is ``update(pi, P, ref, beta, eta) -> pi_next`` on one context (or, with ``batched``,
arrays of shape (contexts, n)); it may also accept ``t=`` (the step index) and ``state=`` (then it
returns ``(pi_next, state)``). It runs in a separate worker process (:mod:`nashproof.audit.worker`).
Findings come in four kinds: *validation* (the output is not a distribution, the call raised, hung,
or is not deterministic), *conformance* (from the same π_k, the candidate's π_{k+1} differs from the
declared map computed in 40-digit arithmetic by more than rounding can explain), *identification*
(which class of known rules, with which step, explains the observed steps, and named diagnoses when
the declared rule does not) and *claims* (the checker's applicable claims on its own trajectory).

The conformance tolerance is derived, not chosen: a floating-point evaluation of one step at unit
roundoff u perturbs the logits by at most about u·S, with S = 1 + ‖log π‖∞ + ηβ‖log π_ref‖∞ + η(1 + η)
bounding the magnitudes involved (the half step's error enters the full step through ηP); the
comparison uses the log-ratio max_y |log π_cand(y) − log π_map(y)|, a relative error, against
64·n·u·S (64 ulps for each of n summands). u = 2⁻⁵² for float64 outputs and 2⁻²³ for float32 ones.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from ..claims import L1_half, builtin_catalogue
from ..errors import InputError
from ..families import load_game
from ..games import Game
from ..numbers import check_beta, fraction_str
from ..plugins import import_user_module
from ..solvers import make_solver
from ..verify import Verdict, check_claim, from_iterates
from .diagnose import diagnose, family, on_float32_grid
from .findings import AuditReport, Finding, Identification
from .ident import fit_declared, show, step_forms
from .observed import Observed, observations, to_obs, z_score
from .rules import EXTRA, TEMPERED
from .steps import (
    ETA_MAX,
    ETA_MIN,
    DeclaredMap,
    ReferenceMap,
    StepSpec,
    canonical_fraction,
    solver_for,
    tolerance,
)
from .worker import Answer, Update, Worker

__all__ = ["ETA_MAX", "ETA_MIN", "AuditReport", "DeclaredMap", "Finding", "Identification", "ReferenceMap",
           "StepSpec", "canonical_fraction", "tolerance"]

F64 = npt.NDArray[np.float64]
U = 2.0**-52
U32 = 2.0**-23

DECLARABLE = ("nash-mp", "nash-md", "mmd", "omd", "extragradient", "proximal-point", "mwu", *EXTRA)
BATTERY = ("cyclic:n=5,skew=1/3", "transitive:n=4,skew=1/2", "random:n=6,seed=3,skew=1/2",
           "contextual:n=4,contexts=2,skew=1/2", "ties:n=4,skew=1/2", "bradley-terry:n=4,skew=1/3")
DEFAULT_BETAS = (Fraction(1, 20), Fraction(1, 2))


# ------------------------------------------------------------------ loading (in-process, for API users)


def load_update(spec: str) -> Update:
    """``path/to/file.py:name`` or ``package.module:name``, imported in this process."""
    target, sep, name = spec.rpartition(":")
    if not sep or not target or not name:
        raise InputError(f"--solver must look like path/to/file.py:update or package.module:update, got {spec!r}")
    module = import_user_module(target, "solver module")
    fn = getattr(module, name, None)
    if not callable(fn):
        raise InputError(f"{target} has no callable {name!r}")
    return fn  # type: ignore[no-any-return]


# ------------------------------------------------------------------ the battery


@dataclass
class AuditOptions:
    steps: int = 30
    timeout: float = 10.0
    memory_mb: int = 4096
    seed: int = 0
    samples: int = 0  # > 0: statistical mode, R calls per compared step
    confidence: float = 0.999
    sampled: bool = False  # hand the candidate a sampling oracle instead of P
    batched: bool = False
    precision: str = "auto"  # auto (from the output's dtype) | float32 | float64
    with_claims: bool = True
    budget: float = 45.0  # seconds for all calls of one audit (then: inconclusive unless already flagged)
    temperature: Fraction = Fraction(1)  # the declared opponents' temperature (1: π itself)
    progress: Callable[[str], None] | None = None  # told the cost estimate and each game's progress


def _starts(n: int, ref: F64, rng: random.Random) -> list[tuple[str, F64]]:
    uniform = np.full(n, 1.0 / n)
    raw = np.array([rng.gammavariate(1.0, 1.0) + 1e-3 for _ in range(n)])
    spiky = np.full(n, 0.02 / max(n - 1, 1))
    spiky[n - 1] = 0.98
    return [("π_ref", ref / ref.sum()), ("uniform", uniform), ("random", raw / raw.sum()),
            ("near a vertex", spiky / spiky.sum())]


class _Stop(Exception):
    pass


class _Battery:
    """Calls the candidate and collects observations; every problem becomes a finding."""

    def __init__(self, worker: Worker, report: AuditReport, opts: AuditOptions) -> None:
        self.w = worker
        self.report = report
        self.opts = opts
        self.obs: list[Observed] = []
        self.fatal = False
        self.started = time.monotonic()
        self.verbose = False  # progress lines (a run long enough to have had a cost estimate)

    def _fail(self, problem: str, spec: str, ctx: str, label: str, beta: Fraction) -> None:
        self.report.findings.append(Finding("validation", True, problem, spec, ctx, label, fraction_str(beta)))

    def call(self, game: Game, spec: str, beta: Fraction, eta: float, t: int, pis: list[F64], label: str,
             slot: str = "", canon: float | None = None) -> tuple[list[F64], float] | None:
        """One step on every context (one batched call, or one call per context).

        ``canon``: the step in canonical η. A zero probability is then excused (the step is not compared, with a
        note) when the exact step's log-probabilities may span beyond the output dtype's range, so that a correct
        implementation underflows: span ≤ span(log π) + ηβ·span(log π_ref) + η for every declarable map.
        """
        Ps = [np.array([[float(p) for p in row] for row in c.preference]) for c in game.contexts]
        refs = [np.array([float(r) for r in c.reference]) for c in game.contexts]
        answers: list[Answer] = []
        if self.opts.batched:
            a = self.w.call(np.stack(pis), np.stack(Ps), np.stack(refs), float(beta), eta, t, slot, self.opts.sampled)
            answers = [dataclasses.replace(a, out=None if a.out is None else a.out[c]) for c in range(len(pis))]
        else:
            for c in range(len(pis)):
                answers.append(self.w.call(pis[c], Ps[c], refs[c], float(beta), eta, t,
                                           f"{slot}|{c}" if slot else "", self.opts.sampled))
                if answers[-1].out is None:
                    break
        outs = []
        for c, a in enumerate(answers):
            if a.out is None:
                if a.budget:
                    self.fatal = True
                    self.report.inconclusive = (
                        f"the time budget ({self.opts.budget:g} s for all calls) ran out after {self.w.calls} calls; "
                        "the steps collected so far were compared; raise --budget for the whole battery")
                    raise _Stop
                if canon is not None and (a.problem or "").startswith("returned a zero probability"):
                    lp, lr = np.log(pis[c]), np.log(refs[c])
                    bound = float(np.ptp(lp) + canon * float(beta) * np.ptp(lr) + canon)
                    limit = 85.0 if a.dtype == "float32" else 700.0  # −log of the smallest normal, less a margin
                    if bound > limit:
                        note = (f"{label}: returned a zero probability where the exact step's log-probabilities may "
                                f"span up to {bound:.0f} (> {limit:.0f}, beyond {a.dtype or 'float64'}'s range): "
                                "an honest underflow; those steps are not compared")
                        if not any("honest underflow" in f.message and f.beta == fraction_str(beta)
                                   and f.game == spec for f in self.report.findings):
                            self.report.findings.append(Finding("validation", False, note, spec,
                                                                game.contexts[c].name, label, fraction_str(beta)))
                        return None
                self._fail(f"{label}: {a.problem}", spec, game.contexts[c].name, label, beta)
                if a.fatal:
                    self.fatal = True
                    raise _Stop
                return None
            outs.append(a.out)
        u = U32 if self.opts.precision == "float32" or any(a.dtype == "float32" for a in answers) else U
        if self.opts.precision == "float64":
            u = U
        return outs, u

    def repeated(self, game: Game, spec: str, beta: Fraction, eta: float, t: int, pis: list[F64],
                 label: str, canon: float | None = None
                 ) -> tuple[list[F64], float, list[F64] | None, list[float]] | None:
        """The statistical mode: R calls, the mean of the centred logs, its standard error and the largest
        per-call variance of a centred log (for the Jensen allowance of maps non-linear in the noise)."""
        R = self.opts.samples
        if R <= 0:
            got = self.call(game, spec, beta, eta, t, pis, label, canon=canon)
            return None if got is None else (got[0], got[1], None, [0.0] * len(pis))
        draws: list[list[F64]] = []
        u = U
        for _ in range(R):
            got = self.call(game, spec, beta, eta, t, pis, label, canon=canon)
            if got is None:
                return None
            draws.append([np.log(o) - float(np.mean(np.log(o))) for o in got[0]])
            u = max(u, got[1])
        means, errs, spreads = [], [], []
        for c in range(len(pis)):
            arr = np.array([d[c] for d in draws])
            m = arr.mean(axis=0)
            means.append(np.exp(m - np.log(np.sum(np.exp(m)))))
            errs.append(arr.std(axis=0, ddof=1) / math.sqrt(R))
            spreads.append(float(np.max(arr.var(axis=0, ddof=1))))
        return means, u, errs, spreads


def _eta_passed(declared: str, step: StepSpec, beta: Fraction, t: int) -> float:
    return step.passed(declared, beta, t)


def _canon(declared: str, step: StepSpec, beta: Fraction, t: int) -> float | None:
    """The canonical step when the declaration fixes it (not for a fitted one)."""
    try:
        return _canonical(declared, step, beta, t)
    except (AssertionError, ValueError, ZeroDivisionError, InputError):
        return None


def _canonical(declared: str, step: StepSpec, beta: Fraction, t: int, e: Fraction | None = None) -> float:
    """The step in Nash-MP/MMD's normalisation (sets the size S of the logits in the tolerance)."""
    if step.kind == "schedule":
        return float(Fraction(2) / (beta * (t + 2)))
    e = step.solver_eta(declared, beta) if e is None else e
    assert e is not None
    if declared in ("extragradient", "omd"):
        return float(e / (1 - e * beta)) if e * beta < 1 else float(1 / beta) * 1e3
    return float(e)


def audit_update(candidate: Update | str, declared: str, eta: Fraction | StepSpec | None,
                 betas: Sequence[Fraction] = DEFAULT_BETAS, games: Sequence[str] = BATTERY, steps: int = 30,
                 timeout: float = 10.0, source: str = "", with_claims: bool = True,
                 options: AuditOptions | None = None) -> AuditReport:
    """Run the battery on a candidate (a callable, or a ``file.py:name`` spec loaded in the worker)."""
    if declared not in DECLARABLE:
        raise InputError(f"--declared must be one of {', '.join(DECLARABLE)}")
    opts = options or AuditOptions(steps=steps, timeout=timeout, with_claims=with_claims)
    step = eta if isinstance(eta, StepSpec) else (StepSpec("eta", eta) if eta is not None
                                                  else StepSpec.parse(None, declared))
    if step.kind == "lr" and step.temp is not None:
        betas = [step.temp]
    for beta in betas:
        check_beta(beta)
    if opts.temperature != 1 and family(declared) not in TEMPERED:
        raise InputError(f"--opponent-temperature applies to {', '.join(TEMPERED)}, not {declared}")
    for beta in betas:
        e = step.solver_eta(declared, beta)
        if step.kind != "auto" and declared not in EXTRA:
            solver_for(declared, beta, e)  # reject steps for which the declared update is undefined
    declared_eta = step.value if step.kind == "eta" and step.value > 0 else None
    report = AuditReport(declared, declared_eta, list(betas), source=source or str(candidate),
                         step=step.describe())
    if isinstance(candidate, str):
        _check_target(candidate)
    with Worker(candidate, opts.timeout, opts.memory_mb, opts.seed, budget=opts.budget) as worker:
        bat = _Battery(worker, report, opts)
        try:
            if _affordable(bat, declared, step, list(betas), games):
                _collect(bat, declared, step, list(betas), games, opts)
        except _Stop:
            pass
        fitted = _conformance(bat, declared, step)
        float32 = (all(o.u == U and o.stderr is None for o in bat.obs) and _float32_explains(report)
                   and on_float32_grid([o.out for o in bat.obs]))
        diagnose(report, observations(bat.obs, opts.confidence), declared, step.kind == "schedule",
                 step.describe(), step.kind == "auto", float32)
        if opts.samples > 0 and opts.with_claims:
            report.findings.append(Finding("claims", False, "claims skipped in the statistical mode: they are "
                                           "statements about one exact trajectory, and a stochastic candidate's "
                                           "trajectory is one noisy draw (audit a deterministic variant for them)"))
        elif declared in EXTRA or opts.temperature != 1:
            pass  # the checker's claims are about its own solvers
        elif opts.with_claims and not bat.fatal:
            specs = dict.fromkeys([games[0], *[g for g in games if g.startswith("contextual")][:1]])
            before = report.inconclusive
            try:
                for spec in specs:
                    beta = report.betas[0]
                    solver_eta = fitted.get(beta) if step.kind == "auto" else step.solver_eta(declared, beta)
                    report.claims.extend(_claims(bat, declared, step, solver_eta, beta, spec))
            except _Stop:  # out of time during the claims: they are extra, the verdict stands
                report.inconclusive = before
                report.claims = []
    if opts.precision == "float32" or any(o.u == U32 for o in bat.obs):
        report.precision = "float32"
    return report


def planned_calls(n_contexts: list[int], betas: int, steps: int, samples: int, batched: bool) -> int:
    """Calls of a battery: per game and β, its own trajectory, then 4 starts and 3 of its iterates (R
    calls each in the statistical mode); two more for the determinism check in the exact mode."""
    total = 0 if samples > 0 else 2
    for k in n_contexts:
        per = 1 if batched else k
        total += betas * per * (steps + 7 * max(samples, 1))
    return total


def _affordable(bat: _Battery, declared: str, step: StepSpec, betas: list[Fraction], games: Sequence[str]) -> bool:
    """The cost estimate before the run: two probe calls time one call; a battery whose estimate exceeds
    the budget is not started (inconclusive, with the figures) unless it is a short exact-mode run."""
    opts = bat.opts
    loaded = [load_game(g) for g in games]
    calls = planned_calls([len(g.contexts) for g in loaded], len(betas), opts.steps, opts.samples, opts.batched)
    if calls < 2000 and opts.samples <= 0:
        return True
    bat.verbose = True
    game, beta = loaded[0], betas[0]
    pis = [np.full(game.n, 1.0 / game.n) for _ in game.contexts]
    times = []
    for _ in range(2):
        t0 = time.monotonic()
        if bat.call(game, games[0], beta, _eta_passed(declared, step, beta, 0), 0, pis, "cost probe",
                    canon=_canon(declared, step, beta, 0)) is None:
            return True  # the battery reports the problem
        times.append((time.monotonic() - t0) / (1 if opts.batched else len(pis)))
    per_call = min(times)
    estimate = calls * per_call
    note = (f"about {calls} calls ({opts.samples} per compared step)" if opts.samples > 0 else f"about {calls} calls"
            ) + f", ≈ {estimate:.0f} s at {1000 * per_call:.2g} ms per call; budget {opts.budget:g} s"
    if opts.progress is not None:
        opts.progress(f"audit: cost estimate: {note}")
    if estimate > opts.budget:
        bat.report.inconclusive = (f"the estimated cost ({note}) exceeds the budget: nothing was run; raise "
                                   "--budget, lower --samples or --steps, or pick fewer games with --games")
        return False
    return True


def _check_target(spec: str) -> None:
    """A solver path that exists must be a regular file (a FIFO would block the import)."""
    import stat
    from pathlib import Path

    target = spec.rpartition(":")[0]
    if not target:
        return
    try:
        st = Path(target).stat()
    except OSError:
        return  # not a path (an import path), or missing: the loader reports it
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"solver module {target} is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"solver module {target} is not a regular file")


def _collect(bat: _Battery, declared: str, step: StepSpec, betas: list[Fraction], games: Sequence[str],
             opts: AuditOptions) -> None:
    rng = random.Random(1)
    first = True
    for spec in games:
        game = load_game(spec)
        for beta in betas:
            refs = [np.array([float(r) for r in c.reference]) for c in game.contexts]
            starts = [_starts(game.n, ref, rng) for ref in refs]
            if first and opts.samples <= 0:  # the determinism check: the same call twice
                first = False
                pis = [s[1][1] for s in starts]
                c0 = _canon(declared, step, beta, 0)
                a = bat.call(game, spec, beta, _eta_passed(declared, step, beta, 0), 0, pis, "determinism check",
                             canon=c0)
                b = bat.call(game, spec, beta, _eta_passed(declared, step, beta, 0), 0, pis, "determinism check",
                             canon=c0)
                if a is not None and b is not None:
                    gap = max(float(np.max(np.abs(np.log(x) - np.log(y)))) for x, y in zip(a[0], b[0]))
                    if gap > 0:
                        bat.report.findings.append(Finding(
                            "determinism", True, f"two calls with the same input differ (max |log ratio| {gap:.3g}): "
                            "the candidate is stochastic (audit it with --samples R) or keeps hidden state between "
                            "calls (pass it as t= or state=)",
                            spec, game.contexts[0].name, "uniform", fraction_str(beta)))
                        bat.fatal = True
                        raise _Stop
            # Its own trajectory from π_ref (state threaded): its later iterates are starts too.
            if opts.progress is not None and bat.verbose:
                opts.progress(f"audit: {spec} at β = {fraction_str(beta)} ({bat.w.calls} calls so far, "
                              f"{time.monotonic() - bat.started:.0f} s)")
            pis = [r / r.sum() for r in refs]
            slot = f"{spec}|{fraction_str(beta)}"
            traj: list[tuple[str, int, list[F64]]] = []
            stateful = "state" in bat.w.accepts  # a fresh state is step 0 of its own run
            prev: list[F64] | None = None
            for k in range(opts.steps):
                got = bat.call(game, spec, beta, _eta_passed(declared, step, beta, k), k, pis,
                               f"step {k} of its own trajectory", slot, canon=_canon(declared, step, beta, k))
                if got is None:
                    break
                if k in (1, 4, 12, opts.steps - 1) and opts.samples <= 0:  # its own steps, state and all
                    for c in range(len(game.contexts)):
                        bat.obs.append(Observed(spec, game, c, beta, f"step {k} of its own trajectory", k,
                                                _canonical(declared, step, beta, k), pis[c], got[0][c], got[1],
                                                prev=None if prev is None or not stateful else prev[c]))
                if k in (2, 9, opts.steps - 1):
                    traj.append((f"its own iterate k={k + 1}", 0 if stateful else k + 1, got[0]))
                prev, pis = pis, got[0]
            jobs = [(label, 0 if stateful else j, [s[j][1] for s in starts])
                    for j, (label, _) in enumerate(starts[0])] + traj
            for label, t, pis_j in jobs:
                got2 = bat.repeated(game, spec, beta, _eta_passed(declared, step, beta, t), t, pis_j, label,
                                    canon=_canon(declared, step, beta, t))
                if got2 is None:
                    continue
                outs, u, errs, spreads = got2
                for c in range(len(game.contexts)):
                    bat.obs.append(Observed(spec, game, c, beta, label, t, _canonical(declared, step, beta, t),
                                            pis_j[c], outs[c], u, None if errs is None else errs[c],
                                            spread=spreads[c]))


def _conformance(bat: _Battery, declared: str, step: StepSpec) -> dict[Fraction, Fraction]:
    """Compare every observation with the declared map; in auto mode at the fitted step. Returns the fits."""
    report = bat.report
    fitted: dict[Fraction, Fraction] = {}
    by_beta: dict[Fraction, list[Observed]] = {}
    for o in bat.obs:
        by_beta.setdefault(o.beta, []).append(o)
    if step.kind == "auto":
        for beta, group in by_beta.items():
            eta_f = fit_declared(declared, [to_obs(o, 1.0) for o in group], float(beta))
            if eta_f is not None:
                fitted[beta] = eta_f
                for o in group:  # the tolerance's size S follows the fitted step
                    o.eta = _canonical(declared, step, beta, o.t, eta_f)
        parts = [f"β = {fraction_str(b)}: {step_forms(declared, float(e), float(b))}" for b, e in fitted.items()]
        rel = 1e-9 if all(o.u == U and o.stderr is None for o in bat.obs) else 1e-5
        report.fitted = _in_own_terms(declared, fitted, rel) + ("; " if parts else "") + "; ".join(parts)
        if len(fitted) < len(by_beta):
            report.findings.append(Finding("identification", True, f"no step of {declared} fits the steps at some β"))
    if not bat.obs:
        return fitted
    z = z_score(bat.opts.confidence, len(bat.obs) * max(o.pi.size for o in bat.obs)) if bat.opts.samples > 0 else 0.0
    maps: dict[tuple[int, int, Fraction], DeclaredMap] = {}
    for o in bat.obs:
        if step.kind == "auto":
            if o.beta not in fitted:
                continue
            solver_eta: Fraction | None = fitted[o.beta]
        else:
            solver_eta = step.solver_eta(declared, o.beta)
        key = (id(o.game), o.c, o.beta)
        if key not in maps:
            maps[key] = DeclaredMap(o.game.contexts[o.c], declared, o.beta, solver_eta, bat.opts.temperature)
        ctx = o.game.contexts[o.c]
        ref = np.array([float(r) for r in ctx.reference])
        expected = maps[key].exact(o.pi, o.t, o.prev, o.out)
        o.expected = expected
        err_vec = np.abs(np.log(o.out) - expected)
        err_vec[~np.isfinite(err_vec)] = np.inf  # the declared map leaves the simplex (an Euler step too long)
        tol = tolerance(o.pi, ref, float(o.beta), o.eta, o.game.n, o.u)
        if o.stderr is not None:  # statistical: centred logs, z standard errors, rounding, Jensen allowance
            err_vec = np.abs((np.log(o.out) - np.mean(np.log(o.out))) - (expected - np.mean(expected)))
            bound = z * o.stderr + tol + (1 + o.eta) * o.spread
            ratio = float(np.max(err_vec / bound))
            err, tol = float(np.max(err_vec)), float(np.max(bound))
        else:
            err = float(np.max(err_vec))
            ratio = err / tol
        report.checked_steps += 1
        report.worst_ratio = max(report.worst_ratio, ratio)
        if ratio > 1:
            what = (f"the mean of {bat.opts.samples} calls departs from {declared}'s map beyond the "
                    f"{bat.opts.confidence:.4g} confidence bound" if o.stderr is not None else
                    f"π_(k+1) departs from {declared}'s map")
            report.findings.append(Finding("conformance", True, f"{what} (max |log ratio| {err:.3g} > tolerance "
                                           f"{tol:.3g})", o.spec, ctx.name, o.label, fraction_str(o.beta), err, tol))
    return fitted


def _float32_explains(report: AuditReport) -> bool:
    fails = [f for f in report.findings if f.kind == "conformance" and f.failed]
    return bool(fails) and all(f.error is not None and f.tolerance is not None
                               and f.error <= f.tolerance * (U32 / U) for f in fails)


def _in_own_terms(declared: str, fitted: dict[Fraction, Fraction], rel: float = 1e-9) -> str:
    """Say which form of the step is constant across β (the candidate's own hyperparameter)."""
    if not fitted:
        return "no step fits"
    if len(fitted) < 2:
        return "fitted step"
    own = [float(e) for e in fitted.values()]
    canon = {b: float(e) for b, e in fitted.items()}
    if declared in ("extragradient", "omd"):
        canon = {b: e / (1 - e * float(b)) for b, e in canon.items()}

    def same(vals: list[float]) -> bool:
        return max(vals) - min(vals) <= rel * max(abs(v) for v in vals)

    name = "η_e" if declared == "extragradient" else "η"
    if same(own):
        return f"constant {name} = {show(own[0], rel)}"
    family = "Nash-MP" if declared == "extragradient" else "MMD"
    if same(list(canon.values())):
        return f"constant {family} η = {show(next(iter(canon.values())), rel)} (the declared {name} varies with β)"
    if same([e * float(b) for b, e in canon.items()]):
        return f"constant γ = ηβ = {show(next(e * float(b) for b, e in canon.items()), rel)} (the step scales as 1/β)"
    return "the step depends on β"


# ------------------------------------------------------------------ claims on the trajectory


def _claims(bat: _Battery, declared: str, step: StepSpec, solver_eta: Fraction | None, beta: Fraction,
            game_spec: str, steps: int = 40) -> list[Verdict]:
    """The checker's applicable claims on the candidate's own trajectory from π_ref."""
    if solver_eta is None and step.kind != "schedule":
        return []
    game = load_game(game_spec)
    solver = solver_for(declared, beta, solver_eta)
    states = [np.array([float(r) for r in c.reference]) for c in game.contexts]
    policies: list[list[F64]] = [[np.log(s) for s in states]]
    n_findings = len(bat.report.findings)
    for k in range(steps):
        got = bat.call(game, game_spec, beta, _eta_passed(declared, step, beta, k), k, states, "claims trajectory",
                       f"claims|{game_spec}", canon=_canon(declared, step, beta, k))
        if got is None:
            del bat.report.findings[n_findings:]  # already reported by the battery
            return []
        states = got[0]
        policies.append([np.log(s) for s in states])
    logs = [[[Fraction(float(x)) for x in lp] for lp in pol] for pol in policies]
    data = from_iterates(game, solver, logs, relative_error=U)
    out = []
    for claim in builtin_catalogue():
        if not claim.applies_to(declared) or claim.kind in ("existence", "dimension"):
            continue
        if any(s.has(L1_half) for s in claim.statements):
            continue  # needs the half step, which a one-call update does not expose
        out.append(check_claim(claim, data))
    return out


def claims_on_trajectory(fn: Update | str, declared: str, eta: Fraction, beta: Fraction, game_spec: str,
                         steps: int = 40, timeout: float = 10.0) -> list[Verdict]:
    """The checker's applicable claims on a candidate's own trajectory from π_ref (API)."""
    report = AuditReport(declared, eta, [beta])
    with Worker(fn, timeout) as worker:
        bat = _Battery(worker, report, AuditOptions(timeout=timeout))
        try:
            return _claims(bat, declared, StepSpec("eta", eta), make_solver(declared, beta, eta).eta, beta,
                           game_spec, steps)
        except _Stop:
            return []
