"""Plots: metric against iterations or queries on a log scale, each claim's bound as an envelope.

The library leaves matplotlib's backend alone (inline in Jupyter); the command line selects Agg.
Observations are solid lines with markers;
bounds are dashed in the same colour; violations are red crosses.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .claims import Catalogue, builtin_catalogue
from .games import Game
from .numbers import eta_str, fraction_str
from .solvers import NashMD, Solver
from .verify import bound_series, check_claim, collect

LABELS = {
    "kl": "KL(π*‖π_k)", "kl_reverse": "KL(π_k‖π*)", "exploitability": "Expl_β(π_k)", "gap": "duality gap 2·Expl_β",
    "span": "span(log π_k − log π*)", "l1": "‖π_k − π*‖₁", "exploitability_unreg": "Expl_0(π_k)",
}


def _positive(xs: Sequence[float], ys: Sequence[float | None]) -> tuple[list[float], list[float]]:
    pts = [(x, y) for x, y in zip(xs, ys) if y is not None and y > 0]
    return [p[0] for p in pts], [p[1] for p in pts]


def draw_run(ax: Any, game: Game, solver: Solver, steps: int, metric: str, x: str, digits: int, backend: str,
             catalogue: Catalogue, color: str, claim_ids: Sequence[str] | None = None,
             ignore_hypotheses: bool = False) -> list[str]:
    """One solver's curve and its claims' envelopes on ``ax``; returns the violated claim ids."""
    if getattr(solver, "perturbed", False):  # inexact and sampled solvers: √KL, step errors, claim values
        from .verify import collect_inexact

        data = collect_inexact(game, solver, steps, digits, backend)  # type: ignore[arg-type]
    else:
        data = collect(game, solver, steps, digits, backend=backend)
    xs = [float(v) for v in data.values["N"]] if x == "queries" else list(range(steps + 1))
    observed = [float(v) for v in data.values[metric]]
    eta = "2/(β(t+2))" if isinstance(solver, NashMD) and solver.schedule else eta_str(solver.eta)
    px, py = _positive(xs, observed)
    if px:
        ax.plot(px, py, "-", marker="o", ms=2.5, lw=1.4, color=color, label=f"{solver.name} (η = {eta})")
    else:  # nothing for a log axis (e.g. every value 0): draw the values themselves, plot_run goes linear
        ax.plot(xs, observed, "-", marker="o", ms=2.5, lw=1.4, color=color, label=f"{solver.name} (η = {eta})",
                gid="nashproof-nonpositive")
    violated: list[str] = []
    for claim in catalogue:
        if claim_ids is not None and claim.id not in claim_ids:
            continue
        if claim.metric != metric or not claim.applies_to(solver.name) or claim.kind not in ("bound", "rate"):
            continue
        verdict = check_claim(claim, data, ignore_hypotheses=ignore_hypotheses)
        if verdict.status == "not-applicable":
            continue
        if claim.kind == "bound":
            bound = [None if b is None else float(b) for b in bound_series(claim, data)]
        else:
            if verdict.min_constant is None or verdict.claimed_rate is None:
                continue
            c, r = float(verdict.min_constant), float(verdict.claimed_rate)
            scale = float(claim.scale.subs({s: float(solver.beta) for s in claim.scale.free_symbols}))
            bound = [c * scale * r**k for k in range(steps + 1)]
        bx, by = _positive(xs, bound)
        kind = "bound" if claim.kind == "bound" else "rate, smallest constant"
        ax.plot(bx, by, "--", lw=1.1, color=color, alpha=0.8, label=f"{claim.id} [{claim.provenance}] {kind}")
        if verdict.status == "violated":
            violated.append(claim.id)
            bad = [(xv, o) for xv, o, b in zip(xs, observed, bound) if b is not None and o > b and o > 0]
            if bad:
                ax.plot([p[0] for p in bad], [p[1] for p in bad], "x", color="red", ms=7, mew=2,
                        label=f"{claim.id} violated")
    return violated


def plot_run(game: Game, solvers: Sequence[Solver], steps: int, metric: str = "kl", x: str = "iterations",
             digits: int = 30, backend: str = "mpmath", catalogue: Catalogue | None = None, path: str | None = None,
             title: str | None = None, claim_ids: Sequence[str] | None = None,
             ignore_hypotheses: bool = False) -> Figure:
    """Metric against iterations (or queries) for each solver, with claim envelopes; saved to ``path``."""
    cat = catalogue or builtin_catalogue()
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, solver in enumerate(solvers):
        draw_run(ax, game, solver, steps, metric, x, digits, backend, cat, colors[i % len(colors)], claim_ids,
                 ignore_hypotheses)
    positive = [line for line in ax.get_lines() if line.get_gid() != "nashproof-nonpositive"
                and bool((np.asarray(line.get_ydata(), dtype=float) > 0).any())]
    if positive:
        ax.set_yscale("log")
    else:
        # No positive value anywhere: a log axis would be empty. Say so on the figure and to the caller.
        label = LABELS.get(metric, metric)
        note = f"{label} ≤ 0 at every iterate: nothing to show on a log axis; drawn on a linear one"
        ax.text(0.5, 0.8, note, transform=ax.transAxes, ha="center", va="center", fontsize=9,
                bbox={"facecolor": "white", "edgecolor": "#999", "boxstyle": "round"})
        fig.nashproof_note = note  # type: ignore[attr-defined]
    ax.set_xlabel("preference queries N" if x == "queries" else "iteration k")
    ax.set_ylabel(LABELS.get(metric, metric))
    beta = fraction_str(solvers[0].beta) if solvers else "?"
    ax.set_title(title or f"{game.label}, β = {beta}")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
    return fig


def png_base64(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")
