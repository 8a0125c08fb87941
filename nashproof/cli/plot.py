"""``nashproof plot``: curves with each claim's bound as an envelope."""

from __future__ import annotations

import argparse
from fractions import Fraction
from typing import Any

from ..backends import BACKENDS
from ..errors import InputError
from ..families import load_game
from ..files import check_output_file
from ..limits import require_fits
from ..numbers import check_beta, parse_positive
from ..solvers import SOLVERS, Solver, make_solver
from ..suite import parse_step
from .args import DIGITS, count

#: A plot shows every iterate as a marker: beyond this it is a blur.
MAX_PLOT_STEPS = 10_000

METRICS = ("kl", "kl_reverse", "exploitability", "gap", "span", "l1", "exploitability_unreg")


def parse_solver(text: str, beta: Fraction) -> Solver:
    """``name`` or ``name@eta`` (e.g. ``nash-mp@2``, ``nash-mp@max``, ``mmd@1/5``)."""
    name, _, eta = text.partition("@")
    if name not in SOLVERS:
        raise InputError(f"unknown solver {name!r}; choose from {', '.join(SOLVERS)}")
    return make_solver(name, beta, parse_step(eta, name, beta, f"--solver {text}") if eta else None)


def cmd_plot(args: argparse.Namespace) -> int:
    check_output_file(args.out, "--out", (".png", ".svg"))
    game = load_game(args.game)
    require_fits(game.n, len(game.contexts), args.backend, args.digits, args.steps * len(args.solver),
                 f"plot with the {args.backend} backend")
    beta = check_beta(parse_positive(args.beta, "--beta"), "--beta")
    solvers = [parse_solver(s, beta) for s in args.solver]
    import matplotlib  # after every check: importing pyplot takes seconds

    matplotlib.use("Agg")
    from ..plots import plot_run

    fig = plot_run(game, solvers, args.steps, args.metric, args.x, args.digits, args.backend, path=args.out,
                   ignore_hypotheses=args.ignore_hypotheses)
    note = getattr(fig, "nashproof_note", "")
    del fig
    print(f"wrote {args.out}" + (f" ({note})" if note else ""))
    return 0


EPILOG = """examples:
  nashproof plot cyclic:n=5,skew=1/3 --beta 1/20 --solver nash-mp@2 --solver mmd --solver nash-md --out kl.png
  nashproof plot rps:skew=1/2 --beta 1/10 --solver nash-mp --metric exploitability --x queries --out expl.svg
  nashproof plot cyclic:n=5,skew=1/3 --beta 1/20 --solver nash-mp@8 --ignore-hypotheses --out broken.png
"""


def register(sub: Any) -> None:
    p = sub.add_parser("plot", help="metric curves with claim bounds as envelopes (PNG or SVG)", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("game", metavar="GAME", help="a JSON game file or a family spec such as cyclic:n=5,skew=1/3")
    p.add_argument("--beta", required=True, help="regularisation β > 0, e.g. 1/20")
    p.add_argument("--solver", action="append", required=True,
                   help="NAME or NAME@ETA, e.g. nash-mp@2, nash-mp@max, mmd@1/5 (repeatable)")
    p.add_argument("--steps", type=count(1, MAX_PLOT_STEPS), default=60,
                   help=f"iterations, 1 to {MAX_PLOT_STEPS} (default 60)")
    p.add_argument("--metric", choices=METRICS, default="kl", help="the metric on the y axis (default kl)")
    p.add_argument("--x", choices=("iterations", "queries"), default="iterations",
                   help="x axis: iterations k or preference queries N (default iterations)")
    p.add_argument("--digits", type=DIGITS, default=30, help="working precision in decimal digits (default 30)")
    p.add_argument("--backend", choices=BACKENDS, default="mpmath", help="mpmath (default) or float")
    p.add_argument("--ignore-hypotheses", action="store_true", help="draw bounds whose hypotheses are false")
    p.add_argument("--out", required=True, help="output file (.png or .svg); its directory must exist")
    p.set_defaults(handler=cmd_plot)
