"""The audit's diagnosis: which rule, or which named bug, explains steps the declared rule does not.

One threshold decides everything: the conformance tolerance. A hypothesis *explains* the steps when
its worst error is within the tolerance at every compared entry (error/tolerance ≤ 1), exactly the
test the declared rule failed. It is *named* only when it also beats the declared rule by a margin
that pays for its fitted parameters: Σ(error/tolerance)² + 2·(fitted parameters) must be smaller
than the declared rule's (an AIC-style penalty; the declared rule at a given step has none, at a
fitted step one). Among the hypotheses so named the smallest score wins; if none is, the report says
that nothing explains the steps and which hypothesis came closest.

float32 is named only on float32 evidence: the outputs are float32 values (on float32's grid) and
their departures are within float32's rounding. Advice to audit at a looser precision is never given.
"""

from __future__ import annotations

import dataclasses
import math
from functools import partial

import numpy as np
import numpy.typing as npt

from .bugs import bug_hypotheses, fit1
from .findings import AuditReport, Finding, Identification
from .ident import (
    MAPS,
    RULES,
    Hypothesis,
    Identified,
    Obs,
    baseline,
    equivalents,
    hypothesis,
    identify,
    nash_md,
    nice,
    rms,
    show,
    subsample,
)
from .rules import EXTRA, step

FAMILY = {"extragradient": "nash-mp", "omd": "mmd"}
WHAT = {"omwu": "optimistic MWU", "mirror-prox": "mirror prox, extragradient at β = 0",
        "replicator": "the Euler replicator step", "sppo": "SPPO's square-loss argmin with log Z ≈ η/2"}


def family(declared: str) -> str:
    return FAMILY.get(declared, declared)


def _extra_rule(rule: str, obs: list[Obs], beta: float) -> Hypothesis:
    """A rule only the audit knows, at its least-squares step."""
    eta = fit1(lambda e: lambda o: step(rule, o.logpi, o.P, o.logref, o.beta, e, 1.0, o.logprev), obs, 1e-6, 1e3)
    return hypothesis(rule, beta, f"{'dt' if rule == 'replicator' else 'η'} = {show(eta, 1e-6)} ({WHAT[rule]})",
                      lambda o: step(rule, o.logpi, o.P, o.logref, o.beta, eta, 1.0, o.logprev), obs, eta,
                      f"η = {show(eta, 1e-6)}")


def diagnose(report: AuditReport, by_beta: dict[float, list[Obs]], declared: str, schedule: bool, step_text: str,
             fitted_step: bool = False, float32_evidence: bool = False) -> None:
    """Identification: a note when the declared rule conforms; otherwise the diagnosis (never both)."""
    if not by_beta:
        return
    failed = any(f.failed and f.kind == "conformance" for f in report.findings)
    fam = family(declared)
    diagnoses: list[str] = []
    if failed:
        if fam in ("nash-mp", "mmd", "nash-md"):
            diagnoses += [f"{fam}/uniform-magnet", f"{fam}/transposed"]
        if fam in ("nash-mp", "mmd"):
            diagnoses.append(f"{fam}/decoupled")
        if fam == "nash-mp":
            diagnoses += ["nash-mp/split-step", "nash-mp/centre-half"]
        diagnoses.append("policy-gradient")
    rules = RULES if fam not in EXTRA else (*RULES, fam)
    ident: Identified = Identified()
    if not schedule:
        ident = identify(by_beta, rules=[r for r in rules if r in MAPS], diagnoses=diagnoses)
        for beta, obs in sorted(by_beta.items()):
            memory = any(o.logprev is not None for o in obs)  # without it OMWU is MWU: not a distinct rule
            for rule in EXTRA:  # the declared one always; the others as alternatives to a failed declaration
                if rule == fam or (failed and (rule != "omwu" or memory)):
                    ident.table.append(_extra_rule(rule, subsample(obs), beta))
    if failed:
        for beta, obs in sorted(by_beta.items()):
            sample = subsample(obs)
            cheap = bug_hypotheses(fam, sample, beta, expensive=False) if not schedule else []
            ident.table.extend(cheap)
            known = [h for h in ident.table if h.beta == beta]
            if not schedule and not any(h.explains for h in known):
                ident.table.extend(bug_hypotheses(fam, sample, beta, expensive=True)[len(cheap):])
    ordered = sorted(ident.table, key=lambda h: (not h.explains, h.score if h.explains else h.ratio))
    ranking = [(f"{h.name} (β = {show(h.beta)})", h.short or h.param, h.ratio) for h in ordered]
    explaining: list[Hypothesis] = []
    needed = len(by_beta)
    for beta in sorted(by_beta):
        here = [h for h in ordered if h.beta == beta and h.explains]
        if failed:
            decl_ratio, decl_chi2 = baseline(subsample(by_beta[beta]))
            if decl_ratio <= 1 and any(o.expected is not None for o in by_beta[beta]):
                needed -= 1  # the declared rule fits at this β (the bug does not show there)
                continue
            margin = decl_chi2 + 2 * (1 if fitted_step else 0)
            decl = by_beta[beta][0].eta
            here = [_digits(h, decl) if h.name == fam and show(h.eta) == show(decl) else h
                    for h in here if h.score < margin]
            here.sort(key=lambda h: h.score)
        else:
            here.sort(key=lambda h: (h.name != fam, h.ratio))  # the declared class first when it explains
        explaining.extend(here[:1])
    if schedule and failed:
        explaining = _schedule_multiplier(by_beta, ranking)
        ranking.sort(key=lambda r: r[2])
    summary = ""
    if explaining and len(explaining) == needed:
        names = sorted({h.name for h in explaining})
        summary = _summary(explaining)
        best = min(explaining, key=lambda h: h.ratio)
        report.identification = Identification(" / ".join(names), show(best.eta), best.residual, True, summary,
                                                ranking)
    else:
        top = ordered[0] if ordered else None
        report.identification = Identification(top.name if top else "none", show(top.eta) if top else "-",
                                                top.residual if top else math.inf, False, "", ranking)
    if not failed:
        if report.identification.explains:
            report.findings.append(Finding("identification", False, f"the steps are {summary}"))
        return
    if report.identification.explains:
        report.findings.append(Finding("identification", True, f"diagnosis: the steps are {summary}, not the "
                                       f"declared {declared} with {step_text}"))
    elif float32_evidence:
        report.findings.append(Finding(
            "identification", True, "diagnosis: float32 arithmetic: every output is a float32 value (on float32's "
            "grid) and the departures are within float32's rounding (64·n·2⁻²³·S) but not float64's, so the "
            "candidate rounds to float32 somewhere while its output claims float64; compute in float64"))
    else:
        close = (f"{ranking[0][0]} with {ranking[0][1]} (worst error/tolerance {ranking[0][2]:.3g})"
                 if ranking else "-")
        report.findings.append(Finding("identification", True, "diagnosis: no known rule or named bug explains "
                                       f"the steps within the tolerance; closest: {close}"))


def _digits(h: Hypothesis, declared_eta: float) -> Hypothesis:
    """The declared rule at a step that only differs from the declared one beyond the digits shown: all digits."""
    digits = next((d for d in range(6, 18) if f"{h.eta:.{d}g}" != f"{declared_eta:.{d}g}"), 17)
    text = f"η = {h.eta:.{digits}g} (a relative slip of {h.eta / declared_eta - 1:.2g} from the declared step)"
    return dataclasses.replace(h, param=text, short=text)


def _summary(explaining: list[Hypothesis]) -> str:
    """"nash-mp with η = 2 at every β, the same map as extragradient with η_e = 20/11 at β = 1/20, ..." """
    first = explaining[0]
    with_ = f" with {first.param}" if first.param else ""
    if len(explaining) == 1:
        return f"{first.name}{with_}"
    if all(h.name == first.name and h.param == first.param for h in explaining):
        return f"{first.name}{with_} at every β"
    if all(h.name == first.name and h.short == first.short for h in explaining):
        text = f"{first.name} with {first.short} at every β"
        base = first.name.rpartition(", ")[2]
        others = [(equivalents(base, h.eta, h.beta)[1:], h.beta) for h in explaining] if base in MAPS else []
        if others and all(o for o, _ in others):
            other = others[0][0][0][0]
            st = "η_e" if other == "extragradient" else "η"
            text += f", the same map as {other} with " + ", ".join(
                f"{st} = {show(o[0][1])} at β = {show(b)}" for o, b in others)
        return text
    return "; ".join(f"at β = {show(h.beta)}: {h.name}" + (f" with {h.param}" if h.param else "") for h in explaining)


def _schedule_multiplier(by_beta: dict[float, list[Obs]], ranking: list[tuple[str, str, float]]) -> list[Hypothesis]:
    """Nash-MD with η = c·η_t: fit the factor c (a step-size slip in the schedule)."""
    out = []
    for beta, obs in sorted(by_beta.items()):
        def spread(logc: float, obs: list[Obs] = obs) -> float:
            return rms(partial(_scaled_md, c=math.exp(logc)), obs)

        grid = [math.log(1e-3) + math.log(1e6) * i / 60 for i in range(61)]
        vals = [spread(g) for g in grid]
        i = min(range(len(grid)), key=lambda j: vals[j])
        a, b = grid[max(i - 1, 0)], grid[min(i + 1, 60)]
        phi = (math.sqrt(5) - 1) / 2
        for _ in range(80):
            x1, x2 = b - phi * (b - a), a + phi * (b - a)
            if spread(x1) < spread(x2):
                b = x2
            else:
                a = x1
        c = float(nice(math.exp((a + b) / 2)))
        h = hypothesis("nash-md", beta, f"η_t = {show(c)} × 2/(β(t+2)) (a factor {show(c)} on the schedule)",
                       partial(_scaled_md, c=c), obs, c, f"η_t = {show(c)} × 2/(β(t+2))")
        ranking.append((f"nash-md schedule (β = {show(beta)})", h.param, h.ratio))
        if h.explains:
            out.append(h)
    return out


def _scaled_md(o: Obs, c: float) -> npt.NDArray[np.float64]:
    return nash_md(o, min(c * o.eta, 1 / o.beta))


def on_float32_grid(values: list[npt.NDArray[np.float64]]) -> bool:
    """Every value exactly a float32 (float32 evidence in a float64 array)."""
    return bool(values) and all(bool(np.all(v.astype(np.float32).astype(np.float64) == v)) for v in values)
