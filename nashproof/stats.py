"""Moved to :mod:`nashproof.verify.statistical` (the statistical method); kept importable for old callers."""

from __future__ import annotations

from .verify.statistical import StatVerdict, clopper_pearson, detection_power, runs_for, runs_for_power

__all__ = ["StatVerdict", "clopper_pearson", "detection_power", "runs_for", "runs_for_power"]
