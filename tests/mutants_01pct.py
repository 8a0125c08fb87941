"""The principal mutants at 0.1 % (the claims added since issue 11 at 10 %; see mutants.py), for
``nashproof check --claims-module tests/mutants_01pct.py``."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutants import principal

CLAIMS = principal(Fraction(1, 1000))
