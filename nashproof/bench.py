"""``nashproof bench``: timings that back the speed targets (printed, never asserted in tests)."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from .backends import make_backend
from .equilibrium import solve_equilibrium
from .families import load_game
from .games import Game
from .report import table
from .solvers import NashMP, run

BETA = Fraction(1, 10)


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _equilibrium(game: Game) -> Callable[[], object]:
    return lambda: solve_equilibrium(game, BETA, make_backend("mpmath", 60))


def _mp_run(game: Game) -> Callable[[], object]:
    return lambda: run(game, NashMP(BETA), 30, make_backend("mpmath", 60))


def _float(game: Game) -> Callable[[], object]:
    return lambda: (solve_equilibrium(game, BETA, make_backend("float")),
                    run(game, NashMP(BETA), 50, make_backend("float")))


def cases(quick: bool) -> list[tuple[str, Callable[[], object]]]:
    sizes = (8, 16, 32) if quick else (8, 16, 32, 64)
    out: list[tuple[str, Callable[[], object]]] = []
    for n in sizes:
        out.append((f"π*_β to 60 digits, n = {n}", _equilibrium(load_game(f"random:n={n},seed=1,skew=9/10"))))
    for n in sizes[:2]:
        out.append((f"Nash-MP, 30 steps at 60 digits, n = {n}", _mp_run(load_game(f"random:n={n},seed=1,skew=9/10"))))
    for n in ((1024,) if quick else (1024, 2048)):
        out.append((f"float64: π*_β and 50 Nash-MP steps, n = {n}", _float(load_game(f"random:n={n},seed=1"))))
    return out


def cmd_bench(args: argparse.Namespace) -> int:
    rows = []
    for label, fn in cases(args.quick):
        rows.append((label, _time(fn)))
    if args.json:
        print(json.dumps([{"case": label, "seconds": round(t, 4)} for label, t in rows], indent=2, ensure_ascii=False))
        return 0
    print(table(["case", "seconds"], [[label, f"{t:.3f}"] for label, t in rows]))
    print("\nOne run on this machine; compare ratios within a run, not absolute times across machines.")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("bench", help="print timings for the speed targets (equilibrium digits, large float games)")
    p.add_argument("--quick", action="store_true", help="smaller sizes")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_bench)
