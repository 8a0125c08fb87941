"""The verdict engine: run a solver, evaluate claims on every iterate, and produce verdicts.

Rounding never decides a verdict. One package, one concern per module; data flows one way:

- :mod:`.compiler` — a claim statement into exact (mpmath) and ball evaluators, constants enclosed
  exactly; :func:`compile_claim` is the public entry point (also for ``nashproof.prove``).
- :mod:`.record`, :mod:`.collect`, :mod:`.collect_certified` — the record of a run (values and errors:
  precision doubling, float64 screening, or balls).
- :mod:`.binding` — the value of every symbol at each point, from the run's own record (η_t, k, β, …).
- :mod:`.semantics` — statuses, their precedence and exit codes; the :class:`Verdict` record.
- methods: :mod:`.estimated` (also ``screened``), :mod:`.certified`, :mod:`.rate`, :mod:`.dimension`,
  :mod:`.statistical` (probability claims over seeded runs), with :mod:`.inexact` recording inexact solvers.
- :mod:`.check` — :func:`check_claim`, the entry point for one claim on one run.

``docs/verdicts.md`` states what each method proves for each claim kind, and what it does not.
"""

from __future__ import annotations

from .binding import claim_points, param_values
from .check import bound_series, check_claim
from .collect import collect, from_iterates
from .collect_certified import (
    GROWTH_BITS,
    MAX_RETRY_DIGITS,
    MAX_TRAJECTORY_BITS,
    collect_certified,
    trajectory_bits,
)
from .compiler import (
    BallStatement,
    CompiledClaim,
    ExactStatement,
    compile_claim,
    compile_statement,
    lambdify_exact,
    propagate_error,
    symbol_args,
)
from .dimension import CERTIFIED_DIM_MAX, DimensionRow, check_dimension, check_dimension_certified
from .inexact import check_inexact, collect_inexact, is_inexact, run_inexact_task
from .local import local_kl_ratio, local_radius2, local_spectrum
from .record import BallRun, RunData, eta_bar, eta_bar_below
from .semantics import EXIT_CODES, SEMANTICS, STATUSES, Verdict, exit_code, worst_status
from .statistical import VERDICT_CONFIDENCE, StatVerdict, check_probability, clopper_pearson, runs_for

__all__ = [
    "CERTIFIED_DIM_MAX",
    "EXIT_CODES",
    "GROWTH_BITS",
    "MAX_RETRY_DIGITS",
    "MAX_TRAJECTORY_BITS",
    "SEMANTICS",
    "STATUSES",
    "VERDICT_CONFIDENCE",
    "BallRun",
    "BallStatement",
    "CompiledClaim",
    "DimensionRow",
    "ExactStatement",
    "RunData",
    "StatVerdict",
    "Verdict",
    "bound_series",
    "check_claim",
    "check_dimension",
    "check_dimension_certified",
    "check_inexact",
    "check_probability",
    "claim_points",
    "clopper_pearson",
    "collect",
    "collect_certified",
    "collect_inexact",
    "compile_claim",
    "compile_statement",
    "eta_bar",
    "eta_bar_below",
    "exit_code",
    "from_iterates",
    "is_inexact",
    "lambdify_exact",
    "local_kl_ratio",
    "local_radius2",
    "local_spectrum",
    "param_values",
    "propagate_error",
    "run_inexact_task",
    "runs_for",
    "symbol_args",
    "trajectory_bits",
    "worst_status",
]
