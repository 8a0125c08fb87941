"""The invariant-cone floor under Nash-MP's asymptotic KL rate (prove/asymptotic.py, verify/asymptotic.py).

Cross-checks: the certified spectral enclosure against the closed form of docs/proofs.md §3.4
(verify/local.py, singular values of D^½AD^½), block norms against numpy's SVD, and every proved
floor against an independent mpmath run whose KL keeps decaying more slowly than the refuted rate.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest
from flint import arb

from nashproof.backends import MpmathBackend
from nashproof.backends.balls import certified_policy, precision
from nashproof.cli import main
from nashproof.equilibrium import solve_equilibrium
from nashproof.families import load_game
from nashproof.prove.asymptotic import LocalCertificate, block_sigma_bounds, local_certificate
from nashproof.solvers import NashMP
from nashproof.solvers import run as run_solver
from nashproof.verify.local import local_radius2, local_spectrum

ROOT = Path(__file__).resolve().parent.parent
GAMES = [("cyclic:n=5,skew=1/3", Fraction(1, 10), Fraction(2)), ("random:n=5,seed=0", Fraction(1, 10), Fraction(1)),
         ("rps:skew=1/2", Fraction(1, 10), Fraction(2)), ("random:n=4,seed=3", Fraction(1, 100), Fraction(3))]


def certificate(spec: str, beta: Fraction, eta: Fraction) -> LocalCertificate:
    game = load_game(spec)
    with precision(192):
        logs, _ = certified_policy(game, beta, 57)
        logstar = [arb(x) for x in logs[0]]
    c = game.contexts[0]
    local = local_certificate(c.preference, c.reference, logstar, beta, eta)
    assert local is not None
    return local


def closed_form_rho(spec: str, beta: Fraction, eta: Fraction) -> mpmath.mpf:
    mus = [m for ctx in local_spectrum(load_game(spec), beta, 40) for m in ctx]
    with mpmath.workdps(40):
        return local_radius2(mpmath.mpf(eta.numerator) / eta.denominator, mpmath.mpf(beta.numerator) / beta.denominator,
                             mus)


@pytest.mark.parametrize("spec, beta, eta", GAMES)
def test_the_spectral_enclosure_holds_the_closed_form_rate(spec: str, beta: Fraction, eta: Fraction) -> None:
    enc = certificate(spec, beta, eta).spectral_sq
    rho = closed_form_rho(spec, beta, eta)
    assert enc.lower() <= rho <= enc.upper()
    assert enc.rad() < 1e-10  # and it is an enclosure worth the name


def test_block_norm_bounds_enclose_numpy_singular_values() -> None:

    rng = np.random.default_rng(7)
    for _ in range(200):
        m = rng.normal(size=(2, 2)) * rng.choice([1e-8, 1.0, 30.0])
        balls = [[arb(float(x), 1e-12) for x in row] for row in m]
        lo, hi = block_sigma_bounds(balls)
        s = np.linalg.svd(m, compute_uv=False)
        assert float(lo.upper()) <= s[-1] * (1 + 1e-9) + 1e-11
        assert float(hi.lower()) >= s[0] * (1 - 1e-9) - 1e-11


@pytest.mark.parametrize("spec, beta, eta", GAMES)
def test_the_true_rate_is_never_refuted(spec: str, beta: Fraction, eta: Fraction) -> None:
    local = certificate(spec, beta, eta)
    for above in (arb(local.spectral_sq.upper()), arb(local.spectral_sq.upper()) * (1 + arb(10) ** -9)):
        assert local.rate_floor(above, load_game(spec).contexts[0].start) is None


@pytest.mark.parametrize("spec, beta, eta", GAMES)
@pytest.mark.parametrize("level", [Fraction(9, 10), Fraction(999, 1000)])
def test_a_faster_claimed_rate_is_refuted_and_an_independent_run_agrees(spec: str, beta: Fraction, eta: Fraction,
                                                                          level: Fraction) -> None:
    local = certificate(spec, beta, eta)
    claimed = local.spectral_sq * arb(level.numerator) / level.denominator
    game = load_game(spec)
    floor = local.rate_floor(claimed, game.contexts[0].start)
    assert floor is not None and floor.growth_sq > claimed
    # Independently: from the certificate's entry on, KL_k / ρ'^k grows (the floor says like
    # (g²/ρ')^k). KL oscillates within a step or two as the slow part rotates: compare window maxima.
    # KL falls by ≈ 10^(−50) over the m steps compared: 120 digits keep it far above the rounding floor.
    m, w = int(50 / -np.log10(float(claimed.upper()))), 20
    steps = floor.entered + m + w
    traj = run_solver(game, NashMP(beta, eta), steps, "mpmath", digits=120)
    star = list(solve_equilibrium(game, beta, MpmathBackend(120)).logpi[0])
    with mpmath.workdps(120):
        rho = mpmath.mpf(float(claimed.upper()))
        kls = [sum(mpmath.exp(s) * (s - x) for s, x in zip(star, traj.policies[k][0]))
               for k in range(floor.entered, steps + 1)]
        assert max(kls[m:]) / max(kls[:w]) > rho**m


def test_rps_started_at_its_equilibrium_has_nothing_to_follow() -> None:
    local = certificate("rps", Fraction(1, 10), Fraction(2))
    assert local.rate_floor(local.spectral_sq * arb("0.5"), None) is None


def _claims_module(tmp_path: Path, level: str, metric: str) -> Path:
    """NMP-KL-LOCAL's rate times ``level``, on KL; or on the span, whose asymptotic rate is √ρ_loc."""
    path = tmp_path / "local_mutant.py"
    symbol, rate = ("KL", "rho_loc") if metric == "kl" else ("Span", "sp.sqrt(rho_loc)")
    path.write_text(
        "from dataclasses import replace\n"
        "import sympy as sp\n"
        "from nashproof.claims import C, KL, Span, k, rho_loc\n"
        "from nashproof.claims.catalogue import BUILTIN\n"
        "orig = next(c for c in BUILTIN if c.id == 'NMP-KL-LOCAL')\n"
        f"rate = sp.Rational('{level}') * {rate}\n"
        f"CLAIMS = [replace(orig, metric='{metric}', rate=rate, statements=(sp.Le({symbol}, C * rate**k),), "
        "provenance='E')]\n")
    return path


@pytest.mark.parametrize("level, code", [("9/10", 1), ("1", 0)])
@pytest.mark.parametrize("metric", ["kl", "span"])
def test_check_refutes_a_tightened_local_rate_by_proof(level: str, code: int, metric: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    mod = _claims_module(tmp_path, level, metric)
    rc = main(["check", "--claims-module", str(mod), "--game", "cyclic:n=5,skew=1/3", "--solver", "nash-mp",
               "--beta", "1/10", "--eta", "2", "--steps", "120", "--claim", "NMP-KL-LOCAL", "--json"])
    out = json.loads(capsys.readouterr().out)
    (v,) = [v for v in out["verdicts"] if v["claim"] == "NMP-KL-LOCAL"]
    assert rc == code
    if code:
        assert v["status"] == "violated" and v["method"] == "certified" and "invariant-cone" in v["note"]
    else:
        assert v["status"] == "pass" and "invariant-cone" not in v.get("note", "")

