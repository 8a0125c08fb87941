"""Moved to :mod:`nashproof.verify.inexact`; kept importable for old callers."""

from __future__ import annotations

from .verify.inexact import check_inexact, collect_inexact, is_inexact, run_inexact_task, seeded

__all__ = ["check_inexact", "collect_inexact", "is_inexact", "run_inexact_task", "seeded"]
