"""NMP-DIM: the same family at several sizes; the normalised contraction and constant must stay ≤ 1."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import sympy as sp

from ..backends.balls import (
    to_mpf,
    upper,
)
from ..claims import Claim, hypotheses_hold
from ..errors import InputError
from ..numbers import fraction_str
from .certified import ON_TRAJECTORY
from .collect import collect
from .collect_certified import collect_certified
from .record import RunData, mpf_of_fraction
from .semantics import Verdict, fmt_num

mp = mpmath.mp


@dataclass
class DimensionRow:
    n: int
    backend: str
    worst_step_ratio: str
    constant: str
    fitted_rate: str
    points: int = 0
    exact: bool = False  # π_ref is the equilibrium: KL is exactly 0 at every iterate


@dataclass
class _Bounds:
    """The largest normalised ratio at one size: midpoint, and the ends of its error interval."""

    mid: mpmath.mpf
    low: mpmath.mpf
    high: mpmath.mpf
    points: int


def _ratio_bounds(pairs: list[tuple[mpmath.mpf, mpmath.mpf, mpmath.mpf, mpmath.mpf, mpmath.mpf]]) -> _Bounds:
    """max over (a, ea, b, eb, c) of a/(c·b): its value and interval when a, b are known to ± ea, eb."""
    if not pairs:
        return _Bounds(mp.zero, mp.zero, mp.zero, 0)
    mids = [a / (c * b) for a, _, b, _, c in pairs]
    lows = [(a - ea) / (c * (b + eb)) for a, ea, b, eb, c in pairs]
    highs = [(a + ea) / (c * (b - eb)) for a, ea, b, eb, c in pairs]
    return _Bounds(max(mids), max(lows), max(highs), len(pairs))


def _dimension_bounds(data: RunData, rho: mpmath.mpf) -> tuple[_Bounds, _Bounds, mpmath.mpf]:
    """Step ratio KL_{k+1}/(ρ KL_k) and constant KL_k/(ρ^k KL_0) with intervals, and the fitted rate.

    Only iterates whose KL has 3 correct digits enter (the others are below the rounding floor).
    """
    kl_series, errs = data.values["kl"], data.errors["kl"]
    steps = len(kl_series) - 1
    ok = [t for t in range(steps + 1) if kl_series[t] > 0 and errs[t] < kl_series[t] * mp.mpf("1e-3")]
    reliable = set(ok)
    step = _ratio_bounds([(kl_series[t + 1], errs[t + 1], kl_series[t], errs[t], rho) for t in ok
                          if t + 1 in reliable])
    # The constant at k = 0 is exactly 1 (the same number on both sides); k ≥ 1 carries both errors.
    const = _ratio_bounds([(kl_series[t], errs[t], kl_series[0], errs[0], rho**t) for t in ok if t > 0]) \
        if 0 in reliable else _Bounds(mp.zero, mp.zero, mp.zero, 0)
    if 0 in reliable:
        one = mp.one
        const = _Bounds(max(const.mid, one), max(const.low, one), max(const.high, one), const.points + 1)
    pts = [(t, kl_series[t]) for t in ok]
    fitted = mp.exp((mp.log(pts[-1][1]) - mp.log(pts[0][1])) / (pts[-1][0] - pts[0][0])) if len(pts) > 1 else mp.nan
    return step, const, fitted


def _dimension_start(claim: Claim, family: str, beta: Fraction, eta: Fraction,
                     **extra: str) -> tuple[Verdict, bool]:
    """NMP-DIM's verdict skeleton and whether its hypotheses hold (``not-applicable`` otherwise)."""
    if "{n}" not in family:
        raise InputError("a dimension family needs {n} in its spec, e.g. cyclic:n={n},skew=1/2")
    v = Verdict(claim.id, "pass", claim.provenance, claim.kind, family, "nash-mp", fraction_str(beta),
                fraction_str(eta), **extra)  # type: ignore[arg-type]
    ok, failed = hypotheses_hold(claim, {sp.Symbol("beta", positive=True): sp.Rational(beta.numerator,
                                 beta.denominator), sp.Symbol("eta", positive=True): sp.Rational(
                                     eta.numerator, eta.denominator)})
    if not ok:
        v.status, v.failed_hypothesis = "not-applicable", failed
    return v, ok


def check_dimension(claim: Claim, family: str, sizes: list[int], beta: Fraction, eta: Fraction, steps: int,
                    digits: int = 30, float_from: int = 64, on_size: Callable[[int], None] | None = None) -> Verdict:
    """NMP-DIM: the same family at several n; the normalised contraction and constant must stay ≤ 1.

    Like every verdict, a violation must be certain (the lower end of a ratio's error interval above
    1) and a pass too (every upper end ≤ 1, with at least one step evaluated at every size).
    """
    from ..families import load_game
    from ..solvers import NashMP

    v, ok = _dimension_start(claim, family, beta, eta)
    if not ok:
        return v
    solver = NashMP(beta, eta)
    rho = 1 / (1 + mpf_of_fraction(eta) * mpf_of_fraction(beta))
    rows: list[DimensionRow] = []
    bounds: list[_Bounds] = []
    for size in sizes:
        game = load_game(family.replace("{n}", str(size)))
        backend = "float" if size >= float_from else "mpmath"
        data = collect(game, solver, steps, digits, backend=backend)
        step, const, fitted = _dimension_bounds(data, rho)
        rows.append(DimensionRow(size, backend, fmt_num(step.mid), fmt_num(const.mid), fmt_num(fitted / rho),
                                 step.points,
                                 data.exact_equilibrium))
        bounds += [step, const]
        if on_size is not None:
            on_size(size)
    v.extra["sizes"] = [r.__dict__ for r in rows]
    v.tightness = fmt_num(max(b.mid for b in bounds))
    v.evaluated = f"n = {', '.join(str(s) for s in sizes)}; float64 screening for n ≥ {float_from}"
    return _dimension_verdict(v, rows, bounds)


def _dimension_verdict(v: Verdict, rows: list[DimensionRow], bounds: list[_Bounds]) -> Verdict:
    highest = max(b.high for b in bounds)
    if max(b.low for b in bounds) > 1:
        v.status = "violated"
        v.note = (f"a normalised contraction or constant exceeds 1 at some n beyond its error "
                  f"(interval up to {fmt_num(highest)})")
    elif highest > 1 or any(r.points == 0 and not r.exact for r in rows):
        v.status = "inconclusive"
        empty = [str(r.n) for r in rows if r.points == 0 and not r.exact]
        v.note = (f"no step above the rounding floor at n = {', '.join(empty)}" if empty else
                  f"a ratio's error interval reaches {fmt_num(highest)} > 1: rounding cannot decide it; "
                  "raise the digits")
    else:
        growth = [mp.mpf(r.fitted_rate) for r in rows if r.fitted_rate != "nan"]
        trend = bool(growth) and growth[-1] > growth[0] * mp.mpf("1.05")
        v.note = "normalised fitted rate grows with n (all still within the bound)" if trend else (
            "normalised step ratio and constant ≤ 1 at every n, error intervals included")
    return v


#: NMP-DIM runs certified up to this size, float64 screening above it.
CERTIFIED_DIM_MAX = 2048


def check_dimension_certified(claim: Claim, family: str, sizes: list[int], beta: Fraction, eta: Fraction,
                              steps: int, digits: int = 30,
                              on_size: Callable[[int], None] | None = None) -> Verdict:
    """NMP-DIM in balls: KL_{k+1}(1+ηβ)/KL_k and KL_k(1+ηβ)^k/KL_0 ≤ 1 decided for every point of the balls.

    Sizes above :data:`CERTIFIED_DIM_MAX` are screened in float64 (and said so).
    """
    from flint import arb, fmpq

    from ..families import load_game
    from ..solvers import NashMP

    v, ok = _dimension_start(claim, family, beta, eta, method="certified", certified_at=ON_TRAJECTORY)
    if not ok:
        return v
    big = [s for s in sizes if s > CERTIFIED_DIM_MAX]
    small = [s for s in sizes if s <= CERTIFIED_DIM_MAX]
    rows: list[DimensionRow] = []
    verdicts: list[str] = []
    worst = mp.zero
    solver = NashMP(beta, eta)
    for size in small:
        data = collect_certified(load_game(family.replace("{n}", str(size))), solver, steps, digits)
        assert data.balls is not None
        kl_b = data.balls.series["kl"]
        one_plus = 1 + arb(fmpq(eta.numerator, eta.denominator)) * arb(fmpq(beta.numerator, beta.denominator))
        live = [t for t in range(steps + 1) if kl_b[t] > 0]
        ratios = [kl_b[t + 1] * one_plus / kl_b[t] for t in live if t + 1 in live]
        consts = [kl_b[t] * one_plus**t / kl_b[0] for t in live if t > 0] if 0 in live else []  # t = 0: exactly 1
        balls_ = ratios + consts
        if any(r > 1 for r in balls_):
            verdicts.append("violated")
        elif not all(r <= 1 for r in balls_):
            verdicts.append("inconclusive")
        step_ratio = max((upper(r) for r in ratios), default=0.0)
        const = max((upper(c) for c in consts), default=0.0)
        with mpmath.workdps(digits):
            pts = [(t, to_mpf(kl_b[t])) for t in live]
            fitted = (mp.exp((mp.log(pts[-1][1]) - mp.log(pts[0][1])) / (pts[-1][0] - pts[0][0])) * (
                1 + mpf_of_fraction(eta) * mpf_of_fraction(beta))) if len(pts) > 1 else mp.nan
        rows.append(DimensionRow(size, "arb", f"{step_ratio:.6g}", f"{const:.6g}", fmt_num(fitted)))
        worst = max(worst, mp.mpf(step_ratio), mp.mpf(const))
        if on_size is not None:
            on_size(size)
    if big:
        screened = check_dimension(claim, family, big, beta, eta, steps, digits, float_from=0)
        screened_rows: list[dict[str, Any]] = list(screened.extra.get("sizes", []))  # type: ignore[call-overload]
        rows.extend(DimensionRow(**r) for r in screened_rows)
        verdicts.append(screened.status)
        v.method = "screened" if not small else "certified and screened"
        if not small:
            v.certified_at = None
    v.extra["sizes"] = [r.__dict__ for r in rows]
    v.tightness = fmt_num(worst)
    v.evaluated = (f"n = {', '.join(str(s) for s in sizes)}; certified (balls) for n ≤ {CERTIFIED_DIM_MAX}"
                   + (", float64 screening above" if big else ""))
    if "violated" in verdicts:
        v.status, v.note = "violated", "a normalised contraction or constant exceeds 1 for every point of the balls"
    elif "inconclusive" in verdicts:
        v.status, v.note = "inconclusive", "a normalised ratio's ball straddles 1: raise the digits"
    else:
        growth = [mp.mpf(r.fitted_rate) for r in rows if r.fitted_rate != "nan"]
        trend = bool(growth) and growth[-1] > growth[0] * mp.mpf("1.05")
        v.note = ("normalised fitted rate grows with n (all still within the bound)" if trend else
                  "normalised step ratio and constant ≤ 1 at every n, for every point of the balls")
    return v
