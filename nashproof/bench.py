"""``nashproof bench``: timings that back the speed targets (printed, never asserted in tests).

Every figure is one run on the machine it prints (CPU count, load average, BLAS); compare ratios
within a run, not absolute times across machines.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from threadpoolctl import threadpool_info, threadpool_limits

from .backends import make_backend
from .equilibrium import _float_solve, solve_equilibrium
from .families import load_game
from .games import Game
from .numeric import NumericGame
from .report import table
from .solvers import NashMP, run

BETA = Fraction(1, 10)


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _equilibrium(spec: str, beta: Fraction, digits: int) -> Callable[[], object]:
    game = load_game(spec)
    return lambda: solve_equilibrium(game, beta, make_backend("mpmath", digits))


def _mp_run(game: Game) -> Callable[[], object]:
    return lambda: run(game, NashMP(BETA), 30, make_backend("mpmath", 60))


def _float_cases(n: int) -> list[tuple[str, Callable[[], object]]]:
    """Float screening at n, in its parts: loading the exact game, π*_β, 50 Nash-MP steps."""
    spec = f"random:n={n},seed=1"
    games: list[Game] = []
    return [
        (f"float64 screening n = {n}: load the exact game", lambda: games.append(load_game(spec))),
        (f"float64 screening n = {n}: π*_β (conversion included)",
         lambda: solve_equilibrium(games[0], BETA, make_backend("float"))),
        (f"float64 screening n = {n}: 50 Nash-MP steps",
         lambda: run(games[0], NashMP(BETA), 50, make_backend("float"))),
    ]


def _continuation(n: int, threads: int) -> Callable[[], object]:
    ng = NumericGame(load_game(f"random:n={n},seed=1"), make_backend("float"))

    def go() -> object:
        with threadpool_limits(threads):
            return _float_solve(ng.P[0], ng.logref[0], float(1 / BETA))

    return go


def _check(spec: str) -> Callable[[], object]:
    from .check_cli import _catalogue
    from .suite import Task, run_task

    task = Task(spec, Fraction(1, 100), "nash-mp", Fraction(2), 60, 75,
                ("NMP-KL-STEP", "NMP-KL", "NMP-KL0", "NMP-EXPL", "EXPL-SANDWICH", "NMP-SPAN", "SPAN-STEP",
                 "NMP-CPLX", "NMP-UNREG"))
    return lambda: run_task(task, _catalogue([]))


def cases(quick: bool) -> list[tuple[str, Callable[[], object]]]:
    out: list[tuple[str, Callable[[], object]]] = []
    for n in (32, 64) if quick else (64, 128, 256):
        for beta in (Fraction(1, 10), Fraction(1, 100)):
            out.append((f"π*_β to 100 digits, n = {n}, β = {beta}",
                        _equilibrium(f"random:n={n},seed=1,skew=9/10", beta, 100)))
    for n in (8, 16):
        out.append((f"Nash-MP, 30 steps at 60 digits, n = {n}", _mp_run(load_game(f"random:n={n},seed=1,skew=9/10"))))
    out.append(("check: 9 Nash-MP claims, cyclic:n=11, 60 steps at 75 + 37 digits", _check("cyclic:n=11,skew=1/2")))
    for threads in (1, 2):
        out.append((f"float64 continuation n = 128, {threads} BLAS thread(s)", _continuation(128, threads)))
    for n in (1024,) if quick else (1024, 2048):
        out.extend(_float_cases(n))
    return out


def machine() -> str:
    """The machine a run was on: CPUs, load, Python, BLAS."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    blas = ", ".join(f"{i.get('internal_api')} ({i.get('num_threads')} threads)" for i in threadpool_info()
                     if i.get("user_api") == "blas") or "unknown BLAS"
    return (f"{os.cpu_count()} CPUs ({platform.machine()}), load average {load:.1f} at start, "
            f"Python {platform.python_version()}, {blas}")


def cmd_bench(args: argparse.Namespace) -> int:
    where = machine()
    rows = [(label, _time(fn)) for label, fn in cases(args.quick)]
    if args.json:
        print(json.dumps([{"case": label, "seconds": round(t, 4)} for label, t in rows], indent=2, ensure_ascii=False))
        return 0
    print(table(["case", "seconds"], [[label, f"{t:.3f}"] for label, t in rows]))
    print(f"\nOne run on this machine: {where}. Compare ratios within a run, not absolute times across machines.")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("bench", help="print timings for the speed targets (π*_β digits, check, float screening)")
    p.add_argument("--quick", action="store_true", help="smaller sizes")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_bench)
