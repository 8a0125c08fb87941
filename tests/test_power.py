"""Detection power of the statistical verdicts: run counts chosen from a wanted power, statistical mutants."""

from __future__ import annotations

import sys
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from scipy import stats as sst

from nashproof.claims import builtin_catalogue
from nashproof.claims.catalogue import DELTA_SAMPLED
from nashproof.families import load_game
from nashproof.solvers import make_solver
from nashproof.verify.inexact import check_inexact
from nashproof.verify.statistical import clopper_pearson, detection_power, runs_for, runs_for_power

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _scipy_power(runs: int, alpha: float, rate: float, confidence: float = 0.95) -> float:
    """Independent: the Clopper–Pearson lower end from scipy's beta quantile, the power from scipy's binomial."""
    tail = (1 - confidence) / 2
    first = next(f for f in range(1, runs + 2) if f > runs or sst.beta.ppf(tail, f, runs - f + 1) > alpha)
    return float(sst.binom.sf(first - 1, runs, rate)) if first <= runs else 0.0


@pytest.mark.parametrize(("runs", "alpha", "rate"), [(72, 0.05, 0.1), (279, 0.05, 0.1), (400, 0.01, 0.05),
                                                     (30, 0.2, 0.5)])
def test_detection_power_matches_scipy(runs: int, alpha: float, rate: float) -> None:
    assert detection_power(runs, alpha, rate) == pytest.approx(_scipy_power(runs, alpha, rate), abs=1e-9)


@pytest.mark.parametrize(("alpha", "power"), [(0.05, 0.8), (0.05, 0.9), (0.1, 0.95)])
def test_runs_for_power_is_the_fewest_and_simulation_agrees(alpha: float, power: float) -> None:
    r = runs_for_power(alpha, power)
    assert clopper_pearson(0, r)[1] <= alpha  # zero failures can still show the rate ≤ α
    assert detection_power(r, alpha, 2 * alpha) >= power
    assert all(detection_power(q, alpha, 2 * alpha) < power for q in range(runs_for(alpha), r))
    # Monte Carlo: binomial failure counts at the rate 2α, decided by the exact lower end (scipy).
    counts = np.random.default_rng(7).binomial(r, 2 * alpha, 4000)
    lower = np.where(counts > 0, sst.beta.ppf(0.025, np.maximum(counts, 1), r - counts + 1), 0.0)
    assert abs(float(np.mean(lower > alpha)) - detection_power(r, alpha, 2 * alpha)) < 0.03


@pytest.mark.slow
def test_statistical_mutants_caught_when_false_and_hoeffding_slack_reported() -> None:
    """A sampled error bound tightened below its true (1 − α) quantile is violated with the runs the power asks
    for; tightened by 10 % it is still true (Hoeffding is loose here), passes, and the note says by how much."""
    import mutants

    cat = builtin_catalogue()
    claim = cat.get("SAMPLED-STEP-ERR")
    game = load_game("rps:skew=1/2")
    solver = make_solver("nash-mp-sampled:m=16,seed=5000", Fraction(1, 10), Fraction(2))
    # Pilot on other seeds: the 70 % quantile q of lhs/rhs, so a bound scaled by q fails in about 30 % of runs.
    pilot = check_inexact(game, solver, [claim], 5, 15, Fraction(7, 10), runs=200)[0]
    q = pilot.extra["quantile"]
    assert isinstance(q, float) and 0 < q < 1
    false = replace(claim, id="SAMPLED-STEP-ERR~q70", statements=(sp.Le(claim.statements[0].lhs,
                                                                         sp.nsimplify(q) * DELTA_SAMPLED),))
    ten = next(m for o, m in mutants.statistical_mutants(Fraction(1, 10)) if o == "SAMPLED-STEP-ERR")
    solver = make_solver("nash-mp-sampled:m=16,seed=0", Fraction(1, 10), Fraction(2))
    got = check_inexact(game, solver, [false, ten, claim], 5, 15, Fraction(95, 100), power=Fraction(9, 10))
    r = runs_for_power(0.05, 0.9)
    assert [v.status for v in got] == ["violated", "pass", "pass"]
    for v in got:
        assert v.extra["runs"] == r and v.extra["power"] == 0.9
        assert f"{r} runs chosen for power 0.9" in v.note and "α = 0.05" in v.note
    slack = got[2].extra["quantile"]
    assert isinstance(slack, float) and slack < 0.9 and "loose by about" in got[2].note
