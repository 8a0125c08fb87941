"""The ``nashproof`` command line. Every error is one ``error:`` line and a distinct exit code."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from threadpoolctl import threadpool_limits

from .backends import BACKENDS, Backend, blas_threads, make_backend
from .equilibrium import solve_equilibrium, von_neumann_winner
from .errors import EXIT_BAD_INPUT, InputError, NashproofError
from .families import FAMILIES, load_game
from .metrics import evaluate, rounding_floor, shown
from .numbers import fraction_str, parse_positive, parse_rational
from .numeric import numeric_game
from .report import Progress, table
from .solvers import SOLVERS, make_solver, run

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise InputError(message.replace("\n", " "))


def _fmt(b: Backend, x: object, digits: int) -> str:
    return b.to_str(x, digits)


def _backend(args: argparse.Namespace) -> Backend:
    return make_backend(args.backend, args.digits)


def _radius(x: object) -> str:
    """A ball's radius, rounded up (the exact value lies within the printed midpoint ± this plus the
    printing's own rounding)."""
    from .balls import to_arb, up_str

    return up_str(to_arb(x).rad())


def _emit(obj: object) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False))


# ------------------------------------------------------------------ games


def cmd_games(args: argparse.Namespace) -> int:
    if args.json:
        _emit([{"name": f.name, "summary": f.summary, "params": f.params, "example": f.example}
               for f in FAMILIES.values()])
        return 0
    rows = [[f.name, f.summary, f.params or "-", f.example] for f in FAMILIES.values()]
    print(table(["family", "what", "parameters (defaults)", "example"], rows))
    print("\nEvery family also takes skew=r (π_ref ∝ rⁱ) or ref=a+b+... ; list values use '+'.")
    return 0


# ------------------------------------------------------------ equilibrium


def cmd_equilibrium(args: argparse.Namespace) -> int:
    game = load_game(args.game)
    beta = parse_rational(args.beta, "--beta")
    if beta < 0:
        raise InputError(f"--beta must be ≥ 0, got {args.beta}")
    if beta == 0:
        policy = [von_neumann_winner(c) for c in game.contexts]
        if args.json:
            _emit({"game": game.label, "beta": "0", "exact": True,
                   "policy": [[fraction_str(p) for p in pi] for pi in policy],
                   "certificate": {"verified": "exact: max_y P(y ≻ π) ≤ 1/2 in rational arithmetic"}})
        else:
            for ctx, pi in zip(game.contexts, policy):
                print(f"von Neumann winner, context {ctx.name} (exact, verified):")
                print(table(["action", "π*"], [[a, fraction_str(p)] for a, p in zip(game.actions, pi)]))
        return 0
    b = _backend(args)
    eq = solve_equilibrium(game, beta, b)
    probs = eq.probs()
    text = [[_fmt(b, p, b.digits) for p in pi] for pi in probs]
    radii = None
    if eq.certified:
        from .balls import printed_radius, up_str

        radii = [[up_str(printed_radius(p, t)) for p, t in zip(pi, tc)] for pi, tc in zip(probs, text)]
    if args.json:
        out: dict[str, object] = {"game": game.label, "beta": fraction_str(beta), "digits": b.digits,
                                  "backend": b.name, "certified": eq.certified, "policy": text}
        if radii is not None:
            out["radius"] = radii
        _emit({**out, "certificate": eq.certificate.as_dict(b)})
        return 0
    for c, (ctx, star) in enumerate(zip(game.contexts, probs)):
        print(f"π*_β for β = {fraction_str(beta)}, context {ctx.name}:")
        if radii is not None:
            print(table(["action", "π*", "± (exact π* is within)"],
                        [[a, t, r] for a, t, r in zip(game.actions, text[c], radii[c])]))
        else:
            print(table(["action", "π*"], [[a, _fmt(b, p, b.digits)] for a, p in zip(game.actions, star)]))
    cert = eq.certificate.as_dict(b)
    print("certificate: " + ", ".join(f"{k} = {v}" for k, v in cert.items()))
    return 0


# -------------------------------------------------------------------- run

RUN_COLUMNS = ("kl", "kl_reverse", "exploitability", "span")
RUN_JSON = ("kl", "kl_reverse", "exploitability", "gap", "exploitability_unreg", "l1", "span", "span_avg")


def cmd_run(args: argparse.Namespace) -> int:
    game = load_game(args.game)
    beta = parse_positive(args.beta, "--beta")
    eta = parse_positive(args.eta, "--eta") if args.eta is not None else None
    gamma = parse_positive(args.gamma, "--gamma") if args.gamma is not None else None
    if args.steps < 0:
        raise InputError(f"--steps must be ≥ 0, got {args.steps}")
    solver = make_solver(args.solver, beta, eta, gamma)
    b = _backend(args)
    if b.certified:  # balls: the horizon's radius growth (~3 bits per iteration) is paid for up front,
        from .balls import LOG2_10, BallBackend  # and π* is enclosed to the working precision
        from .verify import trajectory_bits

        bits = trajectory_bits(args.digits, args.steps)
        eq = solve_equilibrium(game, beta, BallBackend(max(args.digits, int((bits - 48) / LOG2_10)), bits))
        b = BallBackend(args.digits, bits)
    else:
        eq = solve_equilibrium(game, beta, b)
    with Progress(args.steps, solver.name) as bar:
        traj = run(game, solver, args.steps, b, on_step=bar.update)
    ng = numeric_game(game, b)
    bs = b.scalar(beta)
    rows = [evaluate(ng, p, eq.logpi, bs) for p in traj.policies]
    d = min(args.digits, 12) if not args.json else b.digits
    floors = [rounding_floor(ng, p, eq.logpi, bs) for p in traj.policies]
    if args.json:
        _emit({
            "game": game.label, "solver": solver.name, "parameters": solver.describe(),
            "beta": fraction_str(beta), "eta": fraction_str(solver.eta), "digits": b.digits, "backend": b.name,
            "equilibrium": eq.certificate.as_dict(b),
            "nonnegative_metrics": "a metric ≥ 0 in exact arithmetic that rounding made negative is shown as 0 "
                                   "here (as '< floor' in the table)",
            "iterations": [
                {"k": k, "queries": q, **{name: shown(ng, name, m.get(name), f, d)[1] for name in RUN_JSON},
                 **({"radius": {name: _radius(m.get(name)) for name in RUN_JSON}} if b.certified else {})}
                for k, (q, m, f) in enumerate(zip(traj.queries, rows, floors))
            ],
        })
        return 0
    print(f"{solver.describe()} on {game.label} ({game.n} actions, {len(game.contexts)} context(s)), "
          f"{b.name} at {b.digits} digits")
    headers = ["k", "queries", "KL(π*‖π_k)", "KL(π_k‖π*)", "Expl_β", "span"]
    body = [[str(k), str(q), *(shown(ng, c, m.get(c), f, d)[0] for c in RUN_COLUMNS)]
            for k, (q, m, f) in enumerate(zip(traj.queries, rows, floors))]
    print(table(headers, body))
    if any(cell.startswith("<") for row in body for cell in row):
        print("'< x': ≥ 0 in exact arithmetic, computed below 0 within the rounding floor x")
    return 0


# ----------------------------------------------------------------- parser

EPILOG = """examples:
  nashproof games
  nashproof equilibrium rps:skew=1/2 --beta 1/10 --digits 60
  nashproof equilibrium mygame.json --beta 0          # exact von Neumann winner
  nashproof run cyclic:n=5,skew=1/3 --solver nash-mp --beta 1/20 --eta 2 --steps 30 --json
  nashproof run random:n=2048 --solver mmd --beta 1/10 --backend float --steps 50
"""


def _common(p: argparse.ArgumentParser, json_help: str = "machine-readable output") -> None:
    p.add_argument("--json", action="store_true", help=json_help)


def _numeric_opts(p: argparse.ArgumentParser, default: str = "mpmath") -> None:
    p.add_argument("--digits", type=int, default=50, help="working precision in decimal digits (default 50)")
    p.add_argument("--backend", choices=BACKENDS, default=default,
                   help=f"arb (certified balls), mpmath (reference) or float (float64 screening); default {default}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nashproof", description="Check Nash-MP's convergence claims against exact "
                     "computation on small preference games.", epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("games", help="list the built-in game families")
    _common(p)
    p.set_defaults(handler=cmd_games)

    p = sub.add_parser("equilibrium", help="π*_β to any precision, with a certificate",
                       epilog="example: nashproof equilibrium rps:skew=1/2 --beta 1/10 --digits 60 --json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("game", metavar="GAME", help="a JSON game file or a family spec such as cyclic:n=5,skew=1/3")
    p.add_argument("--beta", required=True, help="regularisation β ≥ 0 (0: exact von Neumann winner)")
    _numeric_opts(p, "arb")
    _common(p)
    p.set_defaults(handler=cmd_equilibrium)

    p = sub.add_parser("run", help="run a solver and print every iterate's metrics",
                       epilog="example: nashproof run rps:skew=1/2 --solver nash-mp --beta 1/10 --steps 30",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("game", metavar="GAME", help="a JSON game file or a family spec")
    p.add_argument("--solver", required=True, help=f"one of: {', '.join(SOLVERS)}; or an inexact/sampled spec "
                   "such as nash-mp-inexact:delta=1e-3,perturb=adversarial (see README)")
    p.add_argument("--beta", required=True, help="regularisation β > 0, e.g. 1/10, 0.1, 1e-2")
    p.add_argument("--eta", help="step size η in the canonical normalisation (extragradient: EGPO's η_e); "
                   "default: the solver's own")
    p.add_argument("--gamma", help="Nash-MP only: step given as γ = ηβ (secondary-source normalisation)")
    p.add_argument("--steps", type=int, default=20, help="iterations K (default 20)")
    _numeric_opts(p)
    _common(p)
    p.set_defaults(handler=cmd_run)

    for register in _extra_commands():
        register(sub)
    return parser


def _extra_commands() -> list[Callable[[Any], None]]:
    """Sub-commands defined in their own modules."""
    from . import audit_cli, bench, check_cli, complexity_cli, plot_cli, search_cli

    return [check_cli.register, complexity_cli.register, audit_cli.register, plot_cli.register, bench.register,
            search_cli.register]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if getattr(args, "handler", None) is None:
            parser.print_help()
            return EXIT_BAD_INPUT
        handler: Handler = args.handler
        with threadpool_limits(blas_threads()):
            return handler(args)
    except NashproofError as exc:
        print(f"error: {exc}".replace("\n", " "), file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # e.g. piped into head
        return 0
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except RecursionError:
        print("error: input nested too deeply", file=sys.stderr)
        return EXIT_BAD_INPUT


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
