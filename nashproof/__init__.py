"""nashproof: executable checks of Nash Mirror Prox's convergence claims on exact preference games."""

from .backends import FloatBackend, MpmathBackend, make_backend
from .claims import Catalogue, Claim, builtin_catalogue
from .equilibrium import solve_equilibrium, von_neumann_winner
from .errors import InputError, NashproofError, SolverError
from .families import load_game
from .games import Context, Game, make_game
from .query_complexity import complexity
from .solvers import SOLVERS, make_solver, run
from .verify import check_claim, collect

__all__ = [
    "SOLVERS", "Catalogue", "Claim", "Context", "FloatBackend", "Game", "InputError", "MpmathBackend",
    "NashproofError", "SolverError", "builtin_catalogue", "check_claim", "collect", "complexity", "load_game",
    "make_backend", "make_game", "make_solver", "run", "solve_equilibrium", "von_neumann_winner",
]
__version__ = "0.1.0"
