"""Solvers by name, and a run of one: :func:`make_solver` and :func:`run`.

The exact methods (Nash-MP and its baselines) are :mod:`nashproof.solvers.exact`, re-exported here; the
inexact, sampled and policy-gradient ones are :mod:`nashproof.solvers.inexact`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from ..backends import Backend, make_backend
from ..errors import InputError
from ..games import Game
from ..numeric import LogPolicy, Oracle, check_log_policy, numeric_game
from .exact import MMD as MMD
from .exact import MWU as MWU
from .exact import OMD as OMD
from .exact import SOLVERS as SOLVERS
from .exact import Extragradient as Extragradient
from .exact import NashMD as NashMD
from .exact import NashMP as NashMP
from .exact import ProximalPoint as ProximalPoint
from .exact import Solver as Solver
from .exact import Step as Step

# inexact and sampled solvers (nashproof.solvers.inexact, issue 11): a separate registry (SOLVERS stays the exact
# methods), built from specs such as nash-mp-inexact:delta=1e-3,perturb=adversarial by make_solver
from .inexact import INEXACT
from .inexact import build as build_inexact


def make_solver(name: str, beta: Fraction, eta: Fraction | None = None, gamma: Fraction | None = None) -> Solver:
    base, _, params = name.partition(":")
    if base.strip() in INEXACT:  # inexact and sampled solvers take key=value parameters (nashproof.solvers.inexact)
        if gamma is not None:
            raise InputError("--gamma is Nash-MP's alternative normalisation; inexact solvers take --eta")
        return build_inexact(base.strip(), beta, eta, params)
    cls = SOLVERS.get(name)
    if cls is None:
        raise InputError(f"unknown solver {name!r}; choose from {', '.join([*SOLVERS, *INEXACT])}")
    if gamma is not None:
        if cls is not NashMP:
            raise InputError("--gamma is Nash-MP's alternative normalisation; other solvers take --eta")
        return NashMP(beta, eta, gamma)
    return cls(beta, eta)


@dataclass
class Trajectory:
    """Iterates π_0..π_K (log-probabilities), cumulative queries, and half steps where defined."""

    game: Game
    solver: Solver
    backend: Backend
    policies: list[LogPolicy] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    samples: list[int] = field(default_factory=list)  # cumulative duels (sampled solvers; 0 for exact queries)
    halves: list[LogPolicy | None] = field(default_factory=list)


def run(
    game: Game,
    solver: Solver,
    steps: int,
    backend: Backend | str = "mpmath",
    init: LogPolicy | None = None,
    on_step: Callable[[int], None] | None = None,
    digits: int = 50,
) -> Trajectory:
    """Run ``steps`` iterations from π_0 = π_ref (or the game's start logits, or ``init``); keep every iterate.

    ``backend`` is a backend object or, as for :func:`nashproof.verify.collect`, its name (``"mpmath"``,
    ``"float"`` or ``"arb"``, built at ``digits`` decimal digits).
    """
    if steps < 0:
        raise InputError(f"steps must be ≥ 0, got {steps}")
    if isinstance(backend, str):
        backend = make_backend(backend, digits)
    ng = numeric_game(game, backend)
    oracle = Oracle(ng)
    if init is None and not game.starts_at_reference():
        init = [backend.log_normalize(backend.vector(c.start)) if c.start is not None else lr.copy()
                for c, lr in zip(game.contexts, ng.logref)]
    logpi = [lr.copy() for lr in ng.logref] if init is None else init
    traj = Trajectory(game, solver, backend, [logpi], [0], [0], [])
    with ng.backend.batch():
        for t in range(steps):
            result = solver.step(ng, logpi, t, oracle)
            check_log_policy(ng, result.policy, solver.name)
            logpi = result.policy
            traj.policies.append(logpi)
            traj.queries.append(oracle.count)
            traj.samples.append(oracle.samples)
            traj.halves.append(result.half)
            if result.half is not None:  # its Pπ served the step; the products kept are the iterates' (metrics)
                ng.forget(result.half)
            if on_step is not None:
                on_step(t + 1)
    return traj
