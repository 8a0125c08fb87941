"""The ``nashproof`` command line. Every error is one ``error:`` line and a distinct exit code."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TextIO

from .. import __version__
from ..backends import BACKENDS, Backend, blas_limit, blas_threads, make_backend
from ..equilibrium import solve_equilibrium, winner_and_path
from ..errors import EXIT_BAD_INPUT, EXIT_SOLVER, InputError, NashproofError
from ..families import FAMILIES, load_game
from ..games import Game
from ..limits import require_fits
from ..metrics import evaluate, rounding_floor, shown
from ..numbers import (
    MAX_ACTIONS,
    MAX_DIGITS,
    MAX_STEPS,
    MIN_DIGITS,
    approx_str,
    fraction_str,
    parse_positive,
    parse_rational,
    plural,
)
from ..numeric import numeric_game
from ..report import Progress, table, wrap
from ..solvers import SOLVERS, make_solver, run
from ..suite import parse_step
from .args import DIGITS, count

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise InputError(message.replace("\n", " "))


def _fmt(b: Backend, x: object, digits: int) -> str:
    return b.to_str(x, digits)


def _backend(args: argparse.Namespace, game: Game, steps: int = 0, digits: int | None = None) -> Backend:
    """The backend the options ask for, refusing a game whose computation would not fit in memory
    (``digits``: the working precision when a command raises it beyond ``--digits``)."""
    require_fits(game.n, len(game.contexts), args.backend, digits or args.digits, steps,
                 f"the {args.backend} backend")
    return make_backend(args.backend, args.digits)


def _radius(x: object, text: str) -> str:
    """An upper bound on |printed value − every point of the ball|, rounded up: the exact value lies within
    ``text`` ± this (the meaning of ``equilibrium --json``'s radius)."""
    from ..backends.balls import printed_radius, to_arb, up_str

    try:
        return up_str(printed_radius(x, text))
    except (ValueError, ZeroDivisionError):  # not a decimal (e.g. nan): the ball's own radius
        return up_str(to_arb(x).rad())


def _emit(obj: object) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False))


# ------------------------------------------------------------------ games


def cmd_games(args: argparse.Namespace) -> int:
    if args.json:
        _emit([{"name": f.name, "summary": f.summary, "params": f.params, "example": f.example}
               for f in FAMILIES.values()])
        return 0
    width = max(len(f.name) for f in FAMILIES.values()) + 2
    for f in FAMILIES.values():
        print(wrap(f"{f.name.ljust(width)}{f.summary}", hang=" " * width))
        print(wrap(f"parameters (defaults): {f.params or 'none'}; e.g. {f.example}", indent=" " * width))
    print("\nEvery family also takes skew=r (π_ref ∝ rⁱ) or ref=a+b+... ; list values use '+'.")
    return 0


# ------------------------------------------------------------ equilibrium


def cmd_equilibrium(args: argparse.Namespace) -> int:
    game = load_game(args.game)
    beta = parse_rational(args.beta, "--beta")
    if beta < 0:
        raise InputError(f"--beta must be ≥ 0, got {args.beta}")
    if beta == 0:
        require_fits(game.n, len(game.contexts), "winner", what="--beta 0 (the exact von Neumann winner)")
        with Progress(None, "exact simplex (fallback), pivots") as bar:
            found = [winner_and_path(c, bar.update) for c in game.contexts]
        if args.json:
            _emit({"game": game.label, "beta": "0", "exact": True,
                   "policy": [[fraction_str(p) for p in pi] for pi, _ in found],
                   "method": [path for _, path in found],
                   "certificate": {"verified": "exact: max_y P(y ≻ π) ≤ 1/2 in integer arithmetic"}})
        else:
            for ctx, (pi, path) in zip(game.contexts, found):
                print(f"von Neumann winner, context {ctx.name} (exact, verified; {path}):")
                print(table(["action", "π*"], [[a, fraction_str(p)] for a, p in zip(game.actions, pi)]))
        return 0
    b = _backend(args, game)
    eq = solve_equilibrium(game, beta, b)
    probs = eq.probs()
    text = [[_fmt(b, p, b.digits) for p in pi] for pi in probs]
    radii = None
    if eq.certified:
        from ..backends.balls import printed_radius, up_str

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
    print(wrap("certificate: " + ", ".join(f"{k} = {v}" for k, v in cert.items()), hang="  "))
    return 0


# -------------------------------------------------------------------- run

RUN_COLUMNS = ("kl", "kl_reverse", "exploitability", "gap", "span")
RUN_JSON = ("kl", "kl_reverse", "exploitability", "gap", "exploitability_unreg", "l1", "span", "span_avg")


def cmd_run(args: argparse.Namespace) -> int:
    game = load_game(args.game)
    beta = parse_positive(args.beta, "--beta")
    eta = parse_step(args.eta, args.solver, beta)
    gamma = parse_positive(args.gamma, "--gamma") if args.gamma is not None else None
    if not 0 <= args.steps <= MAX_STEPS:
        raise InputError(f"--steps must lie in [0, {MAX_STEPS}], got {args.steps}")
    solver = make_solver(args.solver, beta, eta, gamma)
    if args.backend == "arb":
        from ..backends.balls import LOG2_10
        from ..verify import trajectory_bits

        b = _backend(args, game, args.steps, int(trajectory_bits(args.digits, args.steps) / LOG2_10))
    else:
        b = _backend(args, game, args.steps)
    if b.certified:  # balls: the horizon's radius growth (~3 bits per iteration) is paid for up front,
        from ..backends.balls import LOG2_10, BallBackend  # and π* is enclosed to the working precision
        from ..verify import trajectory_bits

        bits = trajectory_bits(args.digits, args.steps)
        eq = solve_equilibrium(game, beta, BallBackend(max(args.digits, int((bits - 48) / LOG2_10)), bits))
        b = BallBackend(args.digits, bits)
    else:
        eq = solve_equilibrium(game, beta, b)
    with Progress(args.steps, solver.name) as bar:
        traj = run(game, solver, args.steps, b, on_step=bar.update)
    ng = numeric_game(game, b)
    bs = b.scalar(beta)
    with Progress(len(traj.policies), "metrics") as bar:
        rows, floors = [], []
        for i, p in enumerate(traj.policies):
            rows.append(evaluate(ng, p, eq.logpi, bs))
            floors.append(rounding_floor(ng, p, eq.logpi, bs))
            bar.update(i + 1)
    if args.json:
        _emit({
            "game": game.label, "solver": solver.name, "parameters": solver.describe(),
            "beta": fraction_str(beta), "eta": fraction_str(solver.eta), "eta_decimal": approx_str(solver.eta, 12),
            "digits": b.digits, "backend": b.name, "equilibrium": eq.certificate.as_dict(b),
            "nonnegative_metrics": "a metric ≥ 0 in exact arithmetic that rounding made negative is shown as 0 "
                                   "here (as '< floor' in the table)",
            "iterations": [
                {"k": k, "queries": q, **(shown_row := {name: shown(ng, name, m.get(name), f, b.digits)[1]
                                                        for name in RUN_JSON}),
                 **({"radius": {name: _radius(m.get(name), shown_row[name]) for name in RUN_JSON}}
                    if b.certified else {})}
                for k, (q, m, f) in enumerate(zip(traj.queries, rows, floors))
            ],
        })
        return 0
    d = min(args.digits, 6)
    precision = f"mpmath at {b.digits} digits" if b.name == "mpmath" else b.name
    print(wrap(f"{solver.describe()} on {game.label} ({plural(game.n, 'action')}, "
               f"{plural(len(game.contexts), 'context')}), {precision}; values to {d} digits (--json: all)"))
    headers = ["k", "queries", "KL(π*‖π_k)", "KL(π_k‖π*)", "Expl_β", "gap", "span"]
    body = [[str(k), str(q), *(shown(ng, c, m.get(c), f, d)[0] for c in RUN_COLUMNS)]
            for k, (q, m, f) in enumerate(zip(traj.queries, rows, floors))]
    print(table(headers, body))
    print("gap: the duality gap of the β-regularised game, 2·Expl_β (the game is symmetric)")
    if any(cell.startswith("<") for row in body for cell in row):
        print("'< x': ≥ 0 in exact arithmetic, computed below 0 within the rounding floor x")
    return 0


# ----------------------------------------------------------------- parser

EXIT_CODES = """exit codes: 0 success (every claim passes, holds with equality or does not apply); 1 a claim
  is violated or an audited rule is flagged; 2 bad input or usage; 3 inconclusive only (rounding
  could decide: raise --digits); 4 a numerical solve failed or an internal error (one `error:` line)."""

EPILOG = """examples:
  nashproof games
  nashproof equilibrium rps:skew=1/2 --beta 1/10 --digits 60
  nashproof equilibrium mygame.json --beta 0          # exact von Neumann winner
  nashproof run cyclic:n=5,skew=1/3 --solver nash-mp --beta 1/20 --eta 2 --steps 30 --json
  nashproof run random:n=2048 --solver mmd --beta 1/10 --backend float --steps 50
  python -m nashproof --version
"""

GAME_HELP = "a JSON game file or a family spec such as cyclic:n=5,skew=1/3 (`nashproof games` lists them)"


def _common(p: argparse.ArgumentParser, json_help: str = "print JSON instead of tables") -> None:
    p.add_argument("--json", action="store_true", help=json_help)


def _numeric_opts(p: argparse.ArgumentParser, default: str = "mpmath") -> None:
    p.add_argument("--digits", type=DIGITS, default=50,
                   help=f"working precision in decimal digits, {MIN_DIGITS} to {MAX_DIGITS} (default 50)")
    p.add_argument("--backend", choices=BACKENDS, default=default,
                   help=f"arb (certified balls), mpmath (reference) or float (float64 screening); default "
                   f"{default}; any game up to {MAX_ACTIONS} actions whose computation fits in memory (the "
                   "estimate is printed when it does not)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nashproof", description="Check Nash-MP's convergence claims against exact "
                     "computation on small preference games.", epilog=EPILOG + "\n" + EXIT_CODES,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"nashproof {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("games", help="list the built-in game families",
                       epilog="examples:\n  nashproof games\n  nashproof games --json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(p)
    p.set_defaults(handler=cmd_games)

    p = sub.add_parser("equilibrium", help="π*_β to any precision, with a certificate",
                       epilog="example: nashproof equilibrium rps:skew=1/2 --beta 1/10 --digits 60 --json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    p.add_argument("--beta", required=True, help="regularisation β ≥ 0 (0: the exact von Neumann winner, "
                   "by HiGHS's float LP for the support and an exact solve and check on it)")
    _numeric_opts(p, "arb")
    _common(p)
    p.set_defaults(handler=cmd_equilibrium)

    p = sub.add_parser("run", help="run a solver and print every iterate's metrics",
                       epilog="example: nashproof run rps:skew=1/2 --solver nash-mp --beta 1/10 --steps 30",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("game", metavar="GAME", help=GAME_HELP)
    p.add_argument("--solver", required=True, help=f"one of: {', '.join(SOLVERS)}; or an inexact/sampled spec "
                   "such as nash-mp-inexact:delta=1e-3,perturb=adversarial (see README)")
    p.add_argument("--beta", required=True, help="regularisation β > 0, e.g. 1/10, 0.1, 1e-2")
    p.add_argument("--eta", help="step size η in the canonical normalisation (extragradient: EGPO's η_e); "
                   "Nash-MP also takes 'max' (just below η̄(β)) or 'r*max'; default: the solver's own")
    p.add_argument("--gamma", help="Nash-MP only: step given as γ = ηβ (secondary-source normalisation)")
    p.add_argument("--steps", type=count(0, MAX_STEPS), default=20, help=f"iterations K, 0 to {MAX_STEPS} (default 20)")
    _numeric_opts(p)
    _common(p)
    p.set_defaults(handler=cmd_run)

    for register in _extra_commands():
        register(sub)
    for command in sub.choices.values():
        _finish_help(command)
    return parser


def _finish_help(p: argparse.ArgumentParser) -> None:
    """Every sub-command's help ends with the exit codes; a bare --json flag gets its help text."""
    for action in p._actions:
        if action.help is None and "--json" in action.option_strings:
            action.help = "print JSON instead of tables"
    if EXIT_CODES not in (p.epilog or ""):
        p.epilog = ((p.epilog or "").rstrip("\n") + "\n\n" + EXIT_CODES).lstrip("\n")
        p.formatter_class = argparse.RawDescriptionHelpFormatter


def _extra_commands() -> list[Callable[[Any], None]]:
    """Sub-commands defined in their own modules (each module's ``register(sub)``)."""
    from .. import bench
    from . import audit, check, complexity, init, plot, prove, search

    return [check.register, complexity.register, audit.register, plot.register, bench.register, search.register,
            init.register, prove.register]


class _PipeSafe(io.TextIOBase):
    """stdout that survives a closed pipe (``nashproof check | head``): the rest of the output is
    dropped, the command runs to its end, and the exit code stays the verdict's."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                self._stream.write(text)
            except BrokenPipeError:
                self._break()
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._break()

    def isatty(self) -> bool:
        return not self.broken and self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def _break(self) -> None:
        self.broken = True
        try:  # send what is still buffered (and the flush at exit) to /dev/null, not to the closed pipe
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, io.UnsupportedOperation):
            pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    stdout = sys.stdout
    sys.stdout = safe = _PipeSafe(stdout)
    try:
        args = parser.parse_args(argv)
        if getattr(args, "handler", None) is None:
            parser.print_help()
            return EXIT_BAD_INPUT
        handler: Handler = args.handler
        with blas_limit(blas_threads()):
            return handler(args)
    except SystemExit as exc:  # --help and --version (argparse's own exits)
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    except NashproofError as exc:
        _error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except RecursionError:
        _error("input nested too deeply")
        return EXIT_BAD_INPUT
    except MemoryError:
        _error("out of memory (the input is too large for this machine)")
        return EXIT_BAD_INPUT
    except Exception as exc:  # a bug or an unforeseen numerical failure: one line, never a traceback
        if os.environ.get("NASHPROOF_DEBUG"):
            raise
        _error(f"internal error: {type(exc).__name__}: {exc} (rerun with NASHPROOF_DEBUG=1 for the traceback)")
        return EXIT_SOLVER
    finally:
        sys.stdout = stdout
        del safe


def _error(message: str) -> None:
    text = " ".join(message.split())
    try:
        print(f"error: {text[:2000]}", file=sys.stderr)
    except (OSError, ValueError):  # stderr itself is closed: the exit code still tells
        pass


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
