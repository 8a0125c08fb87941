"""The principal mutants at 0.1 % (see mutants.py), for ``--claims-module tests/mutants_01pct.py``."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutants import principal

CLAIMS = principal(Fraction(1, 1000))
