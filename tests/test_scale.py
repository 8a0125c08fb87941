"""Scale (issue 22): memory-based limits, β = 0 by HiGHS plus an exact solve, the whole β and digits
range of the certified equilibrium, and numbers beyond Python's 4300-digit int-string limit."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from flint import arb
from scipy.optimize import linprog

from nashproof import winner
from nashproof.backends.balls import BallBackend, printed_radius, to_mpf, up_str
from nashproof.cli import main
from nashproof.equilibrium import solve_equilibrium, verify_von_neumann_winner, winner_and_path
from nashproof.errors import InputError
from nashproof.families import load_game
from nashproof.limits import Estimate, estimate_bytes, require_fits

F = Fraction


def call(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


# ------------------------------------------------------------------ limits


def test_estimate_grows_with_size_precision_and_steps() -> None:
    base = estimate_bytes(256, 1, "arb", 50)
    assert estimate_bytes(512, 1, "arb", 50) > 3.9 * (base - estimate_bytes(1, 1, "arb", 50))
    assert estimate_bytes(256, 1, "arb", 500) > base
    assert estimate_bytes(256, 1, "arb", 50, steps=1000) > base
    assert estimate_bytes(256, 2, "arb", 50) > base
    assert estimate_bytes(1024, 1, "float") < estimate_bytes(1024, 1, "mpmath") < estimate_bytes(1024, 1, "arb")
    # the measured ~330 bytes per entry of balls at 50 digits is covered: 4096² entries need > 5 GB
    assert estimate_bytes(4096, 1, "arb", 50) > 330 * 4096**2


def test_estimate_fits_logic() -> None:
    assert Estimate(10, None).fits
    assert Estimate(10, 100).fits
    assert not Estimate(100, 100).fits  # headroom is kept


def test_refused_with_the_estimate_under_an_address_space_limit() -> None:
    """With RLIMIT_AS at 1 GB a certified n = 2048 game (about 1.8 GB) is refused before any work, exit 2."""
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30));"
            "from nashproof.cli import main; sys.exit(main(['equilibrium', 'random:n=2048', '--beta', '1/10']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "needs about" in proc.stderr and "GB of memory" in proc.stderr and "Traceback" not in proc.stderr


def test_require_fits_passes_small_games() -> None:
    assert require_fits(8, 1, "arb").needed < 1 << 30


def test_require_fits_rejects_what_no_machine_holds() -> None:
    with pytest.raises(InputError, match="needs about"):
        require_fits(4096, 64, "arb", 100_000, steps=100_000)


def test_arb_beyond_the_old_256_cap(capsys: pytest.CaptureFixture[str]) -> None:
    """n = 300 was refused (at most 256 actions); now certified, and the probabilities sum to 1 within the radii."""
    rc, out, err = call(capsys, ["equilibrium", "random:n=300,seed=4", "--beta", "1/10", "--digits", "20", "--json"])
    assert rc == 0, err
    data = json.loads(out)
    assert data["certified"] and data["certificate"]["certified_digits"] == 20
    with mpmath.workdps(40):
        total = mpmath.fsum(mpmath.mpf(p) for p in data["policy"][0])
        assert abs(total - 1) < mpmath.mpf(10) ** -18


# ------------------------------------------------------------------ β = 0


@pytest.mark.parametrize("spec", ["rps", "cyclic:n=7,skew=1/3", "random:n=40,seed=3", "transitive:n=5",
                                  "ties:n=4", "random:n=90,seed=7"])
def test_lp_winner_is_exact_and_agrees_with_the_simplex_and_linprog(spec: str) -> None:
    ctx = load_game(spec).contexts[0]
    pi, path = winner_and_path(ctx)
    assert verify_von_neumann_winner(ctx, pi)  # Fraction-level check, independent of the integer one
    simplex = winner.exact_winner(ctx)
    value = [max(sum(r * p for r, p in zip(row, w)) for row in ctx.preference) for w in (pi, simplex)]
    assert value == [F(1, 2), F(1, 2)]  # a symmetric game's value is ½ under both
    if spec.startswith("random"):
        assert path == winner.PATH_LP
        assert pi == simplex  # generic random games have a unique winner
    P = np.array([[float(x) for x in row] for row in ctx.preference])
    res = linprog(np.r_[np.zeros(len(P)), 1], A_ub=np.c_[P, -np.ones(len(P))], b_ub=np.zeros(len(P)),
                  A_eq=np.r_[np.ones(len(P)), 0][None, :], b_eq=[1], bounds=[(0, None)] * len(P) + [(None, None)])
    assert abs(res.fun - 0.5) < 1e-9


def test_simplex_fallback_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the float LP's support gives nothing, the exact simplex runs and the output says so."""
    monkeypatch.setattr(winner, "_from_float_lp", lambda *a: None)
    ctx = load_game("cyclic:n=5,skew=1/3").contexts[0]
    pi, path = winner.lp_winner(ctx)
    assert path == winner.PATH_SIMPLEX and verify_von_neumann_winner(ctx, pi)


def test_wrong_support_does_not_verify() -> None:
    """A support HiGHS could misjudge (one action short) yields no candidate or one the exact check rejects."""
    ctx = load_game("random:n=30,seed=2").contexts[0]
    M, D = winner.integer_matrix(ctx)
    pi, _ = winner.lp_winner(ctx)
    support = [j for j, p in enumerate(pi) if p]
    cand = winner._exact_solve(M, D, len(pi), support[1:], support[1:])
    assert cand is None or not winner.verify_integer(M, D, cand)


def test_beta_zero_at_n_200_from_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    """Refused before (at most 128 actions); the JSON names the path."""
    rc, out, err = call(capsys, ["equilibrium", "random:n=200,seed=1", "--beta", "0", "--json"])
    assert rc == 0, err
    data = json.loads(out)
    assert data["method"] == [winner.PATH_LP]
    ctx = load_game("random:n=200,seed=1").contexts[0]
    assert verify_von_neumann_winner(ctx, tuple(F(p) for p in data["policy"][0]))


# ------------------------------------------------------------------ β range and digits


BETAS = [F(1, 10**9), F(1, 10**8), F(1, 10**7), F(1, 10**5), F(1), F(10**4)]


@pytest.mark.parametrize("spec", ["rps", "cyclic:n=5,skew=1/3", "transitive:n=4", "random:n=8,seed=1",
                                  "bradley-terry:n=5", "contextual:n=3,contexts=2"])
def test_certified_equilibrium_over_the_whole_beta_range(spec: str) -> None:
    """It failed at β ≤ 1e-7 on rock-paper-scissors and at 1e-9 on every game tried. Each result is
    checked against the fixed point itself: π ∝ π_ref exp(Pπ/β) in mpmath at twice the digits."""
    game = load_game(spec)
    for beta in BETAS:
        eq = solve_equilibrium(game, beta, BallBackend(30))
        assert eq.certified and eq.certificate.correct_digits >= 30
        ctx = game.contexts[0]
        with mpmath.workdps(120):
            logpi = [+to_mpf(x) for x in eq.logpi[0]]
            pi = [mpmath.exp(t) for t in logpi]
            field = [mpmath.fsum(mpmath.mpf(p.numerator) / p.denominator * q for p, q in zip(row, pi))
                     for row in ctx.preference]
            b = mpmath.mpf(beta.numerator) / beta.denominator
            z = [mpmath.log(mpmath.mpf(r.numerator) / r.denominator) + f / b for r, f in zip(ctx.reference, field)]
            lse = mpmath.log(mpmath.fsum(mpmath.exp(t - max(z)) for t in z)) + max(z)
            resid = max(abs(a - (b - lse)) for a, b in zip(logpi, z))
            assert resid < mpmath.mpf(10) ** -20 * max(1, 1 / b)


def test_radius_below_1e_4300_prints(capsys: pytest.CaptureFixture[str]) -> None:
    """transitive:n=4 at β = 1e-5: π of the dominated actions is about e^(-10⁵·…), printed with its radius."""
    rc, out, err = call(capsys, ["equilibrium", "transitive:n=4", "--beta", "1e-5", "--json"])
    assert rc == 0, err
    data = json.loads(out)
    tiny = [t for t in data["policy"][0] if "e-" in t and int(t.split("e-")[1]) > 4300]
    assert tiny
    for r in data["radius"][0]:
        assert float(Fraction(r.split("e")[0])) > 0 and "e" in r


def test_up_str_rounds_up_at_any_size() -> None:
    assert up_str(arb(2) ** -20000) == "2.52e-6021"  # 2^-20000 = 2.5118…e-6021
    assert up_str(arb(2) ** 20000) == "3.99e+6020"  # 2^20000 = 3.9802…e+6020
    assert up_str(arb(10) ** -434294481).startswith("1.0") and up_str(arb(10) ** -434294481).endswith("e-434294481")
    for q in (F(1, 3), F(7), F(1000), F(999, 1000)):
        text = up_str(float(q))
        assert F(text) >= F(float(q)) and F(text) - F(float(q)) <= F(float(q)) / 50
    gap = printed_radius(arb(1) / 3, "0.3333")  # 1/3 − 0.3333 = 1/30000
    assert gap >= arb(1) / 30000 and gap <= arb(1) / 29999


def test_digits_5000_prints(capsys: pytest.CaptureFixture[str]) -> None:
    """More than 4300 digits crashed on Python's integer-string limit (exit 4)."""
    rc, out, err = call(capsys, ["equilibrium", "rps:skew=1/2", "--beta", "1/10", "--digits", "5000", "--json"])
    assert rc == 0, err
    data = json.loads(out)
    assert data["certificate"]["certified_digits"] == 5000
    assert max(len(t) for t in data["policy"][0]) > 5000
    assert sys.get_int_max_str_digits() in (0, 4300)  # the limit is restored after printing


def test_run_arb_beyond_4300_digits(capsys: pytest.CaptureFixture[str]) -> None:
    """`run --backend arb` whose values and radii need more than 4300 digits (the 5000-step case in small)."""
    rc, out, err = call(capsys, ["run", "rps:skew=1/2", "--solver", "nash-mp", "--beta", "1/10", "--backend", "arb",
                                 "--digits", "4400", "--steps", "2", "--json"])
    assert rc == 0, err
    data = json.loads(out)
    radius = data["iterations"][-1]["radius"]["kl"]
    assert int(radius.split("e-")[1]) > 4300


@pytest.mark.slow
def test_digits_100000_certified(capsys: pytest.CaptureFixture[str]) -> None:
    """The top of --digits (100000; the ball backend stopped at 10000)."""
    rc, out, err = call(capsys, ["equilibrium", "rps:skew=1/2", "--beta", "1/10", "--digits", "100000", "--json"])
    assert rc == 0, err
    assert json.loads(out)["certificate"]["certified_digits"] == 100000
