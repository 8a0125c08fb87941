"""``nashproof bench``: CPU-time ratios that back the speed targets (printed, never asserted in tests).

Every row compares two sides (or times one). All rows are run interleaved — repetition r of every
side of every row before repetition r + 1 — at least five times, so a burst of load on the shared
machine hits both sides of a ratio alike. Times are CPU seconds (this process's, or a child
process's for the command-line rows), and each row reports the minimum and the median. A target
gets a verdict only when the ratio of minima and the ratio of medians agree on it; otherwise the
row says ``undecided: spread``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from threadpoolctl import threadpool_info

from .backends import Backend, Vec
from .backends.balls import BallBackend
from .families import load_game
from .games import Game
from .report import table
from .solvers import NashMP, run

BETA = Fraction(1, 10)
#: Repetitions of every side of every row (the issue asks for at least five).
REPETITIONS = 5


@dataclass
class Row:
    """A workload: ``sides`` (label → callable returning CPU seconds); the ratio is first / second side.

    ``target`` (≤ or ≥, threshold) gives a verdict; none: the figures alone.
    """

    label: str
    sides: dict[str, Callable[[], float]]
    target: tuple[str, float] | None = None
    times: dict[str, list[float]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"workload": self.label}
        for name, ts in self.times.items():
            out[name] = {"min": round(min(ts), 4), "median": round(statistics.median(ts), 4), "runs": len(ts)}
        if len(self.times) == 2:
            (a, ta), (b, tb) = self.times.items()
            r_min, r_med = min(ta) / min(tb), statistics.median(ta) / statistics.median(tb)
            out["ratio_min"], out["ratio_median"] = round(r_min, 3), round(r_med, 3)
            if self.target is not None:
                op, bound = self.target
                ok = [r <= bound if op == "≤" else r >= bound for r in (r_min, r_med)]
                out["target"] = f"{a} / {b} {op} {bound:g}"
                out["verdict"] = ("met" if ok[0] else "NOT met") if ok[0] == ok[1] else "undecided: spread"
        return out


def cpu(fn: Callable[[], object]) -> Callable[[], float]:
    """CPU seconds of one call in this process."""
    def go() -> float:
        start = time.process_time()
        fn()
        return time.process_time() - start
    return go


def process(argv: list[str]) -> Callable[[], float]:
    """CPU seconds (user + system) of one child process."""
    def go() -> float:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:4])}… exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return go


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "nashproof", *args]


def _highs_process(spec: str) -> list[str]:
    code = ("import numpy as np; from scipy.optimize import linprog; from nashproof.families import load_game; "
            "from nashproof.backends import float_matrix; "
            f"P = float_matrix(load_game({spec!r}).contexts[0].preference); n = len(P); "
            "r = linprog(-np.ones(n), A_ub=P, b_ub=np.ones(n), bounds=(0, None), method='highs-ipm'); "
            "assert r.status == 0")
    return [sys.executable, "-c", code]


def _highs_in_process(game: Game) -> Callable[[], object]:
    import numpy as np
    from scipy.optimize import linprog

    from .backends import float_matrix

    def go() -> object:
        P = float_matrix(game.contexts[0].preference)
        return linprog(-np.ones(len(P)), A_ub=P, b_ub=np.ones(len(P)), bounds=(0, None), method="highs-ipm")
    return go


def _winner(game: Game) -> Callable[[], object]:
    from .equilibrium import winner_and_path

    return lambda: winner_and_path(game.contexts[0])


def _certified_api(spec: str, digits: int) -> Callable[[], object]:
    from .equilibrium import solve_equilibrium

    return lambda: solve_equilibrium(load_game(spec), BETA, BallBackend(digits))


def _float_run(game: Game, steps: int) -> Callable[[], object]:
    from .backends import FloatBackend

    return lambda: run(game, NashMP(BETA), steps, FloatBackend())


def _numpy_loop(game: Game, steps: int) -> Callable[[], object]:
    step = numpy_step(game, float(BETA), 2.0)

    def go() -> None:
        for _ in range(steps):
            step()
    return go


def _iterations(step: Callable[[], object], count: int) -> Callable[[], object]:
    def go() -> None:
        for _ in range(count):
            step()
    return go


def rows(quick: bool, large: bool = False) -> list[Row]:
    """The benchmark rows: small sizes with ``quick`` (for tests; no targets: they are set for the full
    sizes), n = 4096 certified only with ``large``."""
    from .backends import FloatBackend, MpmathBackend

    out: list[Row] = []
    n_lp = 60 if quick else 120
    spec = f"random:n={n_lp},seed=1"
    out.append(Row(f"β = 0, n = {n_lp}: `nashproof equilibrium --beta 0` vs a HiGHS solve (both processes)",
                   {"nashproof": process(_cli("equilibrium", spec, "--beta", "0", "--json")),
                    "HiGHS": process(_highs_process(spec))}, ("≤", 3.0)))
    if not quick:
        big = load_game("random:n=1000,seed=1")
        out.append(Row("β = 0, n = 1000: exact winner (HiGHS, exact solve, exact check) vs HiGHS alone, in process",
                       {"exact": cpu(_winner(big)), "HiGHS": cpu(_highs_in_process(big))}))
    sizes = (128,) if quick else ((1024, 2048, 4096) if large else (1024, 2048))
    for n in sizes:
        spec = f"random:n={n},seed=1"
        target = ("≤", 2.0) if n <= 2048 else None
        out.append(Row(f"π*_β certified, β = 1/10, 50 digits, n = {n}: command line vs API (load included)",
                       {"CLI": process(_cli("equilibrium", spec, "--beta", "1/10", "--digits", "50", "--json")),
                        "API": cpu(_certified_api(spec, 50))}, target))
    n_run, steps = (128, 200) if quick else (512, 1000)
    g = load_game(f"random:n={n_run},seed=1")
    out.append(Row(f"float64 `run`, n = {n_run}, {steps} Nash-MP iterations vs a plain numpy loop",
                   {"run": cpu(_float_run(g, steps)), "numpy": cpu(_numpy_loop(g, steps))}, ("≤", 1.3)))
    n_it = 64 if quick else 256
    g = load_game(f"random:n={n_it},seed=1,skew=9/10")
    out.append(Row(f"Nash-MP iteration, n = {n_it}, 200 bits: mpmath backend vs arb backend (×5 iterations)",
                   {"mpmath": cpu(_iterations(_backend_step(g, MpmathBackend(60), {}), 5)),
                    "arb": cpu(_iterations(_backend_step(g, BallBackend(60, 200), {}), 5))}, ("≥", 30.0)))
    n_fl = 1024 if quick else 4096
    g = load_game(f"random:n={n_fl},seed=1")
    out.append(Row(f"float64 Nash-MP iteration, n = {n_fl}: float backend vs raw numpy (×5 iterations)",
                   {"float": cpu(_iterations(_backend_step(g, FloatBackend(), {}), 5)),
                    "numpy": cpu(_iterations(numpy_step(g, float(BETA), 2.0), 5))}, ("≤", 1.5)))
    if quick:
        for row in out:
            row.target = None
    return out


def measure(table_rows: list[Row], repetitions: int) -> None:
    """Every side of every row once per repetition, interleaved (one warm-up call per side first)."""
    for row in table_rows:
        for fn in row.sides.values():
            fn()
    for _ in range(repetitions):
        for row in table_rows:
            for name, fn in row.sides.items():
                row.times.setdefault(name, []).append(fn())


def machine() -> str:
    """The machine a run was on: CPUs, load, Python, BLAS."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    blas = ", ".join(f"{i.get('internal_api')} ({i.get('num_threads')} thread(s))" for i in threadpool_info()
                     if i.get("user_api") == "blas") or "unknown BLAS"
    return (f"{os.cpu_count()} CPUs ({platform.machine()}), load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
            f"Python {platform.python_version()}, {blas}")


def cmd_bench(args: argparse.Namespace) -> int:
    from .errors import InputError

    if not 5 <= args.repetitions <= 1000:
        raise InputError(f"--repetitions must lie in [5, 1000], got {args.repetitions}")
    before = machine()
    chosen = [r for r in rows(args.quick, args.large) if not args.only or any(t in r.label for t in args.only)]
    if not chosen:
        raise InputError("--only matches no row")
    measure(chosen, args.repetitions)
    summaries = [r.summary() for r in chosen]
    after = machine()
    if args.json:
        print(json.dumps({"machine_at_start": before, "machine_at_end": after, "repetitions": args.repetitions,
                          "time": "CPU seconds", "rows": summaries}, indent=2, ensure_ascii=False))
        return 0
    body = []
    for r, s in zip(chosen, summaries):
        sides = "; ".join(f"{k} {s[k]['min']:.3f} / {s[k]['median']:.3f}" for k in r.times)
        ratio = f"{s['ratio_min']:.2f}× / {s['ratio_median']:.2f}×" if "ratio_min" in s else "-"
        body.append([r.label, sides, ratio, s.get("target", "-"), s.get("verdict", "-")])
    print(table(["workload", "CPU s, min / median", "ratio (min / median)", "target", "verdict"], body))
    end = after.split("load average ")[1].split(",")[0]
    print(f"\n{args.repetitions} interleaved repetitions; at start: {before}; load average at end: {end}.")
    print("A verdict needs the ratio of minima and of medians on the same side of the target.")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("bench", help="CPU-time ratios for the speed targets, interleaved, min and median",
                       epilog="examples:\n  nashproof bench --quick --json > bench.json   # small sizes\n"
                              "  (without --quick: every row with its target, several minutes)",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes (about a minute; what the test runs)")
    p.add_argument("--large", action="store_true", help="add the certified n = 4096 row (several minutes a run)")
    p.add_argument("--repetitions", type=int, default=REPETITIONS,
                   help=f"runs of every side, interleaved (at least 5; default {REPETITIONS})")
    p.add_argument("--only", action="append", metavar="TEXT",
                   help="run only the rows whose workload contains TEXT (repeatable), e.g. --only 'β = 0'")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_bench)


# ------------------------------------------------------------------ one iteration, by hand and by backend


def numpy_step(game: Game, beta: float, eta: float) -> Callable[[], Vec]:
    """One Nash-MP iteration by hand on float64 arrays, returning the new log-policy of context 0: the same
    two products and log-sum-exps as the float backend, with its constants (ηβ log π_ref, 1 + ηβ) formed
    once as the backend does (a test checks that the iterates are the float ``run``'s, bit for bit)."""
    import numpy as np

    c = game.contexts[0]
    P = np.array([[float(p) for p in row] for row in c.preference])
    logref = np.log(np.array([float(r) for r in c.reference]))
    scaled_ref, denom = eta * beta * logref, 1 + eta * beta
    state: dict[str, Vec] = {"x": logref.copy()}

    def prox(centre: Vec, opponent: Vec) -> Vec:
        z = (centre + scaled_ref + eta * (P @ np.exp(opponent))) / denom
        m = z.max()
        out: Vec = z - (m + np.log(np.exp(z - m).sum()))
        return out

    def step() -> Vec:
        x = state["x"]
        state["x"] = prox(x, prox(x, x))
        return state["x"]

    return step


def _backend_step(game: Game, backend: Backend, repeat_state: dict[str, Any]) -> Callable[[], object]:
    from .numeric import NumericGame, Oracle

    ng = NumericGame(game, backend)
    oracle = Oracle(ng)
    solver = NashMP(BETA)
    repeat_state["x"] = [lr.copy() for lr in ng.logref]

    def step() -> None:
        if isinstance(backend, BallBackend):
            backend.activate()
        repeat_state["x"] = solver.step(ng, repeat_state["x"], 0, oracle).policy

    return step


