"""``nashproof audit``: is this update rule (or trace) the algorithm it claims to be?"""

from __future__ import annotations

import argparse
import json
import math
import sys
from fractions import Fraction
from typing import Any

from ..audit import BATTERY, DECLARABLE, DEFAULT_BETAS, AuditOptions, AuditReport, StepSpec, audit_update
from ..audit.trace import audit_trace, load_trace_file
from ..errors import InputError
from ..numbers import fraction_str, parse_positive
from ..report import table


def _print(report: AuditReport) -> None:
    eta = report.step or (fraction_str(report.eta) if report.eta is not None else "")
    print(f"{report.verdict}: {report.source} declared as {report.declared} with {eta}, "
          f"β ∈ {{{', '.join(fraction_str(b) for b in report.betas)}}}, {report.precision}; "
          f"{report.checked_steps} steps compared, worst error/tolerance {report.worst_ratio:.3g}")
    if report.fitted:
        print(f"fitted step: {report.fitted}")
    if report.inconclusive:
        print(f"inconclusive: {report.inconclusive}")
    first = next((f for f in report.findings if f.failed), None)
    if first is not None:
        where = ", ".join(x for x in (first.game, f"context {first.context}" if first.context else "",
                                      f"from {first.start}" if first.start else "",
                                      f"β = {first.beta}" if first.beta else "") if x)
        print(f"first departure: [{first.kind}] {first.message}" + (f" ({where})" if where else ""))
    failed = [f for f in report.findings if f.failed]
    if failed:
        kinds = sorted({f.kind for f in failed})
        print(f"{len(failed)} failing finding(s): " + ", ".join(f"{sum(f.kind == k for f in failed)} {k}"
                                                                 for k in kinds))
    for f in failed:
        if f.kind == "identification" and f is not first:
            print(f.message)
    ident = report.identification
    if ident is not None and ident.ranking and (failed or ident.explains):
        print("\nhypotheses tried (fitted parameter, worst error / tolerance at it; ≤ 1 fits within the tolerance):")
        rows = [[r, e, f"{x:.3g}"] for r, e, x in ident.ranking[:6]]
        print(table(["hypothesis", "fitted step", "error/tol"], rows))
    if report.claims:
        print("\nclaims on its own trajectory:")
        print(table(["claim", "provenance", "verdict", "game", "first k", "note"],
                    [[v.claim, v.provenance, v.status, v.game, "-" if v.first_k is None else str(v.first_k),
                      v.note] for v in report.claims]))
    for f in report.findings:
        if not f.failed:
            print(f"note: [{f.kind}] {f.message}")


def _progress(line: str) -> None:
    """Cost estimate and progress go to stderr (stdout carries the report, --json included)."""
    print(line, file=sys.stderr, flush=True)


def _games(text: str) -> list[str]:
    """``--games 1,3`` (positions in the battery) or ``--games "cyclic:n=5,skew=1/3;ties:n=4,skew=1/2"``."""
    from ..families import load_game

    parts = [p.strip() for p in text.split(";" if ":" in text else ",") if p.strip()]
    if not parts or len(parts) > 20:
        raise InputError("--games: give 1 to 20 games (positions 1-6 in the battery, or family specs separated by ;)")
    out = []
    for p in parts:
        if p.isdigit():
            if not 1 <= int(p) <= len(BATTERY):
                raise InputError(f"--games: position {p} is not in 1..{len(BATTERY)}")
            out.append(BATTERY[int(p) - 1])
        else:
            load_game(p)  # a clear error for a bad spec
            out.append(p)
    return out


def _check_options(args: argparse.Namespace) -> None:
    if not (math.isfinite(args.timeout) and 0.05 <= args.timeout <= 3600):
        raise InputError(f"--timeout must be a number of seconds in [0.05, 3600], got {args.timeout}")
    if not 1 <= args.steps <= 10_000:
        raise InputError(f"--steps must be in [1, 10000], got {args.steps}")
    if not (math.isfinite(args.budget) and 1 <= args.budget <= 86400):
        raise InputError(f"--budget must be a number of seconds in [1, 86400], got {args.budget}")
    if not 256 <= args.memory <= 1 << 20:
        raise InputError(f"--memory must be in [256, 1048576] MB, got {args.memory}")
    if not 0 <= args.samples <= 100_000 or args.samples == 1:
        raise InputError(f"--samples must be 0 (exact mode) or in [2, 100000], got {args.samples}")
    if not (math.isfinite(args.confidence) and 0.5 <= args.confidence < 1):
        raise InputError(f"--confidence must be in [0.5, 1), got {args.confidence}")
    if args.oracle == "sampled" and args.samples < 2:
        raise InputError("--oracle sampled makes the candidate stochastic: give --samples R (R ≥ 2)")
    if not 0 <= args.seed < 2**63:
        raise InputError(f"--seed must be in [0, 2^63), got {args.seed}")


def cmd_audit(args: argparse.Namespace) -> int:
    if (args.solver is None) == (args.trace is None):
        raise InputError("give exactly one of --solver FILE:update or --trace FILE")
    if args.declared not in DECLARABLE:
        raise InputError(f"--declared must be one of {', '.join(DECLARABLE)}")
    _check_options(args)
    step = StepSpec.parse(args.eta, args.declared) if args.eta is not None else None
    tau = None if args.opponent_temperature is None else parse_positive(args.opponent_temperature,
                                                                       "--opponent-temperature")
    if tau is not None and not Fraction(1, 100) <= tau <= 100:
        raise InputError("--opponent-temperature must be in [1/100, 100]")
    if args.trace is not None:
        if args.games is not None:
            raise InputError("--games picks the battery's games; a trace names its own game")
        data = load_trace_file(args.trace)
        report = audit_trace(data, args.declared, step, args.precision, tau)
        report.source = args.trace
    else:
        betas = [parse_positive(b, "--beta") for b in args.beta] if args.beta else list(DEFAULT_BETAS)
        if step is not None and step.kind == "lr" and args.beta:
            raise InputError("--eta lr=L,temp=T sets β = temp: drop --beta")
        opts = AuditOptions(steps=args.steps, timeout=args.timeout, memory_mb=args.memory, seed=args.seed,
                            samples=args.samples, confidence=args.confidence, sampled=args.oracle == "sampled",
                            batched=args.batched, precision=args.precision, budget=args.budget,
                            temperature=tau if tau is not None else Fraction(1), progress=_progress)
        games = BATTERY if args.games is None else _games(args.games)
        report = audit_update(args.solver, args.declared, step, betas, games=games, source=args.solver,
                              options=opts)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        _print(report)
    return report.exit_code


EPILOG = """exit codes: 0 consistent with the declaration, 1 flagged, 2 bad input, 3 inconclusive (a trace whose
digits cannot decide, or the time budget ran out), 4 numerical failure. The candidate never sets the code.
The candidate is update(pi, P, ref, beta, eta) -> pi_next on one context (numpy float64 in; float64 or
float32 arrays, lists or torch tensors out); it may also take t= (step index) and state= (then it returns
(pi_next, state)). It runs in a separate process with a time and memory limit.
rules: nash-mp, extragradient (EGPO), mmd, omd, nash-md, proximal-point, mwu (the checker's solvers) and the
  audit-only omwu (optimistic MWU), mirror-prox (extragradient/mirror prox at β = 0), replicator (the Euler
  replicator step, --eta dt), sppo (SPPO's square-loss argmin with log Z ≈ η/2); --opponent-temperature T
  declares opponents drawn from softmax(log π / T) (mmd, nash-mp, nash-md, mwu, omwu, mirror-prox).
games (--games): positions in the battery (1 cyclic, 2 transitive, 3 random, 4 contextual, 5 ties,
  6 bradley-terry), e.g. --games 1,4, or family specs separated by ';'.
cost: before a long run (a statistical one, or more than 2000 calls) two probe calls time the candidate and
  the estimate is printed to stderr; a run whose estimate exceeds --budget is not started (exit 3).
step forms (--eta): 2 | gamma=1/10 (γ = ηβ) | eta_e=1/2 (EGPO) | lr=1/5,temp=1/20 (MMD) | auto (fit it)
  | schedule (nash-md's η_t = 2/(β(t+2)), the default for nash-md); the candidate's eta is the value given
  in the form given (γ, η_e or lr).
examples:
  nashproof audit --solver my_impl.py:update --declared nash-mp --eta 2
  nashproof audit --solver my_impl.py:update --declared mmd --eta auto
  nashproof audit --solver mypkg.trainer:nash_step --declared mmd --eta lr=1/5,temp=1/20
  nashproof audit --solver sampler.py:update --declared mmd --eta 1/5 --samples 200 --oracle sampled
  nashproof audit --trace run.json --declared nash-mp --json
  nashproof audit --solver psro.py:omwu --declared omwu --eta 1/10 --games 1,3
  nashproof audit --solver trainer.py:update --declared nash-md --eta 1/5 --opponent-temperature 9/10 --samples 64
trace format: {"game": "cyclic:n=5,skew=1/3" or a game object, "beta": "1/10", "eta": "2",
               "iterates": [[p0, p1, ...], ...], "precision": "float32" (optional),
               "opponent_temperature": "9/10" (optional)}
               (JSON numbers are binary64 values, as json.dump writes them; strings keep their digits)
               (one list per iterate; one list per context for several contexts)
"""


def register(sub: Any) -> None:
    p = sub.add_parser("audit", help="check that an update rule or a trace implements the declared algorithm",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--solver", metavar="FILE:update", help="path/to/file.py:update or package.module:update")
    p.add_argument("--trace", metavar="FILE", help="a JSON trace of iterates")
    p.add_argument("--declared", required=True, help=f"the rule it claims to be: {', '.join(DECLARABLE)}")
    p.add_argument("--eta", help="the declared step, in any form listed below, or auto (default: the rule's own)")
    p.add_argument("--beta", action="append", help="β to test (repeatable; default 1/20 and 1/2)")
    p.add_argument("--steps", type=int, default=30, help="length of the candidate's own trajectory (default 30)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds allowed per call; the worker is killed "
                   "after it (default 10)")
    p.add_argument("--budget", type=float, default=45.0, help="seconds for all calls of the audit; when they run out, "
                   "the steps collected so far are compared and the verdict is at best inconclusive (default 45)")
    p.add_argument("--memory", type=int, default=4096, help="memory limit of the worker process in MB (default 4096)")
    p.add_argument("--seed", type=int, default=0, help="seed for the worker's random, numpy and torch (default 0)")
    p.add_argument("--samples", type=int, default=0, help="statistical mode for stochastic candidates: compare the "
                   "mean of R calls with the exact step (default 0: exact mode, with a determinism check)")
    p.add_argument("--confidence", type=float, default=0.999, help="confidence of the statistical mode, "
                   "Bonferroni-corrected over every compared entry (default 0.999)")
    p.add_argument("--oracle", choices=("exact", "sampled"), default="exact", help="sampled: pass a sampling "
                   "oracle (compare(y, y2), compare_many) instead of P; needs --samples")
    p.add_argument("--batched", action="store_true", help="call update once per game with arrays of shape "
                   "(contexts, n) and P of shape (contexts, n, n)")
    p.add_argument("--precision", choices=("auto", "float32", "float64"), default="auto",
                   help="tolerance's precision; auto: from the output's dtype (a trace: from its values)")
    p.add_argument("--games", help="the battery's games to run: positions (1,4) or specs separated by ';' "
                   "(default: all six)")
    p.add_argument("--opponent-temperature", metavar="T", help="opponents drawn from softmax(log π / T) "
                   "(default 1: from π itself)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=cmd_audit)
