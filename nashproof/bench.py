"""``nashproof bench``: timings that back the speed targets (printed, never asserted in tests)."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from .backends import Backend, make_backend
from .balls import BallBackend, certified_policy
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
    balls = [] if args.no_balls else ball_rows(args.quick)
    if args.json:
        print(json.dumps([{"case": label, "seconds": round(t, 4)} for label, t in rows]
                         + [{"case": r["workload"], **r} for r in balls], indent=2, ensure_ascii=False))
        return 0
    print(table(["case", "seconds"], [[label, f"{t:.3f}"] for label, t in rows]))
    if balls:
        print("\nBall backend (certified) against the targets:")
        print(table(["workload", "measured", "target", "met"], [list(r.values()) for r in balls]))
    print("\nOne run on this machine; compare ratios within a run, not absolute times across machines.")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("bench", help="print timings for the speed targets (equilibrium digits, large float games)")
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
    from .metrics import evaluate
    from .numeric import NumericGame
    from .verify import trajectory_bits

    b = BallBackend(30, trajectory_bits(30, steps))
    eq = solve_equilibrium(game, BETA, BallBackend(30, b.bits))
    b.activate()
    traj = run(game, NashMP(BETA), steps, b)
    ng = NumericGame(game, b)
    for lp in traj.policies:
        evaluate(ng, lp, eq.logpi, b.scalar(BETA))


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
