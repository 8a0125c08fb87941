"""Worst cases on demand: adversarial search for the instance that brings a claim closest to failing.

For a claim ``lhs ≤ rhs`` the *ratio* of an instance is the largest lhs/rhs over the iterates
evaluated; for a right side made of several positive terms, the *normalised margin* of one term t is
(lhs − (rhs − t))/t, which is ≤ the ratio and reaches 1 exactly when that term's constant is sharp.
The search maximises a ratio over the instance space:

* games with n actions (and optionally several contexts): preference entries in [0, 1] with
  P + Pᵀ = 1 by construction, π_ref in the interior;
* β (log scale) and η inside the claim's hypotheses (beyond them with ``ignore_hypotheses``);
* the starting policy, as logits whose scale reaches 10^max_log10_logit, so that masses like
  e^(−10⁷) are representable (unless the claim assumes π_0 = π_ref).

The global optimiser is CMA-ES (``cma``) in float64 on the unit cube, followed by a Nelder–Mead
refinement; every decoded instance is already exact (rounded rationals, rational logits), so the
best one is re-evaluated as it stands by :func:`verify.collect` at high precision (precision
doubling) and its ratio printed with an error estimate. Tasks (target × n × restart) are seeded by
their identity and spread with :mod:`nashproof.parallel`.

One concern a module: the targets (``targets``), the instance space (``space``), the float64
objective and one task (``objective``), the exact confirmation (``confirm``), the driver (``driver``),
the local threshold of the Nash-MP step (``threshold``, docs/proofs.md §3.4) and the known sharp
families (``sharp``); this package re-exports their public names.
"""

from __future__ import annotations

from ..verify import local_kl_ratio as local_kl_ratio
from ..verify import local_radius2 as local_radius2
from ..verify import local_spectrum as local_spectrum
from .confirm import MAX_DIGITS as MAX_DIGITS
from .confirm import Confirmation as Confirmation
from .confirm import collect_instance as collect_instance
from .confirm import confirm as confirm
from .driver import SearchConfig as SearchConfig
from .driver import TargetResult as TargetResult
from .driver import default_steps as default_steps
from .driver import exit_status as exit_status
from .driver import search as search
from .driver import space_for as space_for
from .objective import FALLBACK_DIGITS as FALLBACK_DIGITS
from .objective import SearchTask as SearchTask
from .objective import TaskResult as TaskResult
from .objective import float_ratio as float_ratio
from .objective import run_search_task as run_search_task
from .sharp import KNOWN_SHARP as KNOWN_SHARP
from .sharp import kl0_gap_family as kl0_gap_family
from .sharp import sandwich_family as sandwich_family
from .space import DEFAULT_SPECS as DEFAULT_SPECS
from .space import FLOAT_TOLERANCE as FLOAT_TOLERANCE
from .space import FloatHypotheses as FloatHypotheses
from .space import Instance as Instance
from .space import Space as Space
from .space import admissible as admissible
from .space import decode as decode
from .space import to_unit as to_unit
from .targets import SEARCHABLE as SEARCHABLE
from .targets import Target as Target
from .targets import TargetFns as TargetFns
from .targets import claim_targets as claim_targets
from .targets import rhs_terms as rhs_terms
from .targets import target_fns as target_fns
from .targets import target_ratio as target_ratio
from .threshold import StepThreshold as StepThreshold
from .threshold import far_regime as far_regime
from .threshold import step_threshold as step_threshold
