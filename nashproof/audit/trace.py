"""Audit a recorded trajectory: every step π_k → π_{k+1} against the declared map, at the trace's precision.

A JSON number literal is a binary64 value: ``0.2`` is the float64 nearest 0.2 (what ``json.dump``
writes for it), read exactly, with float64's rounding (half an ulp) as its precision. A decimal *string*
keeps its digits: ``"0.2"`` is exact to half a unit in its last digit (±0.05), an integer or ``"p/q"`` is
exact. A stated precision (``"precision": "float64"`` or ``"float32"`` in the header, or ``--precision``)
makes every number a value of that type, strings included. Float32 traces (stated, or every value
exactly a float32) add float32's rounding. A step's tolerance is, per entry y,

    1.5·(Σ_j |J_yj| δ_j + δ'_y) + 64·n·u·S,

with δ_j the relative uncertainty of π_k(j), δ'_y that of π_{k+1}(y), J = ∂ log map / ∂ log π_k (central
differences in float64: a first-order propagation, with 50 % for second-order terms), u the unit
roundoff of the computation and S as in :mod:`nashproof.audit`. A step *decides* when the declared map
at η and at 1.1·η differ by more than twice its tolerance; a trace with no deciding step and no
departure is inconclusive (exit 3): its digits cannot tell the declared rule from a 10 % step slip.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from fractions import Fraction
from functools import partial

import numpy as np
import numpy.typing as npt

from ..claims import L1_half, builtin_catalogue
from ..errors import InputError
from ..families import load_game
from ..games import Game, game_from_dict
from ..numbers import check_beta, fraction_str, parse_positive, parse_rational
from ..verify import check_claim, from_iterates
from . import (
    U32,
    AuditReport,
    DeclaredMap,
    Finding,
    StepSpec,
    U,
    canonical_fraction,
    tolerance,
)
from .diagnose import diagnose, family, on_float32_grid
from .ident import MAPS, Obs, fit_declared, lognorm, proximal_point
from .rules import EXTRA, step
from .steps import solver_for

F64 = npt.NDArray[np.float64]
_DEC = re.compile(r"^[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$")
#: Smallest probability accepted in a trace (below it, float64 logarithms lose their meaning).
TINY = Fraction(1, 10**300)
#: Longest trace compared step by step, and longest one whose claims are evaluated (bounded time).
MAX_STEPS, MAX_CLAIM_ITERATES = 1500, 1000


class JsonFloat(str):
    """The text of a JSON number literal with a fraction or an exponent (a binary64 value)."""


def _number(x: object, where: str, stated: str = "auto") -> tuple[Fraction, float]:
    """The value and its relative uncertainty: half an ulp for a binary64 literal or a stated precision,
    half a unit in the last printed digit for a decimal string, 0 for an exact one."""
    if isinstance(x, JsonFloat | float) or (stated != "auto" and isinstance(x, str)):
        try:
            v = float(x) if stated != "float32" else float(np.float32(float(x)))
        except ValueError:
            v = math.nan
        if not math.isfinite(v):
            kind = stated if stated != "auto" else "float64"
            raise InputError(f"trace: {where}: {str(x)[:40]!r} is not a finite {kind}")
        if 0 < abs(v) < 2.0**-1022:
            raise InputError(f"trace: {where} = {str(x)[:30]} is below 1e-300, outside float64's range")
        return Fraction(v), (U32 if stated == "float32" else U) / 2
    if isinstance(x, str):
        text = x.strip()
        m = _DEC.match(text)
        if m and (m.group(1) or m.group(2)):
            exp = int(m.group(3) or 0) if len(m.group(3) or "") < 8 else 10**8
            if abs(exp) > 400:
                raise InputError(f"trace: {where}: {text[:40]!r} is outside float64's range")
            value = parse_rational(text, f"trace {where}")
            digits = (m.group(1) + (m.group(2) or "")).lstrip("0")
            if value == 0 or not digits:
                return value, 0.0
            last = exp - len(m.group(2) or "")  # the exponent of the last printed digit
            return value, float(Fraction(1, 2) * Fraction(10) ** last / abs(value))
    return parse_rational(x, f"trace {where}"), 0.0


def load_trace_file(path: str) -> object:
    import json

    from ..files import read_text

    text = read_text(path, "trace", max_bytes=50_000_000)

    def constant(c: str) -> object:
        raise InputError(f"{path}: {c} in a trace")

    try:
        return json.loads(text, parse_float=JsonFloat, parse_int=int, parse_constant=constant)
    except (json.JSONDecodeError, ValueError) as exc:
        raise InputError(f"{path}: invalid JSON ({str(exc)[:120]})") from None
    except RecursionError:
        raise InputError(f"{path}: JSON nested too deeply") from None


def _declared_map(declared: str, solver_eta: Fraction | None, beta: float, t: int, tau: float = 1.0,
                  logprev: F64 | None = None) -> Callable[[Obs], F64]:
    """The declared map in float64 (for the sensitivity and the deciding test)."""
    if declared in EXTRA or tau != 1 or beta == 0:
        fam = family(declared)
        e = float(canonical_fraction(declared, solver_eta, Fraction(beta), t))

        def generic(o: Obs) -> F64:
            return step(fam, o.logpi, o.P, o.logref, o.beta, e, tau, logprev)

        return generic
    if declared == "nash-md" and solver_eta is None:
        return partial(MAPS["nash-md"], eta=2 / (beta * (t + 2)))
    assert solver_eta is not None
    e = float(solver_eta)
    if declared == "extragradient":
        return partial(MAPS["nash-mp"], eta=e / (1 - e * beta))
    if declared == "omd":
        return partial(MAPS["mmd"], eta=e / (1 - e * beta)) if e * beta < 1 else partial(_omd_limit)
    if declared == "proximal-point":
        return partial(proximal_point, eta=e)
    return partial(MAPS[declared], eta=e)


def _omd_limit(o: Obs) -> F64:
    return lognorm(o.logref + o.P @ o.pi() / o.beta)


def _scaled(declared: str, solver_eta: Fraction | None, beta: float, t: int, factor: float, tau: float = 1.0,
            logprev: F64 | None = None) -> Callable[[Obs], F64]:
    if declared in EXTRA or tau != 1 or beta == 0:
        base = solver_eta if solver_eta is not None else Fraction(2) / (Fraction(beta) * (t + 2))
        return _declared_map(declared, Fraction(float(base) * factor), beta, t, tau, logprev)
    if solver_eta is None:
        return partial(MAPS["nash-md"], eta=min(factor * 2 / (beta * (t + 2)), 1 / beta))
    e = float(solver_eta) * factor
    if declared in ("extragradient", "omd", "nash-md"):
        e = min(e, 0.999 / beta)
    return _declared_map(declared, Fraction(e), beta, t)


def _jacobian(fn: Callable[[Obs], F64], o: Obs) -> F64:
    n = len(o.logpi)
    J = np.zeros((n, n))
    h = 1e-6
    for j in range(n):
        up, down = o.logpi.copy(), o.logpi.copy()
        up[j] += h
        down[j] -= h
        a = fn(Obs(lognorm(up), o.logout, o.P, o.logref, o.beta, o.eta, o.tol))
        b = fn(Obs(lognorm(down), o.logout, o.P, o.logref, o.beta, o.eta, o.tol))
        J[:, j] = (a - b) / (2 * h)
    return J


def _is_float32(values: list[Fraction]) -> bool:
    if not values:
        return False
    return all(float(np.float32(float(v))) == float(v) for v in values)


def _is_float32_text(raw: list[object]) -> bool:
    """Float32 values written with any number d of significant digits (``str(np.float32(x))``, ``%.8g``):
    rounding each number to float32 and printing it again with its own d digits gives it back. Float64
    data pass this for a number only by chance (float32's spacing is wider than the printed digit), so
    at least 95 % of the numbers, and at least 10 of them with more than 7 digits, must pass."""
    passed = long = 0
    for x in raw:
        text = x.strip() if isinstance(x, str) else ""
        m = _DEC.match(text)
        if not m or not (m.group(1) or m.group(2)) or len(m.group(3) or "") > 4:
            return False
        digits = len((m.group(1) + (m.group(2) or "")).lstrip("0")) or 1
        f32 = np.float32(text)
        if not np.isfinite(f32):
            return False
        passed += Fraction(f"{f32:.{digits}g}") == Fraction(text)
        long += digits > 7  # below 8 digits every decimal round-trips through float32
    return long >= 10 and passed >= 0.95 * len(raw)


def audit_trace(data: object, declared: str, eta: Fraction | StepSpec | None = None,
                precision: str = "auto", temperature: Fraction | None = None) -> AuditReport:
    """Audit a JSON trace: {"game": spec or object, "beta": "...", "eta": "...", "iterates": [...]}."""
    if not isinstance(data, dict):
        raise InputError("a trace must be a JSON object")
    for key in ("game", "beta", "iterates"):
        if key not in data:
            raise InputError(f"trace: missing '{key}'")
    g = data["game"]
    if isinstance(g, str):
        game: Game = load_game(g)
    elif isinstance(g, dict):
        game = game_from_dict(g, "trace")
    else:
        raise InputError("trace: 'game' must be a family spec string or a game object")
    raw_beta = parse_rational(data["beta"], "trace beta")
    if raw_beta == 0 and declared == "proximal-point":
        raise InputError("trace: beta = 0 is not audited for proximal-point; declare mirror-prox, mwu or omwu")
    beta = raw_beta if raw_beta == 0 else check_beta(parse_positive(data["beta"], "trace beta"))
    if eta is None and "eta" in data:
        if not isinstance(data["eta"], str | int):
            raise InputError("trace: 'eta' must be a number or a step form such as \"gamma=1/10\"")
        eta = StepSpec.parse(str(data["eta"]), declared)
    step = eta if isinstance(eta, StepSpec) else (StepSpec("eta", eta) if eta is not None else None)
    if step is None:
        if declared != "nash-md":
            raise InputError("trace: give 'eta' in the file or --eta")
        step = StepSpec("schedule")
    if step.kind == "lr" and step.temp is not None and step.temp != beta:
        raise InputError(f"trace: temp = {fraction_str(step.temp)} but the trace's beta is {fraction_str(beta)}")
    prec = data.get("precision", "auto") if precision == "auto" else precision
    if prec not in ("auto", "float32", "float64"):
        raise InputError("trace: 'precision' must be float32 or float64")
    stated = str(prec)
    tau = parse_positive(data.get("opponent_temperature", 1), "trace opponent_temperature") if temperature is None \
        else temperature
    raw = data["iterates"]
    if not isinstance(raw, list) or len(raw) < 2:
        raise InputError("trace: 'iterates' must list at least two policies")
    k_ctx = len(game.contexts)
    values: list[list[list[Fraction]]] = []
    rels: list[list[list[float]]] = []
    for k, it in enumerate(raw):
        per_ctx = it if (isinstance(it, list) and it and isinstance(it[0], list)) else [it]
        if len(per_ctx) != k_ctx:
            raise InputError(f"trace: iterate {k} has {len(per_ctx)} contexts, the game has {k_ctx}")
        vrow, rrow = [], []
        for c, vec in enumerate(per_ctx):
            if not isinstance(vec, list) or len(vec) != game.n:
                raise InputError(f"trace: iterate {k}, context {c}: expected a list of {game.n} probabilities")
            vs, rs = [], []
            for i, x in enumerate(vec):
                v, r = _number(x, f"iterate {k}, entry {i}", stated)
                if v < 0 or v > 1:
                    raise InputError(f"trace: iterate {k}, entry {i} = {str(x)[:30]} is not a probability")
                if 0 < v < TINY:
                    raise InputError(f"trace: iterate {k}, entry {i} = {str(x)[:30]} is below 1e-300, outside "
                                     "float64's range")
                if v == 0 and k == 0:
                    raise InputError("trace: iterate 0 has a zero probability; the audited maps keep full support")
                vs.append(v)
                rs.append(r)
            vrow.append(vs)
            rrow.append(rs)
        values.append(vrow)
        rels.append(rrow)
    later = [v for row in values[1:] for vec in row for v in vec]
    texts = [x for it in raw[1:] for vec in (it if isinstance(it[0], list) else [it]) for x in vec
             if not isinstance(x, JsonFloat)]
    if prec == "auto":
        exact32 = _is_float32(later) and any(_number_digits(v) > 9 for v in later)
        prec = "float32" if exact32 or _is_float32_text(texts) else "float64"
    u = U32 if prec == "float32" else U
    report = AuditReport(declared, step.value if step.kind == "eta" else None, [beta], source="trace",
                         step=step.describe(), precision=prec)
    n = game.n
    # validation: distributions, up to each number's own precision
    valid = []
    for k in range(len(values)):
        ok = True
        for c in range(k_ctx):
            vs, rs = values[k][c], rels[k][c]
            # a sanity check at float32's level at least: conformance judges the precision
            slack = sum(float(v) * max(r, u / 2) for v, r in zip(vs, rs)) + 64 * n * max(u, U32)
            total = float(sum(vs, Fraction(0)))
            if any(v == 0 for v in vs) or abs(total - 1) > slack:
                why = "has a zero probability" if any(v == 0 for v in vs) else f"sums to {total!r}"
                report.findings.append(Finding("validation", True, f"iterate {k} is not a distribution ({why})",
                                               game.label, game.contexts[c].name, f"k={k}", fraction_str(beta)))
                ok = False
        valid.append(ok)
    solver_eta: Fraction | None
    if beta == 0 and step.kind in ("schedule", "gamma", "auto"):
        raise InputError(f"trace: at beta = 0 give the step itself (--eta E): {step.describe()} needs β > 0")
    if step.kind == "auto" and declared in EXTRA:
        raise InputError(f"trace: --eta auto is not available for {declared}; give its step")
    if step.kind == "auto":
        obs0 = [_obs(game, c, values, k, float(beta), 1.0) for k in range(len(values) - 1) for c in range(k_ctx)
                if valid[k] and valid[k + 1]]
        solver_eta = fit_declared(declared, obs0, float(beta)) if obs0 else None
        if solver_eta is None:
            raise InputError(f"trace: no step of {declared} fits this trace (--eta auto)")
        report.fitted = f"β = {fraction_str(beta)}: η = {fraction_str(solver_eta)}"
    else:
        solver_eta = step.solver_eta(declared, beta)
    generic = declared in EXTRA or tau != 1 or beta == 0
    solver = None if generic else solver_for(declared, beta, solver_eta)
    steps = len(values) - 1
    checked = list(range(steps))
    if steps > MAX_STEPS:  # bounded time: the first steps, then evenly spread ones
        head = MAX_STEPS // 3
        checked = sorted(set(range(head)) | {head + (steps - head) * i // (MAX_STEPS - head)
                                              for i in range(MAX_STEPS - head)})
        report.findings.append(Finding("validation", False, f"{len(checked)} of the trace's {steps} steps compared "
                                       f"(the first {head}, then evenly spread)"))
    deciding = sensitive = 0
    by_beta: dict[float, list[Obs]] = {}
    f32_ok = True
    for c, ctx in enumerate(game.contexts):
        ref_map = DeclaredMap(ctx, declared, beta, solver_eta, tau)
        ref = np.array([float(r) for r in ctx.reference])
        for k in checked:
            if not (valid[k] and valid[k + 1]):
                continue
            pi = np.array([float(x) for x in values[k][c]])
            out = np.array([float(x) for x in values[k + 1][c]])
            eta_k = float(canonical_fraction(declared, solver_eta, beta, k))
            o = _obs(game, c, values, k, float(beta), 1.0)
            o.eta = eta_k
            prev = np.array([float(x) for x in values[k - 1][c]]) if k > 0 else None
            o.logprev = None if prev is None else lognorm(np.log(prev))
            fn = _declared_map(declared, solver_eta, float(beta), k, float(tau), o.logprev)
            J = np.abs(_jacobian(fn, o))

            def tol_at(unit: float, k: int = k, c: int = c, J: F64 = J, pi: F64 = pi, ref: F64 = ref,
                       eta_k: float = eta_k) -> F64:
                d_in = np.array([_log_unc(max(r, unit / 2)) for r in rels[k][c]])
                d_out = np.array([_log_unc(max(r, unit / 2)) for r in rels[k + 1][c]])
                out_tol: F64 = 1.5 * (J @ d_in + d_out) + tolerance(pi, ref, float(beta), eta_k, n, unit)
                return out_tol

            tol = tol_at(u)
            o.expected = ref_map.exact(pi, k, prev, out)
            err = np.abs(np.log(out) - o.expected)
            err[~np.isfinite(err)] = np.inf
            report.checked_steps += 1
            ratio = float(np.max(err / tol))
            report.worst_ratio = max(report.worst_ratio, ratio)
            f32_ok = f32_ok and bool(np.all(err <= tol_at(U32)))
            gap = float(np.max(np.abs(fn(o) - _scaled(declared, solver_eta, float(beta), k, 1.1, float(tau),
                                                      o.logprev)(o))))
            if gap > 2 * float(np.max(tol)):
                deciding += 1
            if gap > 2 * tolerance(pi, ref, float(beta), eta_k, n, U):
                sensitive += 1  # decidable with full float64 digits
            o.tol = float(np.max(tol))
            by_beta.setdefault(float(beta), []).append(o)
            if ratio > 1:
                i = int(np.argmax(err / tol))
                report.findings.append(Finding(
                    "conformance", True, f"step {k}→{k + 1} departs from {declared}'s map (max |log ratio| "
                    f"{float(err[i]):.3g} > {float(tol[i]):.3g})", game.label, ctx.name, f"k={k}", fraction_str(beta),
                    float(err[i]), float(tol[i])))
    failed = any(f.failed for f in report.findings)
    if not failed and deciding == 0 and report.checked_steps > 0 and sensitive == 0:
        report.inconclusive = ("the trace cannot decide: its iterates sit where every step size gives the same map "
                               "(a fixed point, e.g. π_0 = π_ref = π*_β), so no step tells "
                               f"{declared} at the declared step from a 10 % larger step, at any precision; "
                               "record a run started away from π*_β")
    elif not failed and deciding == 0 and report.checked_steps > 0:
        report.inconclusive = ("the trace's precision cannot decide: at the digits it carries, no step tells "
                               f"{declared} at the declared step from the same rule at a 10 % larger step; "
                               "write the iterates with more digits: as JSON numbers (json.dump of Python "
                               "floats) or as strings with 17 significant digits (%.17g)")
    grid = on_float32_grid([np.array([float(v) for v in vec]) for row in values[1:] for vec in row])
    diagnose(report, by_beta, declared, step.kind == "schedule", step.describe(), step.kind == "auto",
             float32_evidence=prec == "float64" and failed and f32_ok and grid and any(
                 f.kind == "conformance" for f in report.findings))
    if solver is not None and all(valid) and len(values) <= MAX_CLAIM_ITERATES:
        logs = [[[Fraction(math.log(float(x))) for x in vec] for vec in it] for it in values]
        worst_rel = max(max(r for vec in row for r in vec) for row in rels)
        data_run = from_iterates(game, solver, logs, relative_error=max(u, min(worst_rel, 1e-3)))
        for claim in builtin_catalogue():
            if claim.applies_to(declared) and claim.kind not in ("existence", "dimension") and not any(
                    s.has(L1_half) for s in claim.statements):
                report.claims.append(check_claim(claim, data_run))
    return report


def _number_digits(v: Fraction) -> int:
    return len(repr(float(v)).split("e")[0].replace(".", "").replace("-", "").strip("0"))


def _log_unc(r: float) -> float:
    return r / (1 - r) if r < 1 else math.inf


def _obs(game: Game, c: int, values: list[list[list[Fraction]]], k: int, beta: float, tol: float) -> Obs:
    ctx = game.contexts[c]
    pi = np.array([float(x) for x in values[k][c]])
    out = np.array([float(x) for x in values[k + 1][c]])
    P = np.array([[float(p) for p in row] for row in ctx.preference])
    ref = np.array([float(r) for r in ctx.reference])
    return Obs(lognorm(np.log(pi)), np.log(out), P, np.log(ref / ref.sum()), beta, 0.0, tol)
