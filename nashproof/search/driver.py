"""The search driver: every target's tasks spread over processes, the best instance confirmed, and
the exit status.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath

from ..claims import Claim
from ..claims import sched as SCHED
from ..claims import start_ref as START_REF
from ..errors import InputError
from ..games import Game
from ..parallel import pmap
from ..solvers import NashMD
from .confirm import Confirmation, confirm
from .objective import SearchTask, run_search_task
from .space import DEFAULT_SPECS, FLOAT_TOLERANCE, FloatHypotheses, Instance, Space, admissible, decode
from .targets import Target, claim_targets

mp = mpmath.mp


@dataclass
class TargetResult:
    target: Target
    instance: Instance | None
    float_ratio: float
    confirmation: Confirmation | None
    evaluations: int
    seconds: float
    tasks: int
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        c = self.confirmation
        return {"target": self.target.label, "statement": self.target.statement + 1,
                "term": self.target.text or None,
                "ratio": mp.nstr(c.ratio, 17) if c is not None else None,
                "slack": mp.nstr(1 - c.ratio, 6) if c is not None else None,
                "ratio_error": mp.nstr(c.error, 3) if c is not None else None,
                "at_k": c.k if c is not None else None,
                "status": c.status if c is not None else None, "digits": c.digits if c is not None else None,
                "float_ratio": self.float_ratio, "evaluations": self.evaluations,
                "seconds": round(self.seconds, 2), "tasks": self.tasks,
                "instance": self.instance.as_dict() if self.instance is not None else None,
                **({"note": self.note} if self.note else {})}


@dataclass
class SearchConfig:
    sizes: tuple[int, ...] = (2, 3, 4, 5, 6)
    solver: str | None = None  # a full solver spec (e.g. nash-mp-inexact:delta=1/100); None: the claim's first
    contexts: int = 1
    beta_range: tuple[Fraction, Fraction] = (Fraction(1, 100), Fraction(1))
    eta: Fraction | None = None
    eta_floor: Fraction = Fraction(1, 2)
    steps: int | None = None
    evals: int = 2000
    restarts: int = 2
    seed: int = 0
    max_log10_logit: int = 12
    ignore_hypotheses: bool = False
    digits: int = 60
    jobs: int | None = None
    dask: str | None = None
    claim_modules: tuple[str, ...] = ()
    targets: tuple[int, ...] | None = None  # indices into claim_targets; None: all
    game: Game | None = None
    free_reference: bool = False
    float_tolerance: float = FLOAT_TOLERANCE
    on_done: Callable[[int], None] | None = field(default=None, repr=False)


def default_steps(claim: Claim) -> int:
    return 4 if claim.kind == "bound" and "*" not in claim.solvers else 1


def space_for(claim: Claim, n: int, cfg: SearchConfig) -> Space:
    solver = cfg.solver or (claim.solvers[0] if "*" not in claim.solvers else "nash-mp")
    solver = DEFAULT_SPECS.get(solver, solver)
    if solver.split(":")[0].strip() not in claim.solvers and "*" not in claim.solvers:
        raise InputError(f"solver {solver!r} is not one of claim {claim.id}'s ({', '.join(claim.solvers)})")
    free = {SCHED, START_REF} & set().union(*(h.free_symbols for h in claim.hypotheses)) if claim.hypotheses else set()
    schedule = solver == NashMD.name and SCHED in free and not cfg.ignore_hypotheses
    free_start = claim.kind != "static" and (START_REF not in free or cfg.ignore_hypotheses)
    return Space(n, solver, cfg.steps or default_steps(claim), cfg.contexts, cfg.beta_range, cfg.eta,
                 eta_floor=cfg.eta_floor, schedule=schedule, free_start=free_start, max_log10_logit=cfg.max_log10_logit,
                 ignore_hypotheses=cfg.ignore_hypotheses, game=cfg.game, free_reference=cfg.free_reference,
                 float_tolerance=cfg.float_tolerance)


def search(claim: Claim, cfg: SearchConfig) -> list[TargetResult]:
    """Search every target of the claim (or the chosen ones); confirm each best instance exactly."""
    all_targets = claim_targets(claim)
    if cfg.targets is not None and any(i >= len(all_targets) for i in cfg.targets):
        raise InputError(f"claim {claim.id} has {len(all_targets)} targets: "
                         + "; ".join(f"{i + 1} = {t.label}" for i, t in enumerate(all_targets)))
    chosen = all_targets if cfg.targets is None else [all_targets[i] for i in cfg.targets]
    sizes = (cfg.game.n,) if cfg.game is not None else cfg.sizes
    tasks = [SearchTask(t, space_for(claim, n, cfg), cfg.evals, r, cfg.seed, cfg.claim_modules)
             for t in chosen for n in sizes for r in range(cfg.restarts)]
    results = pmap(run_search_task, tasks, cfg.jobs, cfg.dask, cfg.on_done)
    out = []
    for target in chosen:
        mine = [r for r in results if r.task.target == target]
        best = max(mine, key=lambda r: r.ratio)  # first of equals: task order, not completion order
        evals = sum(r.evaluations for r in mine)
        secs = sum(r.seconds for r in mine)
        if not best.x or best.ratio <= 0:
            out.append(TargetResult(target, None, best.ratio, None, evals, secs, len(mine),
                                    "no instance with a defined ratio was found"))
            continue
        inst = admissible(claim, decode(best.task.space, best.x, FloatHypotheses(claim)))
        conf = confirm(claim, target, inst, cfg.digits, cfg.ignore_hypotheses)
        out.append(TargetResult(target, inst, best.ratio, conf, evals, secs, len(mine)))
    return out


def exit_status(results: Sequence[TargetResult]) -> str:
    """``violated`` if any confirmed instance violates the claim, else ``inconclusive``, ``pass``, …"""
    statuses = {r.confirmation.status for r in results if r.confirmation is not None}
    for s in ("violated", "inconclusive", "pass", "equality", "not-applicable"):
        if s in statuses:
            return s
    return "inconclusive"  # nothing was confirmed: never a pass
