"""Benchmark of ``nashproof prove``: the issue's target table, and how the cost grows with n and L.

Run: python benchmarks/prove.py [--jobs 2] [--quick]. Prints figures; asserts nothing (never a timed test).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from fractions import Fraction as F

import sympy as sp

from nashproof.claims import KL, Claim, KL_next, builtin_catalogue, eta
from nashproof.claims import beta as beta_sym
from nashproof.families import load_game
from nashproof.prove.boxes import Box
from nashproof.prove.branch import Budget, branch_and_bound, prove_region
from nashproof.prove.certificate import certificate, verify_certificate, write_certificate
from nashproof.prove.params import make_param_spec
from nashproof.prove.params import region as param_region
from nashproof.prove.problem import make_spec


def tightened(factor: F, cid: str) -> Claim:
    return Claim(cid, f"NMP-KL-STEP × {factor}", "step", "kl",
                 (sp.Le(KL_next, sp.Rational(factor.numerator, factor.denominator) * KL / (1 + eta * beta_sym)),), (),
                 ("nash-mp",), "D", "benchmark mutant")


def run(claim: Claim, game: str, L: int, seconds: float, jobs: int, beta: F = F(1, 10), eta_: F = F(2)) -> str:
    g = load_game(game)
    spec = make_spec(claim, g, beta, eta_, "nash-mp")
    t = time.monotonic()
    out = branch_and_bound(spec, Box.region([F(-L)] * (g.n - 1), [F(L)] * (g.n - 1)), Budget(seconds=seconds),
                           jobs=jobs)
    dt = time.monotonic() - t
    extra = ""
    if out.status == "disproved" and out.counterexample is not None:
        extra = f"; counterexample logits {[str(x) for x in out.counterexample[1].point]}"
    if out.status == "undecided":
        extra = f"; {len(out.undecided)} boxes left ({out.reason})"
    ratio = f"{out.worst_ratio:.4f}" if out.worst_ratio is not None else "-"
    rate = out.boxes / max(dt, 1e-9)
    return f"{out.status}, {out.boxes} boxes, {dt:.1f} s ({rate:.0f} boxes/s), worst ratio {ratio}{extra}"


def run_params(claim: Claim, ranges: dict[str, tuple[F, F]], L: int, seconds: float, jobs: int,
               eta_max: bool = True, reduce: bool = True) -> str:
    """Parameters as boxes on two-action:p=3/4,r=1/3 at β = 1, η = 1 (the ranged ones replace these), as
    ``nashproof prove`` runs them (the 2-action reduction first unless ``reduce`` is off); a proof's
    certificate is written and re-verified (timed apart)."""
    base = make_spec(claim, load_game("two-action:p=3/4,r=1/3"), F(1), F(1), "nash-mp")
    spec = make_param_spec(base, ranges, eta_max)
    region = param_region(spec, F(L))
    t = time.monotonic()
    out, reduced = prove_region(spec, region, Budget(seconds=seconds), jobs=jobs, reduce=reduce)
    dt = time.monotonic() - t
    extra = f"; {len(out.undecided)} boxes left ({out.reason})" if out.status == "undecided" else ""
    if reduced is not None:
        extra += f"; reduction: {reduced[1].status} in {reduced[1].boxes} boxes"
    if out.status == "disproved" and out.counterexample is not None:
        d = out.counterexample[1]
        extra += f"; counterexample logits {[str(x) for x in d.point]} at {dict((k, str(v)) for k, v in d.params)}"
    if out.status == "proved" and claim.id == "NMP-KL-STEP":
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "proof.json")
            used = reduced[0] if reduced is not None and reduced[1] is out else None
            write_certificate(path, certificate(spec, region, out, [], used))
            t = time.monotonic()
            res = verify_certificate(path, builtin_catalogue(), jobs=jobs)
            extra += f"; certificate {'re-verified' if res.ok else 'NOT verified'} in {time.monotonic() - t:.1f} s"
    return f"{out.status}, {out.boxes} boxes ({len(out.leaves)} proved), {dt:.1f} s{extra}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="smaller budgets")
    ap.add_argument("--only", help="run only the rows whose name contains this text (and skip the scaling runs)")
    a = ap.parse_args()
    cat = builtin_catalogue()
    budget = 120.0 if a.quick else 600.0
    print(f"load average before: {os.getloadavg()[0]:.2f}; jobs = {a.jobs}")
    kl_step = cat.get("NMP-KL-STEP")
    rows = [
        ("NMP-KL-STEP, rps, β = 1/10, η = 2, [−20, 20]²", lambda: run(kl_step, "rps", 20, budget, a.jobs)),
        ("tightened by 10 %, [−20, 20]²", lambda: run(tightened(F(9, 10), "T10"), "rps", 20, budget, a.jobs)),
        ("tightened by 1 %, [−20, 20]²", lambda: run(tightened(F(99, 100), "T1"), "rps", 20, budget, a.jobs)),
        ("tightened by 1 %, [−300, 300]²", lambda: run(tightened(F(99, 100), "T1"), "rps", 300, budget, a.jobs)),
        ("NMP-KL-STEP, all 2-action games, β ∈ [1/100, 10], η ∈ [0, η̄], [−30, 30]",
         lambda: run_params(kl_step, {"p": (F(0), F(1)), "r": (F(1, 1000), F(999, 1000)), "beta": (F(1, 100), F(10)),
                                      "eta": (F(0), F(1))}, 30, budget, a.jobs)),
        ("the same, original coordinates (--no-reduction), η ∈ [η̄/100, η̄]",
         lambda: run_params(kl_step, {"p": (F(0), F(1)), "r": (F(1, 10), F(9, 10)), "beta": (F(1, 100), F(10)),
                                      "eta": (F(1, 100), F(1))}, 30, budget / 5, a.jobs, reduce=False)),
        ("NMP-KL-STEP, two-action r=1/3, p ∈ [1/2, 3/4], β = η = 1, [−2, 2]",
         lambda: run_params(kl_step, {"p": (F(1, 2), F(3, 4))}, 2, budget, a.jobs, eta_max=False)),
        ("NMP-KL-STEP, two-action p=3/4, r=1/3, η ∈ [η̄/2, η̄], [−2, 2]",
         lambda: run_params(kl_step, {"eta": (F(1, 2), F(1))}, 2, budget, a.jobs)),
        ("NMP-KL-STEP, two-action p=3/4, r=1/3, β ∈ [1/2, 1], η = 1, [−2, 2]",
         lambda: run_params(kl_step, {"beta": (F(1, 2), F(1))}, 2, budget, a.jobs, eta_max=False)),
        ("SPAN-STEP, cyclic:n=4, [−10, 10]³", lambda: run(cat.get("SPAN-STEP"), "cyclic:n=4", 10, budget / 2, a.jobs)),
        ("EXPL-SANDWICH, cyclic:n=4, [−10, 10]³",
         lambda: run(cat.get("EXPL-SANDWICH"), "cyclic:n=4", 10, budget / 2, a.jobs)),
    ]
    rows.append(("the 10 %-tightened claim, all 2-action games, same parameter box",
                 lambda: run_params(tightened(F(9, 10), "T10"), {"p": (F(0), F(1)), "r": (F(1, 10), F(9, 10)),
                                    "beta": (F(1, 100), F(10)), "eta": (F(1, 10), F(1))}, 30, budget, a.jobs)))
    for name, fn in rows:
        if a.only is None or a.only in name:
            print(f"{name:48s} {fn()}", flush=True)
    if a.only is not None:
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        return
    print("scaling with L (NMP-KL-STEP, rps):")
    for L in (5, 10, 20, 40):
        print(f"  L = {L:3d}: {run(kl_step, 'rps', L, budget, a.jobs)}", flush=True)
    print("scaling with n (NMP-KL-STEP, cyclic:n, L = 5):")
    for n in (2, 3, 4):
        print(f"  n = {n}: {run(kl_step, f'cyclic:n={n}', 5, budget, a.jobs)}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
