"""Audit someone else's update rule (or trace of iterates) against a declared algorithm.

The candidate is ``update(pi, P, ref, beta, eta) -> pi_next`` on one context, numpy float64 in
and out. Findings come in four kinds: *validation* (the output is not a distribution, the call
raised or hung), *conformance* (from the same π_k, the candidate's π_{k+1} differs from the
declared map computed in 40-digit arithmetic by more than float64 rounding can explain),
*identification* (which known rule, with which step, best explains the observed steps) and
*claims* (the checker's applicable claims on the candidate's own trajectory).

The conformance tolerance is derived, not chosen: a float64 evaluation of one step perturbs the
logits by at most about u·S, where u = 2⁻⁵² and S = 1 + ‖log π‖∞ + ηβ‖log π_ref‖∞ + η(1 + η)
bounds the magnitudes involved (the half step's error enters the full step through ηP); the
comparison uses the log-ratio max_y |log π_cand(y) − log π_ref-map(y)|, a relative error, against
64·n·u·S (a per-entry rounding allowance of 64 ulps for each of n summands).
"""

from __future__ import annotations

import math
import random
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from types import FrameType

import numpy as np
import numpy.typing as npt

from .backends import FloatBackend, MpmathBackend
from .claims import L1_half, builtin_catalogue
from .errors import InputError
from .families import load_game
from .games import Context, Game, single
from .numbers import fraction_str
from .numeric import NumericGame, Oracle
from .plugins import import_user_module
from .solvers import Solver, make_solver
from .verify import Verdict, check_claim, from_iterates

F64 = npt.NDArray[np.float64]
Update = Callable[..., object]
U = 2.0**-52

DECLARABLE = ("nash-mp", "nash-md", "mmd", "omd", "extragradient")
BATTERY = ("cyclic:n=5,skew=1/3", "transitive:n=4,skew=1/2", "random:n=6,seed=3,skew=1/2",
           "contextual:n=4,contexts=2,skew=1/2", "ties:n=4,skew=1/2", "bradley-terry:n=4,skew=1/3")
DEFAULT_BETAS = (Fraction(1, 20), Fraction(1, 2))
FAMILIES = ("nash-mp", "extragradient", "mmd", "omd", "nash-md", "proximal-point")


# ------------------------------------------------------------------ loading


def load_update(spec: str) -> Update:
    """``path/to/file.py:name`` or ``package.module:name``."""
    target, sep, name = spec.rpartition(":")
    if not sep or not target or not name:
        raise InputError(f"--solver must look like path/to/file.py:update or package.module:update, got {spec!r}")
    module = import_user_module(target, "solver module")
    fn = getattr(module, name, None)
    if not callable(fn):
        raise InputError(f"{target} has no callable {name!r}")
    return fn  # type: ignore[no-any-return]


class _Timeout(Exception):
    pass


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _Timeout


def call_candidate(fn: Update, pi: F64, P: F64, ref: F64, beta: float, eta: float,
                   timeout: float) -> tuple[F64 | None, str | None]:
    """Call the candidate with copies of its inputs; return (output, problem)."""
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        raw = fn(pi.copy(), P.copy(), ref.copy(), beta, eta)
    except _Timeout:
        return None, f"did not return within {timeout:g} s"
    except Exception as exc:
        return None, f"raised {type(exc).__name__}: {str(exc)[:120]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    try:
        out = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        return None, f"returned something that is not a numeric array ({type(raw).__name__}: {exc})"
    n = len(pi)
    if out.shape != (n,):
        return None, f"returned shape {out.shape}, expected ({n},)"
    if not np.all(np.isfinite(out)):
        return None, "returned NaN or infinite entries"
    if np.any(out < 0):
        return None, f"returned a negative probability ({out.min():.3g})"
    total = float(np.sum(out))
    if abs(total - 1) > 64 * n * U:
        return None, f"returned probabilities summing to {total!r}, not 1"
    if np.any(out == 0):
        return None, "returned a zero probability (the maps keep full support)"
    return out, None


# ------------------------------------------------------------------ reference maps


def _one_context(ctx: Context) -> Game:
    return single(ctx.preference, ctx.reference)


class ReferenceMap:
    """One step of a solver, on one context, from a float64 π given exactly."""

    def __init__(self, ctx: Context, solver: Solver, digits: int = 40) -> None:
        self.solver = solver
        self.game = _one_context(ctx)
        self.mp = NumericGame(self.game, MpmathBackend(digits))

    def exact(self, pi: F64) -> F64:
        b = self.mp.backend
        logpi = b.log_normalize(b.log(b.vector([Fraction(float(x)) for x in pi])))
        out = self.solver.step(self.mp, [logpi], 0, Oracle(self.mp)).policy[0]
        return np.array([float(x) for x in out], dtype=np.float64)  # log-probabilities


def tolerance(pi: F64, ref: F64, beta: float, eta: float, n: int) -> float:
    """64·n·u·S with S = 1 + ‖log π‖∞ + ηβ‖log π_ref‖∞ + η(1 + η) (see the module docstring)."""
    scale = 1 + float(np.max(np.abs(np.log(pi)))) + eta * beta * float(np.max(np.abs(np.log(ref)))) + eta * (1 + eta)
    return 64 * n * U * scale


# ------------------------------------------------------------------ report


@dataclass
class Finding:
    kind: str  # validation | conformance | identification | claim | drift
    failed: bool
    message: str
    game: str = ""
    context: str = ""
    start: str = ""
    beta: str = ""
    error: float | None = None
    tolerance: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


@dataclass
class Identification:
    rule: str
    eta: str
    residual: float
    explains: bool
    ranking: list[tuple[str, str, float]] = field(default_factory=list)


@dataclass
class AuditReport:
    declared: str
    eta: Fraction
    betas: list[Fraction]
    checked_steps: int = 0
    worst_ratio: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    identification: Identification | None = None
    claims: list[Verdict] = field(default_factory=list)
    source: str = ""

    @property
    def consistent(self) -> bool:
        return not any(f.failed for f in self.findings)

    @property
    def exit_code(self) -> int:
        return 0 if self.consistent else 1

    def as_dict(self) -> dict[str, object]:
        ident = self.identification
        return {
            "source": self.source, "declared": self.declared, "eta": fraction_str(self.eta),
            "betas": [fraction_str(b) for b in self.betas], "consistent": self.consistent,
            "checked_steps": self.checked_steps, "worst_error_over_tolerance": self.worst_ratio,
            "first_departure": next((f.as_dict() for f in self.findings if f.failed), None),
            "findings": [f.as_dict() for f in self.findings],
            "identification": None if ident is None else {
                "rule": ident.rule, "eta": ident.eta, "residual": ident.residual, "explains": ident.explains,
                "ranking": [{"rule": r, "eta": e, "residual": x} for r, e, x in ident.ranking]},
            "claims": [v.as_dict() for v in self.claims],
            "exit_code": self.exit_code,
        }


# ------------------------------------------------------------------ the battery


@dataclass
class Observation:
    ctx: Context
    beta: Fraction
    pi: F64
    out: F64


def _starts(n: int, ref: F64, rng: random.Random) -> list[tuple[str, F64]]:
    uniform = np.full(n, 1.0 / n)
    raw = np.array([rng.gammavariate(1.0, 1.0) + 1e-3 for _ in range(n)])
    spiky = np.full(n, 0.02 / max(n - 1, 1))
    spiky[n - 1] = 0.98
    return [("π_ref", ref / ref.sum()), ("uniform", uniform), ("random", raw / raw.sum()),
            ("near a vertex", spiky / spiky.sum())]


def audit_update(fn: Update, declared: str, eta: Fraction, betas: Sequence[Fraction] = DEFAULT_BETAS,
                 games: Sequence[str] = BATTERY, steps: int = 30, timeout: float = 10.0,
                 source: str = "", with_claims: bool = True) -> AuditReport:
    """Run the battery on a candidate update rule."""
    if declared not in DECLARABLE:
        raise InputError(f"--declared must be one of {', '.join(DECLARABLE)}")
    report = AuditReport(declared, eta, list(betas), source=source)
    observations: list[Observation] = []
    rng = random.Random(1)
    for spec in games:
        game = load_game(spec)
        for beta in betas:
            solver = make_solver(declared, beta, eta)
            for ctx in game.contexts:
                ref_map = ReferenceMap(ctx, solver)
                P = np.array([[float(p) for p in row] for row in ctx.preference])
                ref = np.array([float(r) for r in ctx.reference])
                starts = _starts(game.n, ref, rng)
                # The candidate's own trajectory from π_ref: its later iterates are starts too.
                pi = ref / ref.sum()
                for k in range(steps):
                    out, problem = call_candidate(fn, pi, P, ref, float(beta), float(eta), timeout)
                    if out is None:
                        report.findings.append(Finding("validation", True, f"step {k} of its own trajectory: "
                                                       f"{problem}", spec, ctx.name, "π_ref", fraction_str(beta)))
                        break
                    if k in (2, 9, steps - 1):
                        starts.append((f"its own iterate k={k + 1}", out))
                    pi = out
                for label, start in starts:
                    out, problem = call_candidate(fn, start, P, ref, float(beta), float(eta), timeout)
                    if out is None:
                        report.findings.append(Finding("validation", True, problem or "", spec, ctx.name, label,
                                                       fraction_str(beta)))
                        if "did not return" in (problem or ""):
                            return _finish(report, observations, declared, eta)
                        continue
                    report.checked_steps += 1
                    expected = ref_map.exact(start)
                    err = float(np.max(np.abs(np.log(out) - expected)))
                    tol = tolerance(start, ref, float(beta), float(eta), game.n)
                    report.worst_ratio = max(report.worst_ratio, err / tol)
                    observations.append(Observation(ctx, beta, start, out))
                    if err > tol:
                        report.findings.append(Finding(
                            "conformance", True, f"π_(k+1) departs from {declared}'s map "
                            f"(max |log ratio| {err:.3g} > tolerance {tol:.3g})", spec, ctx.name, label,
                            fraction_str(beta), err, tol))
    _finish(report, observations, declared, eta)
    if with_claims:  # the checker's claims on its own trajectory, on the first game and a contextual one
        for spec in dict.fromkeys([games[0], *[g for g in games if g.startswith("contextual")][:1]]):
            report.claims.extend(claims_on_trajectory(fn, declared, eta, report.betas[0], spec, timeout=timeout))
    return report


def _finish(report: AuditReport, observations: list[Observation], declared: str, eta: Fraction) -> AuditReport:
    if observations:
        report.identification = identify(observations)
        ident = report.identification
        same = ident.rule == declared and math.isclose(float(Fraction(ident.eta)), float(eta), rel_tol=1e-6)
        if ident.explains and not same:
            report.findings.append(Finding(
                "identification", True,
                f"the steps are {ident.rule} with η = {ident.eta}, not the declared {declared} with η = "
                f"{fraction_str(eta)}"))
        elif not ident.explains and not report.consistent:
            report.findings.append(Finding("identification", False, f"no known rule explains the steps; closest: "
                                           f"{ident.rule} with η ≈ {ident.eta} (residual {ident.residual:.3g})"))
        else:
            report.findings.append(Finding("identification", False, f"best explained by {ident.rule} with "
                                           f"η = {ident.eta} (residual {ident.residual:.3g})"))
    return report


# ------------------------------------------------------------------ identification


def _residual(rule: str, eta: float, obs: list[Observation], games: dict[int, NumericGame]) -> float:
    """RMS over observations of the log-ratio between the candidate's step and ``rule`` at step η (float64)."""
    total = 0.0
    solvers: dict[Fraction, Solver] = {}
    for o in obs:
        if (rule in ("omd", "nash-md") and eta * float(o.beta) > 1) or (
                rule == "extragradient" and eta * float(o.beta) >= 1):
            return math.inf
        ng = games.get(id(o.ctx))
        if ng is None:
            ng = games[id(o.ctx)] = NumericGame(_one_context(o.ctx), FloatBackend())
        solver = solvers.get(o.beta)
        if solver is None:
            solver = solvers[o.beta] = make_solver(rule, o.beta, Fraction(eta))
        try:
            expected = solver.step(ng, [ng.backend.log_normalize(np.log(o.pi))], 0, Oracle(ng)).policy[0]
        except Exception:
            return math.inf
        total += float(np.mean((np.log(o.out) - expected) ** 2))
    return math.sqrt(total / len(obs))


def _nice(x: float) -> Fraction:
    """A short rational within 10⁻⁹ (relative) of x, else x to 12 digits."""
    for den in range(1, 1001):
        num = round(x * den)
        if num > 0 and abs(num / den - x) <= 1e-9 * abs(x):
            return Fraction(num, den)
    return Fraction(x).limit_denominator(10**12)


def identify(obs: list[Observation], rules: Sequence[str] = FAMILIES) -> Identification:
    """For each rule, fit η by a log grid then golden-section search; rank by RMS log-ratio residual."""
    sample = obs[:: max(1, len(obs) // 40)]
    maps: dict[int, NumericGame] = {}
    ranking: list[tuple[str, str, float]] = []
    for rule in rules:
        if rule == "proximal-point":
            sample_r = sample[:: max(1, len(sample) // 10)]
        else:
            sample_r = sample
        grid = [10 ** (-3 + 6 * i / 48) for i in range(49)]
        values = [_residual(rule, g, sample_r, maps) for g in grid]
        best = min(range(len(grid)), key=lambda i: values[i])
        if not math.isfinite(values[best]):
            continue
        lo, hi = math.log(grid[max(best - 1, 0)]), math.log(grid[min(best + 1, len(grid) - 1)])
        phi = (math.sqrt(5) - 1) / 2
        for _ in range(60):
            a, b = hi - phi * (hi - lo), lo + phi * (hi - lo)
            if _residual(rule, math.exp(a), sample_r, maps) < _residual(rule, math.exp(b), sample_r, maps):
                hi = b
            else:
                lo = a
        eta_fit = _nice(math.exp((lo + hi) / 2))
        shown = fraction_str(eta_fit) if eta_fit.denominator <= 1000 else f"{float(eta_fit):.6g}"
        ranking.append((rule, shown, _residual(rule, float(eta_fit), obs, maps)))
    ranking.sort(key=lambda r: r[2])
    if not ranking:
        return Identification("none", "-", math.inf, False, [])
    rule, eta_s, res = ranking[0]
    worst_tol = max(tolerance(o.pi, np.array([float(r) for r in o.ctx.reference]), float(o.beta),
                              float(Fraction(eta_s)), len(o.pi)) for o in obs)
    return Identification(rule, eta_s, res, res <= worst_tol, ranking)


# ------------------------------------------------------------------ claims on the trajectory


def claims_on_trajectory(fn: Update, declared: str, eta: Fraction, beta: Fraction, game_spec: str,
                         steps: int = 40, timeout: float = 10.0) -> list[Verdict]:
    """The checker's applicable claims on the candidate's own trajectory from π_ref."""
    game = load_game(game_spec)
    solver = make_solver(declared, beta, eta)
    policies: list[list[F64]] = []
    states = [np.array([float(r) for r in c.reference]) for c in game.contexts]
    for k in range(steps + 1):
        policies.append([np.log(s) for s in states])
        if k == steps:
            break
        nxt = []
        for c, ctx in enumerate(game.contexts):
            P = np.array([[float(p) for p in row] for row in ctx.preference])
            ref = np.array([float(r) for r in ctx.reference])
            step_out, _ = call_candidate(fn, states[c], P, ref, float(beta), float(eta), timeout)
            if step_out is None:
                return []
            nxt.append(step_out)
        states = nxt
    logs = [[[Fraction(float(x)) for x in lp] for lp in pol] for pol in policies]
    data = from_iterates(game, solver, logs, relative_error=U)
    out = []
    for claim in builtin_catalogue():
        if not claim.applies_to(declared) or claim.kind in ("existence", "dimension"):
            continue
        if any(s.has(L1_half) for s in claim.statements):
            continue  # needs the half step, which a one-call update does not expose
        v = check_claim(claim, data)
        out.append(v)
    return out


# ------------------------------------------------------------------ traces


def audit_trace(data: object, declared: str, eta: Fraction | None = None) -> AuditReport:
    """Audit a JSON trace: {"game": spec or object, "beta": "...", "eta": "...", "iterates": [...]}."""
    from .games import game_from_dict
    from .numbers import parse_positive, parse_rational

    if not isinstance(data, dict):
        raise InputError("a trace must be a JSON object")
    for key in ("game", "beta", "iterates"):
        if key not in data:
            raise InputError(f"trace: missing '{key}'")
    game = load_game(data["game"]) if isinstance(data["game"], str) else game_from_dict(data["game"], "trace")
    beta = parse_positive(data["beta"], "trace beta")
    if eta is None:
        if "eta" not in data:
            raise InputError("trace: give 'eta' in the file or --eta")
        eta = parse_positive(data["eta"], "trace eta")
    raw = data["iterates"]
    if not isinstance(raw, list) or len(raw) < 2:
        raise InputError("trace: 'iterates' must list at least two policies")
    iterates: list[list[list[Fraction]]] = []
    digits = 17
    for k, it in enumerate(raw):
        per_ctx = it if (isinstance(it, list) and it and isinstance(it[0], list)) else [it]
        if len(per_ctx) != len(game.contexts):
            raise InputError(f"trace: iterate {k} has {len(per_ctx)} contexts, the game has {len(game.contexts)}")
        row = []
        for c, vec in enumerate(per_ctx):
            if not isinstance(vec, list) or len(vec) != game.n:
                raise InputError(f"trace: iterate {k}, context {c}: expected {game.n} probabilities")
            row.append([parse_rational(x, f"trace iterate {k}") for x in vec])
            digits = min(digits, *(_significant(x) for x in vec))
        iterates.append(row)
    rel = max(U, 10.0 ** (-digits))
    report = AuditReport(declared, eta, [beta], source="trace")
    solver = make_solver(declared, beta, eta)
    observations = []
    for c, ctx in enumerate(game.contexts):
        ref_map = ReferenceMap(ctx, solver)
        ref = np.array([float(r) for r in ctx.reference])
        for k in range(len(iterates) - 1):
            pi = np.array([float(x) for x in iterates[k][c]])
            out = np.array([float(x) for x in iterates[k + 1][c]])
            if np.any(out <= 0) or abs(float(out.sum()) - 1) > 64 * game.n * rel:
                report.findings.append(Finding("validation", True, f"iterate {k + 1} is not a distribution",
                                               game.label, ctx.name, f"k={k}", fraction_str(beta)))
                continue
            report.checked_steps += 1
            err = float(np.max(np.abs(np.log(out) - ref_map.exact(pi))))
            tol = tolerance(pi, ref, float(beta), float(eta), game.n) * rel / U
            report.worst_ratio = max(report.worst_ratio, err / tol)
            observations.append(Observation(ctx, beta, pi, out))
            if err > tol:
                report.findings.append(Finding("conformance", True, f"step {k}→{k + 1} departs from {declared}'s "
                                               f"map (max |log ratio| {err:.3g} > {tol:.3g})", game.label, ctx.name,
                                               f"k={k}", fraction_str(beta), err, tol))
    _finish(report, observations, declared, eta)
    logs = [[[Fraction(math.log(float(x))) for x in vec] for vec in it] for it in iterates]
    data_run = from_iterates(game, solver, logs, relative_error=rel)
    for claim in builtin_catalogue():
        if claim.applies_to(declared) and claim.kind not in ("existence", "dimension") and not any(
                s.has(L1_half) for s in claim.statements):
            report.claims.append(check_claim(claim, data_run))
    return report


def _significant(x: object) -> int:
    text = str(x).lower().lstrip("+-")
    mantissa = text.split("e")[0].replace(".", "").lstrip("0")
    if "/" in text:
        return 17
    return max(1, len(mantissa))
