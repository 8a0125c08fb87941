"""Measured evidence for ``nashproof complexity --game``: KL₀ of the game's actual start, and the first
iterate at which each method reaches ε on the game (library functions; the command only prints).
"""

from __future__ import annotations

from fractions import Fraction

from .equilibrium import solve_equilibrium
from .errors import ViolationError
from .games import Game
from .metrics import kl
from .numeric import NumericGame
from .query_complexity import Complexity
from .solvers import make_solver, run


def game_kl0(game: Game, beta: Fraction, digits: int = 50) -> str:
    """KL(π*_β‖π_0), ρ-averaged, as a decimal string at ``digits`` digits.

    π_0 is where a run on ``game`` starts: the file's start logits (π_0 ∝ exp(logits)) where it
    has them, otherwise π_ref.
    """
    from .backends import MpmathBackend

    b = MpmathBackend(digits)
    eq = solve_equilibrium(game, beta, b)
    ng = NumericGame(game, b)
    starts = [b.log_normalize(b.vector(c.start)) if c.start is not None else ng.logref[i]
              for i, c in enumerate(game.contexts)]
    value = ng.average([kl(ng, eq.logpi[c], starts[c]) for c in range(ng.k)])
    return b.to_str(value, digits - 5)


def measure(game: Game, result: Complexity, max_steps: int, digits: int) -> None:
    """Run each method on the game (from its start) and record the first k with KL(π*‖π_k) ≤ ε.

    Raises :class:`ViolationError` when a method has not reached ε after the number of iterations its
    claim predicts (the prediction is then not an upper bound on this game).
    """
    from .backends import MpmathBackend

    b = MpmathBackend(digits)
    beta = result.chosen_beta or result.beta
    eq = solve_equilibrium(game, beta, b)
    ng = NumericGame(game, b)
    target = b.scalar(result.eps)
    for name, r in result.methods.items():
        if r.iterations is None or name == "omd":
            continue
        solver = make_solver(name, beta, Fraction(r.step) if r.step is not None else None)
        cap = min(max_steps, r.iterations)
        traj = run(game, solver, cap, b)
        hit = next((t for t, lp in enumerate(traj.policies)
                    if ng.average([kl(ng, eq.logpi[c], lp[c]) for c in range(ng.k)]) <= target), None)
        r.measured = hit
        if hit is None:
            r.note = "; ".join(x for x in (r.note, f"not reached within {cap} steps") if x)
            if cap == r.iterations:
                raise ViolationError(f"{name}: KL(π*‖π_k) > ε after the predicted {r.iterations} iterations: "
                                     "the prediction is NOT an upper bound on this game")


def measure_inexact(game: Game, res: Complexity, max_steps: int, seed: int | str) -> None:
    """Run the adversarial (δ) or sampled (m, seed) solver on the game: first k with KL ≤ ε, and its duels."""
    from .backends import make_backend

    r = res.inexact
    assert r is not None
    spec = (f"nash-mp-inexact:delta={r.delta},perturb=adversarial" if r.model == "deterministic"
            else f"nash-mp-sampled:m={r.m},seed={seed}")
    solver = make_solver(spec, res.beta, r.eta)
    b = make_backend("float" if game.n >= 64 or r.model == "sampled" else "mpmath", 30)
    eq = solve_equilibrium(game, res.beta, b)
    ng = NumericGame(game, b)
    cap = min(max_steps, r.iterations if r.iterations is not None else max_steps)
    traj = run(game, solver, cap, b)
    target = b.scalar(res.eps)
    hit = next((t for t, lp in enumerate(traj.policies)
                if ng.average([kl(ng, eq.logpi[c], lp[c]) for c in range(ng.k)]) <= target), None)
    r.measured_iterations = hit
    r.measured_samples = traj.samples[hit] if hit is not None and r.model == "sampled" else None
    if hit is None:
        r.note = "; ".join(x for x in (r.note, f"measured: not reached within {cap} steps") if x)
