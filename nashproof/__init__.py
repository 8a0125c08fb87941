"""nashproof: executable checks of Nash Mirror Prox's convergence claims on exact preference games.

The public names below are imported on first use, so that ``import nashproof.errors`` (or pytest
loading the plugin ``nashproof.pytest_plugin`` in every environment nashproof is installed in) does not
pay for sympy, mpmath and numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .backends import FloatBackend, MpmathBackend, make_backend
    from .claims import Catalogue, Claim, builtin_catalogue
    from .equilibrium import solve_equilibrium, von_neumann_winner
    from .errors import InputError, NashproofError, SolverError
    from .families import load_game
    from .games import Context, Game, make_game
    from .query_complexity import complexity
    from .solvers import SOLVERS, make_solver, run
    from .verify import check_claim, collect

#: Where each public name lives.
_HOME = {
    "FloatBackend": "backends", "MpmathBackend": "backends", "make_backend": "backends",
    "Catalogue": "claims", "Claim": "claims", "builtin_catalogue": "claims",
    "solve_equilibrium": "equilibrium", "von_neumann_winner": "equilibrium",
    "InputError": "errors", "NashproofError": "errors", "SolverError": "errors",
    "load_game": "families", "Context": "games", "Game": "games", "make_game": "games",
    "complexity": "query_complexity", "SOLVERS": "solvers", "make_solver": "solvers", "run": "solvers",
    "check_claim": "verify", "collect": "verify",
}

__all__ = [
    "SOLVERS", "Catalogue", "Claim", "Context", "FloatBackend", "Game", "InputError", "MpmathBackend",
    "NashproofError", "SolverError", "builtin_catalogue", "check_claim", "collect", "complexity", "load_game",
    "make_backend", "make_game", "make_solver", "run", "solve_equilibrium", "von_neumann_winner",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value
