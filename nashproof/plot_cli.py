"""``nashproof plot``: curves with each claim's bound as an envelope."""

from __future__ import annotations

import argparse
from typing import Any

from .backends import BACKENDS
from .errors import InputError
from .families import load_game
from .numbers import parse_positive
from .solvers import SOLVERS, Solver, make_solver

METRICS = ("kl", "kl_reverse", "exploitability", "gap", "span", "l1", "exploitability_unreg")


def parse_solver(text: str, beta: Any) -> Solver:
    """``name`` or ``name@eta`` (e.g. ``nash-mp@2``, ``mmd@1/5``)."""
    name, _, eta = text.partition("@")
    if name not in SOLVERS:
        raise InputError(f"unknown solver {name!r}; choose from {', '.join(SOLVERS)}")
    return make_solver(name, beta, parse_positive(eta, "eta") if eta else None)


def cmd_plot(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from .plots import plot_run

    if not args.out.lower().endswith((".png", ".svg")):
        raise InputError("--out must end in .png or .svg")
    if args.steps < 1:
        raise InputError("--steps must be ≥ 1")
    game = load_game(args.game)
    beta = parse_positive(args.beta, "--beta")
    solvers = [parse_solver(s, beta) for s in args.solver]
    fig = plot_run(game, solvers, args.steps, args.metric, args.x, args.digits, args.backend, path=args.out,
                   ignore_hypotheses=args.ignore_hypotheses)
    del fig
    print(f"wrote {args.out}")
    return 0


EPILOG = """examples:
  nashproof plot cyclic:n=5,skew=1/3 --beta 1/20 --solver nash-mp@2 --solver mmd --solver nash-md --out kl.png
  nashproof plot rps:skew=1/2 --beta 1/10 --solver nash-mp --metric exploitability --x queries --out expl.svg
  nashproof plot cyclic:n=5,skew=1/3 --beta 1/20 --solver nash-mp@8 --ignore-hypotheses --out broken.png
"""


def register(sub: Any) -> None:
    p = sub.add_parser("plot", help="metric curves with claim bounds as envelopes (PNG or SVG)", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("game", metavar="GAME", help="a JSON game file or a family spec")
    p.add_argument("--beta", required=True, help="β > 0")
    p.add_argument("--solver", action="append", required=True, help="NAME or NAME@ETA (repeatable)")
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--metric", choices=METRICS, default="kl")
    p.add_argument("--x", choices=("iterations", "queries"), default="iterations")
    p.add_argument("--digits", type=int, default=30)
    p.add_argument("--backend", choices=BACKENDS, default="mpmath")
    p.add_argument("--ignore-hypotheses", action="store_true", help="draw bounds whose hypotheses are false")
    p.add_argument("--out", required=True, help="output file (.png or .svg)")
    p.set_defaults(handler=cmd_plot)
