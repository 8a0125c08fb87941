"""Moved to :mod:`nashproof.verify.statistical` (the statistical method); kept importable for old callers."""

from __future__ import annotations

from .verify.statistical import StatVerdict, clopper_pearson, runs_for

__all__ = ["StatVerdict", "clopper_pearson", "runs_for"]
