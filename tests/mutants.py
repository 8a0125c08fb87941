"""Mutants of the built-in bound, step and static claims: one constant tightened by a factor.

A mutant is a *false* claim whenever the original constant is sharp; the checker must then find it
violated on the default suite plus the witness corpus. ``mutants(eps)`` gives every mutant at
level eps (1/100 or 1/1000); ``CLAIMS`` (for ``--claims-module``) holds one mutant per claim id, at
1 %, replacing the original:

    nashproof check checks/default.toml checks/witnesses.toml --claims-module tests/mutants.py

prints ``violated`` for every claim. The mutation score, over every mutant at a level, is printed by

    python tests/mutants.py [--level 1/1000] [--jobs N] [SUITE ...]

Some constants are not sharp, so tightening them by 1 % leaves a *true* claim that no instance can
violate: ``LOOSE`` lists them with the reason (docs/search.md).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from fractions import Fraction

import sympy as sp

from nashproof.claims import (
    KL,
    KL0,
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
    beta,
    eta,
    k,
    min_ref,
)
from nashproof.claims.catalogue import BUILTIN

_BY_ID = {c.id: c for c in BUILTIN}

#: Mutants whose tightened constant is still true (the original is loose there), with the reason.
LOOSE = {
    "NMD-KL-STEP~2eta2": "Munos' 2η² term is loose: the best witness reaches 1.4 % of it",
    "NMD-KL~8": "Nash-MD's 8/(β²(T+1)) is loose by more than 70× (spec §6; best witness 0.5 %)",
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


_PRINCIPAL = {"EXPL-SANDWICH": "upper-8", "SPAN-STEP": "span-Pv", "NMP-KL0": "half", "NMP-UNREG": "log",
              "NMD-KL": "8"}


def principal(eps: Fraction) -> list[Claim]:
    """One mutant per claim id (its principal constant), under the original id, for --claims-module."""
    return [replace(m, id=orig) for orig, m in mutants(eps) if m.id == f"{orig}~{_PRINCIPAL.get(orig, 'rate')}"]


CLAIMS = principal(Fraction(1, 100))


def score(suites: list[str], eps: Fraction, jobs: int | None = None) -> list[dict[str, object]]:
    """Run the suites once; for every mutant, count the runs that find it violated (and the originals')."""
    from nashproof.claims import builtin_catalogue
    from nashproof.parallel import pmap
    from nashproof.suite import iter_suite_files, load_suite

    tasks = [t for f in iter_suite_files(suites) for t in load_suite(f, builtin_catalogue()).tasks]
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
    from nashproof.families import load_game
    from nashproof.solvers import make_solver
    from nashproof.suite import Task
    from nashproof.verify import check_claim, collect

    task, eps = item
    assert isinstance(task, Task)
    cat = builtin_catalogue()
    game = load_game(task.game)
    if task.start is not None:
        game = game.with_start(task.start)
    data = collect(game, make_solver(task.solver, task.beta, task.eta), task.steps, task.digits)
    out = []
    for orig in dict.fromkeys(o for o, _ in mutants(eps) if o in task.claims):
        out.append((orig, check_claim(cat.get(orig), data, task.ignore_hypotheses, task.until_floor).status))
    for orig, m in mutants(eps):
        if orig in task.claims:
            out.append((m.id, check_claim(m, data, task.ignore_hypotheses, task.until_floor).status))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="mutation score of the default suite plus the witness corpus")
    p.add_argument("suites", nargs="*", default=["checks/default.toml", "checks/witnesses.toml"])
    p.add_argument("--level", default="1/100", help="tightening factor (default 1/100; also try 1/1000)")
    p.add_argument("--jobs", type=int)
    args = p.parse_args(argv)
    eps = Fraction(args.level)
    rows = score(args.suites, eps, args.jobs)
    mids = [m.id for _, m in mutants(eps)]
    originals = [r for r in rows if "~" not in str(r["mutant"])]
    killed = [m for m in mids if any(r["mutant"] == m and int(str(r["violated"])) > 0 for r in rows)]
    sharp = [m for m in mids if m not in LOOSE]
    for r in sorted(rows, key=lambda r: str(r["mutant"])):
        mark = "" if "~" not in str(r["mutant"]) else ("KILLED" if r["mutant"] in killed else
                                                     ("loose: " + LOOSE[str(r["mutant"])] if r["mutant"] in LOOSE
                                                      else "SURVIVED"))
        print(f"{r['mutant']:<26} violated {r['violated']:>4} / {r['runs']:<4} "
              f"inconclusive {r['inconclusive']:>3}  {mark}")
    bad_orig = [r["mutant"] for r in originals if int(str(r["violated"])) > 0]
    print(f"\nmutation score at {args.level}: {len(killed)}/{len(mids)} mutants killed; "
          f"{sum(m in killed for m in sharp)}/{len(sharp)} of the mutants of sharp constants; "
          f"originals violated: {', '.join(map(str, bad_orig)) or 'none'}")
    return 0 if not bad_orig and all(m in killed for m in sharp) else 1


if __name__ == "__main__":
    sys.exit(main())
