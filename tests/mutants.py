"""Mutants of the built-in bound, step, static and probability claims: one constant tightened by a factor.

A mutant is a *false* claim whenever the original constant is sharp; the checker must then find it
violated by a plain ``nashproof check`` (checks/default.toml, which includes the witness corpus).
``mutants(eps)`` gives the mutants of the original claims at level eps, ``new_mutants(eps)`` those of
the claims added since (inexact family, NMP-SPAN-C, NMP-KL-LOCAL), ``statistical_mutants(eps)`` the
sampled error bounds; ``CLAIMS`` (for ``--claims-module``) holds one mutant per claim id, at 1 % (the
new claims at 10 %), replacing the original:

    nashproof check --claims-module tests/mutants.py          # every sharp claim violated, exit 1
    nashproof check --claims-module tests/mutants_01pct.py    # the same at 0.1 %

The mutation score, over every mutant at a level, on the default run (or the suites given), is printed by

    python tests/mutants.py [--level 1/1000] [--jobs N] [SUITE ...]

Some constants are not sharp, so tightening them leaves a *true* claim that no instance can violate:
``LOOSE`` lists them with the reason; ``REACH`` lists sharp ones whose ratio 1 is approached only beyond
the checker's ranges, with the level below which they survive (docs/search.md).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import sympy as sp

from nashproof.claims import (
    KL,
    KL0,
    RKL,
    RKL0,
    C,
    Claim,
    Expl,
    Expl_0,
    KL_next,
    KL_ref_star,
    KL_rev,
    L1_half,
    L1_sq,
    P_ref_star,
    Span,
    Span_next,
    Step_err,
    beta,
    delta,
    eta,
    k,
    min_ref,
)
from nashproof.claims import rho_loc as RHO_LOC
from nashproof.claims.catalogue import (
    BUILTIN,
    DELTA_INNER,
    DELTA_SAMPLED,
    EB,
    RHO,
    approx_linear_floor,
    approx_linear_step,
    approx_sqrt_floor,
    approx_step_error,
)

_BY_ID = {c.id: c for c in BUILTIN}

#: Mutants whose tightened constant is still true (the original is loose there), with the reason.
LOOSE = {
    "NMD-KL-STEP~2eta2": "Munos' 2η² term is loose: the best witness reaches 1.4 % of it",
    "NMD-KL~8": "Nash-MD's 8/(β²(T+1)) is loose by more than 70× (spec §6; best witness 0.5 %)",
    "NMP-APPROX-STEP~c": "the linear form c(δ) is not reached by the adversarial perturbation: best 1.3 % of it "
                         "(docs/search.md)",
    "NMP-APPROX~linear": "the linear floor c(δ)(1+ηβ)/(ηβ): best 1.3 % of it (docs/search.md)",
}


#: Mutants of sharp constants whose supremum ratio 1 is approached only in a limit that the checker's ranges cut
#: off: below the level given, no representable instance violates them (the reason, docs/search.md).
REACH = {
    "NMP-KL0~gap": (Fraction(1, 1000), "ratio ≈ 1 − 2β needs a π_ref entry ≤ e^(−1/(2β)); a game file's numbers "
                                       "(≤ 1000 characters) reach 10^(−450): best 0.99901"),
    "NMP-SPAN-C~C": (Fraction(1, 1000), "ratio 1/(1 + β^(−1/2)) at k = 0, β ≤ 10⁶: best 0.999001"),
    "NMP-KL-LOCAL~rate": (Fraction(1, 10000), "a rate with an unknown constant, refuted only by proof (an invariant "
                                              "cone near π*, verify/asymptotic.py); the cone's radii stop at 10^(−12), "
                                              "which decides a tightening down to about 10^(−4)"),
}


def _m(orig: str, name: str, statements: tuple[sp.Basic, ...]) -> tuple[str, Claim]:
    c = _BY_ID[orig]
    return orig, replace(c, id=f"{orig}~{name}", statements=statements,
                         title=f"MUTANT of {orig} ({name})", provenance="E", source="tests/mutants.py")


def mutants(eps: Fraction) -> list[tuple[str, Claim]]:
    """Every mutant at level ``eps``: (original claim id, mutant claim with id ``ORIGINAL~constant``)."""
    e = sp.Rational(eps.numerator, eps.denominator)
    up, down = 1 + e, 1 - e
    c_up = 1 / (1 + up * eta * beta)
    return [
        _m("NMP-KL-STEP", "rate", (sp.Le(KL_next, KL * c_up),)),
        _m("NMP-KL", "rate", (sp.Le(KL, (1 + up * eta * beta) ** (-k) * KL0),)),
        _m("NMP-KL0", "gap", (sp.Le(KL_ref_star, down * (sp.Rational(1, 2) - P_ref_star) / beta),)),
        _m("NMP-KL0", "half", (sp.Le((sp.Rational(1, 2) - P_ref_star) / beta, down / (2 * beta)),)),
        _m("EXPL-SANDWICH", "lower", (sp.Le(up * beta * KL_rev, Expl),)),
        _m("EXPL-SANDWICH", "upper-8", (sp.Le(Expl, beta * KL_rev + L1_sq / (8 * up * beta)),)),
        _m("EXPL-SANDWICH", "upper-KL", (sp.Le(Expl, down * beta * KL_rev + L1_sq / (8 * beta)),)),
        _m("SPAN-STEP", "rate", (sp.Le(Span_next, (Span + eta * L1_half) * c_up),)),
        _m("SPAN-STEP", "span-Pv", (sp.Le(Span_next, (Span + down * eta * L1_half) / (1 + eta * beta)),)),
        _m("NMP-UNREG", "log", (sp.Le(Expl_0, Expl + down * beta * sp.log(1 / min_ref)),)),
        _m("NMP-UNREG", "Expl", (sp.Le(Expl_0, down * Expl + beta * sp.log(1 / min_ref)),)),
        _m("NMD-KL-STEP", "rate", (sp.Le(KL_next, (1 - up * eta * beta) * KL + 2 * eta**2),)),
        _m("NMD-KL-STEP", "2eta2", (sp.Le(KL_next, (1 - eta * beta) * KL + 2 * down * eta**2),)),
        _m("NMD-KL", "8", (sp.Le(KL, 8 * down / (beta**2 * (k + 1))),)),
        _m("MMD-KL", "rate", (sp.Le(KL, (1 + up * eta * beta) ** (-k) * KL0),)),
        _m("MMD-KL-STEP", "rate", (sp.Le(KL_next, KL * c_up),)),
        _m("EG-KL", "rate", (sp.Le(KL, (1 - up * eta * beta) ** k * KL0),)),
        _m("PROX-KL-STEP", "rate", (sp.Le(KL_next, KL * c_up),)),
    ]


def _approx_bound(phi: sp.Expr, linear: sp.Expr) -> tuple[sp.Basic, ...]:
    """NMP-APPROX's two statements (catalogue._approx_bound) with the floors given."""
    return (sp.Le(KL, RHO ** (2 * k) * KL0 + 2 * RHO**k * RKL0 * phi * (1 - RHO**k) + (phi * (1 - RHO**k)) ** 2),
            sp.Le(KL, (1 + EB) ** (-k) * KL0 + linear * (1 - (1 + EB) ** (-k))))


def new_mutants(eps: Fraction) -> list[tuple[str, Claim]]:
    """Mutants of the claims added since issue 11 (inexact family, NMP-SPAN-C, NMP-KL-LOCAL) at level ``eps``."""
    e = sp.Rational(eps.numerator, eps.denominator)
    down = 1 - e
    err, lin = down * approx_step_error(delta), approx_linear_step(delta)
    step_1 = sp.Le(KL_next, KL / (1 + EB) + 2 * RHO * RKL * err + err**2)
    step_2 = sp.Le(KL_next, KL / (1 + EB) + down * lin)
    exact_1 = sp.Le(KL_next, KL / (1 + EB) + 2 * RHO * RKL * approx_step_error(delta) + approx_step_error(delta) ** 2)
    exact_2 = sp.Le(KL_next, KL / (1 + EB) + lin)
    span_c = (1 / beta + sp.sqrt(eta) / (beta * (sp.sqrt(1 + eta * beta) - 1))) * (1 / (1 + eta * beta)) ** (k / 2)
    out = [
        _m("NMP-APPROX-STEP", "e", (step_1, exact_2)),
        _m("NMP-APPROX-STEP", "c", (exact_1, step_2)),
        _m("NMP-APPROX", "phi", _approx_bound(down * approx_sqrt_floor(delta), approx_linear_floor(delta))[:1]
           + _approx_bound(approx_sqrt_floor(delta), approx_linear_floor(delta))[1:]),
        _m("NMP-APPROX", "linear", _approx_bound(approx_sqrt_floor(delta), approx_linear_floor(delta))[:1]
           + _approx_bound(approx_sqrt_floor(delta), down * approx_linear_floor(delta))[1:]),
        _m("NMP-SPAN-C", "C", (sp.Le(Span, down * span_c),)),
    ]
    local = _BY_ID["NMP-KL-LOCAL"]
    out.append(("NMP-KL-LOCAL", replace(local, id="NMP-KL-LOCAL~rate", rate=down * RHO_LOC,
                                        statements=(sp.Le(KL, C * (down * RHO_LOC) ** k),),
                                        title="MUTANT of NMP-KL-LOCAL (rate)", provenance="E",
                                        source="tests/mutants.py")))
    return out


def statistical_mutants(eps: Fraction) -> list[tuple[str, Claim]]:
    """The sampled error bounds (Hoeffding + union bound) tightened by ``eps``: probability claims, checked over
    seeded runs. Hoeffding is loose here (the runs' (1 − α) quantile of lhs/rhs is 0.6 for SAMPLED-STEP-ERR, 0.2 for
    NMP-APPROX-HP on checks/approx.toml), so at 10 % they are still true and must pass."""
    e = sp.Rational(eps.numerator, eps.denominator)
    return [
        _m("SAMPLED-STEP-ERR", "hoeffding", (sp.Le(Step_err, (1 - e) * DELTA_SAMPLED),)),
        _m("INNER-ERR-HP", "hoeffding", (sp.Le(Step_err, DELTA_INNER + (1 - e) * DELTA_SAMPLED),)),
    ]


def all_mutants(eps: Fraction) -> list[tuple[str, Claim]]:
    return mutants(eps) + new_mutants(eps)


_PRINCIPAL = {"EXPL-SANDWICH": "upper-8", "SPAN-STEP": "span-Pv", "NMP-KL0": "half", "NMP-UNREG": "log",
              "NMD-KL": "8", "NMP-APPROX-STEP": "e", "NMP-APPROX": "phi", "NMP-SPAN-C": "C"}


def principal_mutants(eps: Fraction, new: Fraction | None = Fraction(1, 10)) -> list[tuple[str, Claim]]:
    """One mutant per claim id (its principal constant): those of :func:`mutants` at ``eps``, those of
    :func:`new_mutants` at ``new`` (None: left out)."""
    chosen = mutants(eps) + (new_mutants(new) if new is not None else [])
    return [(orig, m) for orig, m in chosen if m.id == f"{orig}~{_PRINCIPAL.get(orig, 'rate')}"]


def principal(eps: Fraction, new: Fraction | None = Fraction(1, 10)) -> list[Claim]:
    """The principal mutants under their original ids, for --claims-module."""
    return [replace(m, id=orig) for orig, m in principal_mutants(eps, new)]


CLAIMS = principal(Fraction(1, 100))


def score(suites: list[str], eps: Fraction, jobs: int | None = None) -> list[dict[str, object]]:
    """Run the suites once, as `nashproof check` does (certified, retried); per mutant, count the runs that
    find it violated (and the originals')."""
    from nashproof.claims import builtin_catalogue
    from nashproof.parallel import pmap
    from nashproof.suite import load_suites

    tasks = [t for s in load_suites(suites, builtin_catalogue()) for t in s.tasks]
    per_task = pmap(_task_statuses, [(t, eps) for t in tasks], jobs)
    rows: dict[str, dict[str, object]] = {}
    for statuses in per_task:
        for mid, status in statuses:
            row = rows.setdefault(mid, {"mutant": mid, "violated": 0, "runs": 0, "inconclusive": 0})
            row["runs"] = int(str(row["runs"])) + 1
            if status in ("violated", "inconclusive"):
                row[status] = int(str(row[status])) + 1
    return list(rows.values())


def _task_statuses(item: tuple[object, Fraction]) -> list[tuple[str, str]]:
    from nashproof.claims import builtin_catalogue
    from nashproof.suite import Task, run_task

    task, eps = item
    assert isinstance(task, Task)
    cat = builtin_catalogue()
    mine = [m for orig, m in all_mutants(eps) if orig in task.claims]
    for m in mine:
        cat.add(m)
    if not mine:
        return []
    claims = tuple(dict.fromkeys(m.id.split("~")[0] for m in mine)) + tuple(m.id for m in mine)
    verdicts = run_task(replace(task, claims=claims, expect=()), cat)
    return [(v.claim, v.status) for v in verdicts]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="mutation score of the default suite plus the witness corpus")
    p.add_argument("suites", nargs="*", default=[str(Path(__file__).resolve().parents[1] / "checks" / "default.toml")])
    p.add_argument("--level", default="1/100", help="tightening factor (default 1/100; also try 1/1000)")
    p.add_argument("--jobs", type=int)
    args = p.parse_args(argv)
    eps = Fraction(args.level)
    rows = score(args.suites, eps, args.jobs)
    mids = [m.id for _, m in all_mutants(eps)]
    originals = [r for r in rows if "~" not in str(r["mutant"])]
    killed = [m for m in mids if any(r["mutant"] == m and int(str(r["violated"])) > 0 for r in rows)]
    beyond = {m for m in mids if m in REACH and eps < REACH[m][0]}
    sharp = [m for m in mids if m not in LOOSE and m not in beyond]
    for r in sorted(rows, key=lambda r: str(r["mutant"])):
        mid = str(r["mutant"])
        mark = "" if "~" not in mid else ("KILLED" if mid in killed else ("loose: " + LOOSE[mid] if mid in LOOSE else
                                          ("beyond reach: " + REACH[mid][1] if mid in beyond else "SURVIVED")))
        print(f"{r['mutant']:<26} violated {r['violated']:>4} / {r['runs']:<4} "
              f"inconclusive {r['inconclusive']:>3}  {mark}")
    bad_orig = [r["mutant"] for r in originals if int(str(r["violated"])) > 0]
    print(f"\nmutation score at {args.level}: {len(killed)}/{len(mids)} mutants killed; "
          f"{sum(m in killed for m in sharp)}/{len(sharp)} of the mutants of sharp constants within reach; "
          f"originals violated: {', '.join(map(str, bad_orig)) or 'none'}")
    return 0 if not bad_orig and all(m in killed for m in sharp) else 1


if __name__ == "__main__":
    sys.exit(main())
