"""Branch and bound over boxes of logits: decide, bisect the undecided, stop at a counterexample or a budget.

Boxes are independent: each round's frontier is cut into chunks that the runner
(:func:`nashproof.parallel.pmap`) spreads over local processes or a Dask cluster. Results do not
depend on the number of workers: the frontier is processed in a fixed order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..parallel import check_jobs, pmap
from .boxes import Box
from .decide import DISPROVED, PROVED, Decision, decide
from .params import ParamSpec, decide_param
from .problem import Spec, context
from .reduced import NEGATIVE, ReducedSpec, decide_reduced, reduced_context, reduction
from .star import prepare

#: Boxes per round (a round is one parallel map).
ROUND = 2048


@dataclass(frozen=True)
class Budget:
    boxes: int = 200_000
    depth: int = 80  # total halvings of a box (over all dimensions)
    seconds: float = 600.0


@dataclass
class Outcome:
    status: str  # proved, disproved, undecided
    leaves: list[tuple[Box, Decision]] = field(default_factory=list)  # proved boxes
    undecided: list[Box] = field(default_factory=list)
    counterexample: tuple[Box, Decision] | None = None
    boxes: int = 0
    seconds: float = 0.0
    worst_ratio: float | None = None
    reason: str = ""


Problem = Spec | ParamSpec | ReducedSpec


def _decide_chunk(item: tuple[Problem, list[Box]]) -> list[Decision]:
    spec, boxes = item
    if isinstance(spec, ReducedSpec):
        return [decide_reduced(spec, b) for b in boxes]
    if isinstance(spec, ParamSpec):
        return [decide_param(spec, b) for b in boxes]
    ctx = context(spec)
    return [decide(ctx, b) for b in boxes]


def branch_and_bound(spec: Problem, region: Box, budget: Budget, jobs: int | None = 1, dask: str | None = None,
                     on_progress: Callable[[int, int, int], None] | None = None) -> Outcome:
    """Decide the claim of ``spec`` on every box of ``region``. ``on_progress(done, proved, frontier)``."""
    # certify π* (and its neighbourhood) once here: forked workers inherit them
    if isinstance(spec, Spec):
        prepare(context(spec))
    elif isinstance(spec, ParamSpec):
        context(spec.base)
    else:
        reduced_context(spec)
    workers = 1 if dask is None and jobs == 1 else check_jobs(jobs) if dask is None else 8
    start = time.monotonic()
    out = Outcome("proved")
    frontier = [region]
    while frontier:
        elapsed = time.monotonic() - start
        if out.boxes >= budget.boxes or elapsed >= budget.seconds:
            out.status, out.undecided = "undecided", frontier
            out.reason = (f"the box budget ({budget.boxes}) ran out" if out.boxes >= budget.boxes
                          else f"the time budget ({budget.seconds:g} s) ran out")
            break
        batch, frontier = frontier[:ROUND], frontier[ROUND:]
        size = max(1, -(-len(batch) // (workers * 4)))
        chunks = [(spec, batch[i:i + size]) for i in range(0, len(batch), size)]
        if workers == 1 and dask is None:
            results = [_decide_chunk(c) for c in chunks]
        else:
            results = pmap(_decide_chunk, chunks, jobs=jobs, dask=dask)
        children: list[Box] = []
        deep: list[Box] = []
        for box, d in zip(batch, (d for r in results for d in r)):
            out.boxes += 1
            if d.ratio is not None and (out.worst_ratio is None or d.ratio > out.worst_ratio):
                out.worst_ratio = d.ratio
            if d.status == NEGATIVE:  # the reduction's superset: not a counterexample, and no proof
                out.status, out.undecided = "undecided", [box, *frontier]
                out.reason = (f"the reduced margin is negative at (δ, z*, c) = ({', '.join(map(str, d.point))}) "
                              f"({d.margin}): the reduction cannot prove the claim")
                out.seconds = time.monotonic() - start
                return out
            if d.status == DISPROVED:
                out.status, out.counterexample = "disproved", (box, d)
                out.seconds = time.monotonic() - start
                return out
            if d.status == PROVED:
                out.leaves.append((box, d))
            elif box.level() >= budget.depth:
                deep.append(box)
            else:
                children.extend(box.split(d.split))
        if deep:
            out.undecided.extend(deep)
        frontier = children + frontier
        if on_progress is not None:
            on_progress(out.boxes, len(out.leaves), len(frontier) + len(out.undecided))
    if out.undecided and out.status == "proved":
        out.status = "undecided"
        out.reason = out.reason or f"boxes at the depth budget ({budget.depth} halvings) are still undecided"
    out.seconds = time.monotonic() - start
    return out


def prove_region(spec: Spec | ParamSpec, region: Box, budget: Budget, jobs: int | None = 1, dask: str | None = None,
                 on_progress: Callable[[int, int, int], None] | None = None,
                 reduce: bool = True) -> tuple[Outcome, tuple[ReducedSpec, Outcome] | None]:
    """Decide the claim on the region: over a 2-action parameter box first in the reduction's three
    coordinates (:mod:`nashproof.prove.reduced`, half the budget at most), then, if that did not prove it,
    in the original ones with what is left. Returns the deciding outcome and the reduction's (or None)."""
    red = reduction(spec, region.hi[0]) if reduce and isinstance(spec, ParamSpec) else None
    if red is None:
        return branch_and_bound(spec, region, budget, jobs, dask, on_progress), None
    half = Budget(max(1, budget.boxes // 2), budget.depth, budget.seconds / 2)
    first = branch_and_bound(red, red.region, half, jobs, dask, on_progress)
    if first.status == "proved":
        return first, (red, first)
    left = Budget(max(1, budget.boxes - first.boxes), budget.depth, max(1.0, budget.seconds - first.seconds))
    return branch_and_bound(spec, region, left, jobs, dask, on_progress), (red, first)
