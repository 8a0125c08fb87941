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

from threadpoolctl import threadpool_info

from .backends import Backend, blas_limit, make_backend
from .backends.balls import BallBackend, certified_policy
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
        with blas_limit(threads):
            return _float_solve(ng.P[0], ng.logref[0], float(1 / BETA))

    return go


def _check(spec: str) -> Callable[[], object]:
    from .cli.check import _catalogue
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
    blas = ", ".join(f"{i.get('internal_api')} ({i.get('num_threads')} thread(s))" for i in threadpool_info()
                     if i.get("user_api") == "blas") or "unknown BLAS"
    return (f"{os.cpu_count()} CPUs ({platform.machine()}), load average {load:.1f} at start, "
            f"Python {platform.python_version()}, {blas}")


def cmd_bench(args: argparse.Namespace) -> int:
    where = machine()
    rows = [(label, _time(fn)) for label, fn in cases(args.quick)]
    balls = [] if args.no_balls else ball_rows(args.quick)
    if args.json:
        print(json.dumps([{"case": label, "seconds": round(t, 4)} for label, t in rows]
                         + [{"case": r["workload"], **r} for r in balls], indent=2, ensure_ascii=False))
        return 0
    print(table(["case", "seconds"], [[label, f"{t:.3f}"] for label, t in rows]))
    if balls:
        print("\nBall backend (certified) against the targets:")
        print(table(["workload", "measured", "target", "met"], [list(r.values()) for r in balls]))
    print(f"\nOne run on this machine: {where}. Compare ratios within a run, not absolute times across machines.")
    return 0


def register(sub: Any) -> None:
    import argparse

    p = sub.add_parser("bench", help="print timings for the speed targets (π*_β digits, check, float screening)",
                       epilog="examples:\n  nashproof bench --quick --no-balls     # smaller sizes, no ball ratios\n"
                              "  nashproof bench --json > bench.json    # every figure, for a record\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smaller sizes")
    p.add_argument("--no-balls", action="store_true", help="skip the ball-backend ratios (about a minute)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_bench)


# ------------------------------------------------------------------ ball backend (issue: certified verdicts)


def _per_step(step: Callable[[], object], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        step()
    return (time.perf_counter() - start) / repeat


def _plain_mpmath_step(game: Game, beta: Fraction, eta: Fraction, bits: int) -> Callable[[], object]:
    """Nash-MP written as a plain loop over mpmath numbers (lists, no backend, no numpy)."""
    import mpmath

    ctx = mpmath.MPContext()
    ctx.prec = bits
    c = game.contexts[0]
    P = [[ctx.mpf(p.numerator) / p.denominator for p in row] for row in c.preference]
    logref = [ctx.log(ctx.mpf(r.numerator) / r.denominator) for r in c.reference]
    eb, e = ctx.mpf((eta * beta).numerator) / (eta * beta).denominator, ctx.mpf(eta.numerator) / eta.denominator
    state = {"x": list(logref)}

    def prox(centre: list[Any], opponent: list[Any]) -> list[Any]:
        sigma = [ctx.exp(t) for t in opponent]
        q = [ctx.fsum(a * b for a, b in zip(row, sigma)) for row in P]
        z = [(ce + eb * lr + e * qi) / (1 + eb) for ce, lr, qi in zip(centre, logref, q)]
        m = max(z)
        lse = m + ctx.log(ctx.fsum(ctx.exp(t - m) for t in z))
        return [t - lse for t in z]

    def step() -> None:
        x = state["x"]
        state["x"] = prox(x, prox(x, x))

    return step


def _raw_numpy_step(game: Game, beta: float, eta: float) -> Callable[[], object]:
    """The same two products and log-sum-exps on float64 arrays, by hand."""
    import numpy as np

    c = game.contexts[0]
    P = np.array([[float(p) for p in row] for row in c.preference])
    logref = np.log(np.array([float(r) for r in c.reference]))
    state = {"x": logref.copy()}

    def prox(centre: Any, opponent: Any) -> Any:
        z = (centre + eta * beta * logref + eta * (P @ np.exp(opponent))) / (1 + eta * beta)
        m = z.max()
        return z - (m + np.log(np.exp(z - m).sum()))

    def step() -> None:
        x = state["x"]
        state["x"] = prox(x, prox(x, x))

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


def _certified_run(game: Game, steps: int) -> None:
    """π*, the trajectory and every metric of every iterate, in balls (what a certified check collects)."""
    from .verify import collect_certified

    collect_certified(game, NashMP(BETA), steps, 30)


def ball_rows(quick: bool) -> list[dict[str, str]]:
    """The issue's table, measured in one run: (workload, measured, target, met)."""
    from .backends import FloatBackend, MpmathBackend

    n_iter, n_float, n_eq, n_big = (128, 1024, 128, 256) if quick else (256, 4096, 256, 1024)
    rows: list[dict[str, str]] = []
    game = load_game(f"random:n={n_iter},seed=1,skew=9/10")
    ball = _per_step(_backend_step(game, BallBackend(60, 200), {}), 5)
    mpb = _per_step(_backend_step(game, MpmathBackend(60), {}), 1)
    plain = _per_step(_plain_mpmath_step(game, BETA, Fraction(2), 200), 1)
    rows.append({"workload": f"Nash-MP iteration, n = {n_iter}, 200 bits: arb vs mpmath backend",
                 "measured": f"{mpb / ball:.1f}× ({ball * 1e3:.1f} ms vs {mpb * 1e3:.0f} ms)",
                 "target": "≥ 30×", "met": _yes(mpb / ball >= 30)})
    rows.append({"workload": f"Nash-MP iteration, n = {n_iter}, 200 bits: arb vs a plain mpmath loop",
                 "measured": f"{plain / ball:.1f}× (plain loop {plain * 1e3:.0f} ms)", "target": "-", "met": "-"})
    big = load_game(f"random:n={n_float},seed=1")
    fl = _per_step(_backend_step(big, FloatBackend(), {}), 5)
    raw = _per_step(_raw_numpy_step(big, float(BETA), 2.0), 5)
    rows.append({"workload": f"float64 Nash-MP iteration, n = {n_float}: float backend / raw numpy",
                 "measured": f"{fl / raw:.2f}× ({fl * 1e3:.1f} ms vs {raw * 1e3:.1f} ms)",
                 "target": "≤ 1.5×", "met": _yes(fl / raw <= 1.5)})
    eq_game = load_game(f"random:n={n_eq},seed=1,skew=9/10")
    for beta in (Fraction(1, 10), Fraction(1, 100)):
        start = time.perf_counter()
        certified_policy(eq_game, beta, 100)
        t = time.perf_counter() - start
        rows.append({"workload": f"π*_β certified to 100 digits, n = {n_eq}, β = {beta}",
                     "measured": f"{t:.2f} s", "target": "≤ 5 s", "met": _yes(t <= 5)})
    big_game = load_game(f"random:n={n_big},seed=1,skew=9/10")
    t = _time(lambda: _certified_run(big_game, 100))
    rows.append({"workload": f"n = {n_big}: π*, 100 Nash-MP iterations and all metrics, certified",
                 "measured": f"{t:.1f} s", "target": "≤ 30 s", "met": _yes(t <= 30)})
    return rows


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"
