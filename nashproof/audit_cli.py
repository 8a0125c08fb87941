"""``nashproof audit``: is this update rule (or trace) the algorithm it claims to be?"""

from __future__ import annotations

import argparse
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

from .audit import (
    DECLARABLE,
    DEFAULT_BETAS,
    AuditReport,
    audit_trace,
    audit_update,
    load_update,
)
from .errors import InputError
from .numbers import fraction_str, parse_positive
from .report import table
from .solvers import SOLVERS


def _print(report: AuditReport) -> None:
    verdict = "CONSISTENT" if report.consistent else "FLAGGED"
    print(f"{verdict}: {report.source} declared as {report.declared} with η = {fraction_str(report.eta)}, "
          f"β ∈ {{{', '.join(fraction_str(b) for b in report.betas)}}}; {report.checked_steps} steps compared, "
          f"worst error/tolerance {report.worst_ratio:.3g}")
    first = next((f for f in report.findings if f.failed), None)
    if first is not None:
        where = ", ".join(x for x in (first.game, f"context {first.context}" if first.context else "",
                                      f"from {first.start}" if first.start else "",
                                      f"β = {first.beta}" if first.beta else "") if x)
        print(f"first departure: [{first.kind}] {first.message}" + (f" ({where})" if where else ""))
    failed = [f for f in report.findings if f.failed]
    kinds = sorted({f.kind for f in failed})
    if failed:
        counts = ", ".join(f"{sum(f.kind == k for f in failed)} {k}" for k in kinds)
        print(f"{len(failed)} failing finding(s): {counts}")
    for f in failed:
        if f.kind == "identification":
            print(f"identified: {f.message}")
    ident = report.identification
    if ident is not None:
        print(f"\nidentification ({'explains the steps' if ident.explains else 'no rule explains the steps'}):")
        print(table(["rule", "fitted η", "RMS log-ratio residual"],
                    [[r, e, f"{x:.3g}"] for r, e, x in ident.ranking[:5]]))
    if report.claims:
        print("\nclaims on its own trajectory:")
        print(table(["claim", "provenance", "verdict", "game", "first k", "note"],
                    [[v.claim, v.provenance, v.status, v.game, str(v.first_k), v.note[:60]] for v in report.claims]))
    for f in report.findings:
        if not f.failed:
            print(f"note: [{f.kind}] {f.message}")


def cmd_audit(args: argparse.Namespace) -> int:
    if (args.solver is None) == (args.trace is None):
        raise InputError("give exactly one of --solver FILE:update or --trace FILE")
    if args.declared not in DECLARABLE:
        raise InputError(f"--declared must be one of {', '.join(DECLARABLE)}")
    eta = parse_positive(args.eta, "--eta") if args.eta is not None else None
    if args.trace is not None:
        try:
            data = json.loads(Path(args.trace).read_text(encoding="utf-8"), parse_float=Fraction,
                              parse_constant=lambda c: (_ for _ in ()).throw(InputError(f"{c} in trace")))
        except FileNotFoundError:
            raise InputError(f"trace not found: {args.trace}") from None
        except (json.JSONDecodeError, ValueError) as exc:
            raise InputError(f"{args.trace}: invalid JSON ({exc})") from None
        report = audit_trace(data, args.declared, eta)
        report.source = args.trace
    else:
        if args.timeout <= 0:
            raise InputError("--timeout must be > 0")
        if args.steps < 1:
            raise InputError("--steps must be ≥ 1")
        fn = load_update(args.solver)
        betas = [parse_positive(b, "--beta") for b in args.beta] if args.beta else list(DEFAULT_BETAS)
        step = eta if eta is not None else SOLVERS[args.declared].default_eta(betas[0])
        report = audit_update(fn, args.declared, step, betas, steps=args.steps, timeout=args.timeout,
                              source=args.solver)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        _print(report)
    return report.exit_code


EPILOG = """exit codes: 0 consistent with the declaration, 1 flagged, 2 bad input.
The candidate is update(pi, P, ref, beta, eta) -> pi_next on one context (numpy float64).
examples:
  nashproof audit --solver my_impl.py:update --declared nash-mp --eta 2
  nashproof audit --solver mypkg.trainer:nash_step --declared mmd --eta 1/5 --beta 1/20
  nashproof audit --trace run.json --declared nash-mp --json
trace format: {"game": "cyclic:n=5,skew=1/3" or a game object, "beta": "1/10", "eta": "2",
               "iterates": [[p0, p1, ...], ...]}   (one list per iterate; per context for several)
"""


def register(sub: Any) -> None:
    p = sub.add_parser("audit", help="check that an update rule or a trace implements the declared algorithm",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--solver", metavar="FILE:update", help="path/to/file.py:update or package.module:update")
    p.add_argument("--trace", metavar="FILE", help="a JSON trace of iterates")
    p.add_argument("--declared", required=True, help=f"one of: {', '.join(DECLARABLE)}")
    p.add_argument("--eta", help="the declared step (extragradient: η_e); default: the solver's own")
    p.add_argument("--beta", action="append", help="β to test (repeatable; default 1/20 and 1/2)")
    p.add_argument("--steps", type=int, default=30, help="length of the candidate's own trajectory (default 30)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds allowed per call (default 10)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_audit)
