"""The claim catalogue and the bound checker (issue: claims, check, suites)."""

from __future__ import annotations

import json
import textwrap
from fractions import Fraction
from pathlib import Path
from xml.etree import ElementTree as ET

import mpmath
import pytest
import sympy as sp

from nashproof.claims import KL, KL0, Catalogue, Claim, beta, builtin_catalogue, eta, k
from nashproof.cli import main
from nashproof.families import load_game
from nashproof.solvers import NashMP, make_solver
from nashproof.verify import check_claim, collect, eta_bar, eta_bar_below

SPEC_IDS = ["NMP-KL-STEP", "NMP-KL", "NMP-KL0", "NMP-EXPL", "EXPL-SANDWICH", "NMP-SPAN", "SPAN-STEP",
            "NMP-CPLX", "NMP-UNREG", "NMP-DIM"]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_claims_json_lists_every_spec_id(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "claims", "--json")
    assert code == 0
    claims = {c["id"]: c for c in json.loads(out)}
    for cid in SPEC_IDS:
        c = claims[cid]
        assert c["tags"] and set(c["tags"]) <= {"A", "S", "D", "L", "E"}
        assert c["latex"] and c["statement"]
        assert isinstance(c["hypotheses"], list)
        for key in ("kind", "metric", "solvers", "provenance"):
            assert c[key]
    baselines = [c for c in claims.values() if not c["id"].startswith("NMP") and c["id"] != "EXPL-SANDWICH"
                 and c["id"] != "SPAN-STEP"]
    assert len(baselines) >= 3 and all(c["tags"] == ["L"] or "D" in c["tags"] for c in baselines)
    assert claims["NMP-KL-STEP"]["hypotheses"] == ["eta**2/4 <= beta*eta + 1"]
    code, out, _ = run_cli(capsys, "claims", "NMP-KL-STEP")
    assert code == 0 and "provenance: D" in out and "derivation" in out


def test_eta_bar_is_the_boundary_of_the_hypothesis() -> None:
    for b in (Fraction(1, 1000), Fraction(1, 20), Fraction(1)):
        below = eta_bar_below(b)
        assert (below / 2) ** 2 <= 1 + below * b
        above = below + Fraction(1, 10**6)
        assert (above / 2) ** 2 > 1 + above * b
        assert abs(float(below) - eta_bar(b)) < 1e-9


@pytest.mark.parametrize("game", ["cyclic:n=6,ref=1/3+1/6+1/12+1/12+1/6+1/6", "contextual:n=5,contexts=2,skew=1/4"])
def test_single_shot_contract_on_fresh_games(capsys: pytest.CaptureFixture[str], game: str) -> None:
    """η = 8 is outside the hypothesis at β = 1/20: not-applicable, violated when ignored; η = 2 passes."""
    base = ["check", "--game", game, "--solver", "nash-mp", "--beta", "1/20", "--claim", "NMP-KL-STEP", "--json"]
    code, out, _ = run_cli(capsys, *base, "--eta", "8")
    v = json.loads(out)["verdicts"][0]
    assert code == 0 and v["status"] == "not-applicable" and "eta**2/4" in v["failed_hypothesis"]
    code, out, _ = run_cli(capsys, *base, "--eta", "8", "--ignore-hypotheses")
    v = json.loads(out)["verdicts"][0]
    assert code == 1 and v["status"] == "violated"
    assert float(v["observed"]) > float(v["bound"]) and float(v["margin"]) < 0
    code, out, _ = run_cli(capsys, *base, "--eta", "2")
    assert code == 0 and json.loads(out)["verdicts"][0]["status"] == "pass"


def test_a_seeded_wrong_rate_is_caught_on_default_families() -> None:
    """NMP-KL with (1+3β) in place of (1+ηβ), at η = 1: too fast a rate; some built-in game must expose it.

    (At η = 2 Nash-MP contracts about as fast as (1+2β)^-2 per step on these games, so (1+3β) is not
    exposed there; the checker reports the true tightness instead.)"""
    wrong = Claim("NMP-KL-WRONG", "seeded error", "bound", "kl", (sp.Le(KL, (1 + 3 * beta) ** (-k) * KL0),), (),
                  ("nash-mp",), "E", "test")
    right = builtin_catalogue().get("NMP-KL")
    caught = []
    for game in ["cyclic:n=3,skew=1/2", "cyclic:n=5,skew=1/3", "cyclic:n=7,skew=1/4"]:
        data = collect(load_game(game), NashMP(Fraction(1, 100), Fraction(1)), 80, 30)
        assert check_claim(right, data).status == "pass"
        verdict = check_claim(wrong, data)
        caught.append(verdict.status == "violated")
        if verdict.status == "violated":
            assert verdict.first_k is not None and verdict.first_k > 0
    assert any(caught)


def test_low_precision_long_runs_never_report_a_rounding_violation() -> None:
    """15 digits, 300 steps: the metrics fall far below 10^-15; verdicts are pass or inconclusive only."""
    cat = builtin_catalogue()
    game = load_game("cyclic:n=5,skew=1/3")
    for solver in (NashMP(Fraction(1), Fraction(2)), make_solver("mmd", Fraction(1), Fraction(4))):
        data = collect(game, solver, 300, digits=15)
        assert data.values["kl"][-1] < mpmath.mpf("1e-20")  # the floor was crossed
        statuses = set()
        for claim in cat:
            for until_floor in (True, False):
                statuses.add(check_claim(claim, data, until_floor=until_floor).status)
        assert "violated" not in statuses
        assert "inconclusive" in statuses  # the strict mode sees the floor and says so


def test_error_estimates_cover_the_true_error() -> None:
    """The reported error at D digits bounds the distance to the same metric at 3D digits."""
    game = load_game("contextual:n=4,contexts=2,skew=1/2")
    solver = NashMP(Fraction(1, 2), Fraction(2))
    low = collect(game, solver, 40, digits=20)
    ref = collect(game, solver, 40, digits=60)
    with mpmath.workdps(80):
        for name in ("kl", "exploitability", "span"):
            for t in range(41):
                assert abs(low.values[name][t] - ref.values[name][t]) <= low.errors[name][t]


def test_kl0_zero_gives_exact_passes() -> None:
    data = collect(load_game("rps"), NashMP(Fraction(1, 10)), 20, 20)
    assert data.exact_equilibrium
    for claim in builtin_catalogue():
        v = check_claim(claim, data)
        assert v.status in ("pass", "not-applicable"), (claim.id, v)


def test_rate_claim_fit_and_slower_flag() -> None:
    data = collect(load_game("cyclic:n=5,skew=1/3"), NashMP(Fraction(1, 10), Fraction(2)), 80, 40)
    claim = builtin_catalogue().get("NMP-EXPL")
    v = check_claim(claim, data)
    assert v.status == "pass" and v.fitted_rate is not None
    # Independent fit: the ratio of exploitabilities over the fitted tail, by hand.
    expl = data.values["exploitability"]
    tail_rate = float((expl[80] / expl[40]) ** (mpmath.mpf(1) / 40))
    assert abs(tail_rate - float(v.fitted_rate)) < 0.05
    assert tail_rate < 1 / 1.2  # faster than the claimed (1+ηβ)^-1
    too_fast = Claim("FAST", "seeded", "rate", "exploitability", (), (), ("nash-mp",), "E", "test",
                     rate=(1 + eta * beta) ** -4)
    flagged = check_claim(too_fast, data)
    # The fit alone is evidence (flag `slower`); the verdict rests on a proof that the decay is slower
    # (Expl_β ≥ β·KL(π‖π*) ≥ c‖π − π*‖² near π*, and an invariant cone keeps ‖π − π*‖ from falling faster).
    assert flagged.slower and flagged.status == "violated" and flagged.method == "certified"
    assert "invariant-cone" in flagged.note


def test_user_claims_module_adds_and_replaces(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = tmp_path / "my_claims.py"
    module.write_text(textwrap.dedent('''
        import sympy as sp
        from nashproof.claims import Claim, KL, KL0, beta, eta, k
        CLAIMS = [
            Claim("MY-KL-HALF", "half the derived rate", "bound", "kl",
                  (sp.Le(KL, (1 + eta * beta / 2) ** (-k) * KL0),), (), ("nash-mp",), "E", "my notes"),
            Claim("NMP-KL", "replaced: an impossible bound", "bound", "kl",
                  (sp.Le(KL, KL0 / 10),), (), ("nash-mp",), "E", "replacement"),
        ]
    '''))
    code, out, _ = run_cli(capsys, "claims", "--claims-module", str(module), "--json")
    claims = {c["id"]: c for c in json.loads(out)}
    assert code == 0 and "MY-KL-HALF" in claims and claims["NMP-KL"]["title"].startswith("replaced")
    argv = ["check", "--claims-module", str(module), "--game", "cyclic:n=5,skew=1/3", "--solver", "nash-mp",
            "--beta", "1/10", "--steps", "20", "--json"]
    code, out, _ = run_cli(capsys, *argv, "--claim", "MY-KL-HALF")
    assert code == 0 and json.loads(out)["verdicts"][0]["status"] == "pass"
    code, out, _ = run_cli(capsys, *argv, "--claim", "NMP-KL")
    v = json.loads(out)["verdicts"][0]
    assert code == 1 and v["status"] == "violated" and v["first_k"] == 0


@pytest.mark.parametrize("text, said", [
    ("CLAIMS = 5", "CLAIMS must be a list"),  # was a traceback: 'int' object is not iterable
    ("def register(catalogue):\n    raise KeyError('k')", "raised KeyError"),
    ("register = 3", "register must be a function"),
])
def test_broken_claims_module_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                                                said: str) -> None:
    module = tmp_path / "broken.py"
    module.write_text(text + "\n")
    code, _, err = run_cli(capsys, "claims", "--claims-module", str(module))
    assert code == 2 and len(err.strip().splitlines()) == 1 and said in err, err


def test_catalogue_rejects_a_claim_without_a_tag() -> None:
    with pytest.raises(Exception, match="tag"):
        Claim("X", "x", "bound", "kl", (), (), ("*",), "unknown", "nowhere")
    cat = Catalogue()
    with pytest.raises(Exception, match="unknown claim"):
        cat.get("NOPE")


def test_junit_and_suite_expectations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite = tmp_path / "s.toml"
    suite.write_text(textwrap.dedent('''
        name = "t"
        [[run]]
        games = ["cyclic:n=3,skew=1/2"]
        betas = ["1/20"]
        solvers = [{ name = "nash-mp", eta = "4*max" }]
        steps = 20
        digits = 30
        claims = ["NMP-KL-STEP", "NMP-KL0"]
        ignore_hypotheses = true
        expect = { "NMP-KL-STEP" = "violated" }
    '''))
    junit = tmp_path / "r.xml"
    code, out, _ = run_cli(capsys, "check", str(suite), "--junit", str(junit), "--json")
    report = json.loads(out)
    assert code == 0, report
    outcomes = {v["claim"]: v["outcome"] for v in report["verdicts"]}
    assert outcomes == {"NMP-KL-STEP": "expected", "NMP-KL0": "pass"}
    assert report["elapsed_seconds"] >= 0
    root = ET.parse(junit).getroot()
    assert root.get("tests") == "2" and root.get("failures") == "0"
    # Remove the expectation: the same violation now fails the run.
    suite.write_text(suite.read_text().replace('expect = { "NMP-KL-STEP" = "violated" }', ""))
    code, _, _ = run_cli(capsys, "check", str(suite), "--junit", str(junit))
    assert code == 1
    assert ET.parse(junit).getroot().get("failures") == "1"


@pytest.mark.parametrize("body, message", [
    ('[[run]]\ngames=["rps"]\nbetas=["0"]\nsolvers=["nash-mp"]', "beta"),
    ('[[run]]\ngames=["rps"]\nbetas=["1/2"]\nsolvers=["nope"]', "unknown solver"),
    ('[[run]]\ngames=["rps"]\nbetas=["1/2"]\nsolvers=["nash-mp"]\nclaims=["NOPE"]', "unknown claim"),
    ('[[run]]\ngames=["rps"]\nbetas=["1/2"]\nsolvers=["nash-mp"]\nbogus=1', "unknown key"),
    ('[[run]\n', "invalid TOML"),
    ('name = "empty"', "no [[run]]"),
])
def test_bad_suites_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, message: str) -> None:
    suite = tmp_path / "bad.toml"
    suite.write_text(body)
    code, _, err = run_cli(capsys, "check", str(suite))
    assert code == 2 and err.startswith("error:") and message in err and err.count("\n") == 1


def test_dimension_family_small() -> None:
    from nashproof.verify import check_dimension

    v = check_dimension(builtin_catalogue().get("NMP-DIM"), "cyclic:n={n},skew=1/2", [3, 5, 9, 65],
                        Fraction(1, 10), Fraction(2), 20, digits=30)
    assert v.status == "pass"
    sizes = v.extra["sizes"]
    assert isinstance(sizes, list) and [row["backend"] for row in sizes] == ["mpmath"] * 3 + ["float"]
    assert all(float(row["worst_step_ratio"]) <= 1 for row in sizes)


# ------------------------------------------------------------------ verdict bugs (issues 9 and 13)


@pytest.mark.parametrize("digits", [5, 12])
def test_nothing_evaluated_is_never_a_pass(digits: int) -> None:
    """A grossly false bound and a step claim off by ×10: below the floor at every iterate, so
    inconclusive with a precision to rerun at; at that precision both are violated."""
    from nashproof.claims import Expl, KL_next, KL_rev

    false = Claim("FALSE-EXPL", "false", "bound", "exploitability", (sp.Le(Expl, beta * KL_rev / 2),), (), ("*",),
                  "E", "test")
    step10 = Claim("STEP-10", "off by 10", "step", "kl", (sp.Le(KL_next, KL / (10 * (1 + eta * beta))),), (),
                   ("*",), "E", "test")
    game, solver = load_game("cyclic:n=5,skew=1/3"), NashMP(Fraction(1, 10), Fraction(2))
    data = collect(game, solver, 10, digits)
    verdicts = [check_claim(c, data) for c in (false, step10)]
    assert [v.status for v in verdicts] == ["inconclusive", "inconclusive"]
    assert all("nothing evaluated" in v.note and v.needed_digits for v in verdicts)
    rerun = collect(game, solver, 10, max(v.needed_digits or 0 for v in verdicts))
    assert [check_claim(c, rerun).status for c in (false, step10)] == ["violated", "violated"]


def _kl_run(ratio: float, rel_err: float, steps: int = 12) -> object:
    """A stand-in run whose KL contracts by exactly ``ratio``·ρ per step, each value known to ± rel_err."""
    from types import SimpleNamespace

    rho = 1 / (1 + mpmath.mpf(2) / 10)
    kl = [(rho * mpmath.mpf(ratio)) ** t for t in range(steps + 1)]
    return SimpleNamespace(values={"kl": kl}, errors={"kl": [x * mpmath.mpf(rel_err) for x in kl]}), rho


@pytest.mark.parametrize("ratio, rel_err, status", [
    (0.99986, 5e-4, "inconclusive"),  # issue 9: the raw ratio is < 1, only the error interval reaches 1.0009
    (1.01, 1e-4, "violated"),  # every point of the interval is > 1
    (0.99, 1e-6, "pass"),
])
def test_dimension_verdict_is_certain_both_ways(ratio: float, rel_err: float, status: str) -> None:
    from nashproof.verify import DimensionRow, Verdict
    from nashproof.verify.dimension import _dimension_bounds, _dimension_verdict

    data, rho = _kl_run(ratio, rel_err)
    step, const, _ = _dimension_bounds(data, rho)  # type: ignore[arg-type]
    # Independent: the largest step ratio and its interval ends, by hand.
    assert abs(float(step.mid) - ratio) < 1e-12
    assert abs(float(step.high) - ratio * (1 + rel_err) / (1 - rel_err)) < 1e-12
    assert abs(float(step.low) - ratio * (1 - rel_err) / (1 + rel_err)) < 1e-12
    row = DimensionRow(8, "mpmath", "", "", "1", step.points)
    v = _dimension_verdict(Verdict("NMP-DIM", "pass", "A", "dimension"), [row], [step, const])
    assert v.status == status


def test_static_quantities_carry_a_real_error() -> None:
    """KL(π*‖π_ref) and P(π_ref ≻ π*) at 20 digits: a nonzero error that covers the 60-digit value."""
    game, solver = load_game("random:n=5,seed=0"), NashMP(Fraction(1, 10), Fraction(2))
    low, ref = collect(game, solver, 2, digits=20), collect(game, solver, 2, digits=60)
    with mpmath.workdps(80):
        for name in ("kl_ref_star", "p_ref_star"):
            err = low.static_errors[name]
            assert 0 < err < mpmath.mpf("1e-15")
            assert abs(low.statics[name] - ref.statics[name]) <= err
            assert low.at(0)[1][name] == err


def test_two_action_sandwich_lower_side_is_a_proved_equality(capsys: pytest.CaptureFixture[str]) -> None:
    """On 2 actions Aδ is constant, so Expl_β(π) = β KL(π‖π*) exactly: status equality, exit 0."""
    from nashproof.verify.binding import _field_gaps_constant

    assert _field_gaps_constant(load_game("bradley-terry:scores=1+3"))
    assert not _field_gaps_constant(load_game("cyclic:n=3,skew=1/2"))
    code, out, _ = run_cli(capsys, "check", "--game", "bradley-terry:scores=1+3", "--solver", "nash-mp", "--beta",
                           "1/10", "--claim", "EXPL-SANDWICH", "--steps", "20", "--json")
    v = json.loads(out)["verdicts"][0]
    assert code == 0 and v["status"] == "equality" and "proved" in v["note"], v
    # Independent check of the identity: Expl_β(π_k) − β KL(π_k‖π*) vanishes to the working precision.
    data = collect(load_game("bradley-terry:scores=1+3"), NashMP(Fraction(1, 10)), 5, 40)
    assert data.values["kl"][0] > mpmath.mpf("1e-3")  # a real trajectory, not π_ref = π*
    with mpmath.workdps(60):
        for t in range(6):
            gap = data.values["exploitability"][t] - data.values["kl_reverse"][t] / 10
            assert abs(gap) < mpmath.mpf("1e-38")


def test_unproved_numerical_equality_is_inconclusive() -> None:
    """Transitive game at β = 1/1000: the lower side is tight to ~1e-217, equal at every feasible
    precision. Equality that is not proved is inconclusive (issue 17), never ``equality``; the same
    claim shifted by 10^-(D+G/2) is inconclusive too."""
    from nashproof.claims import Expl, KL_rev

    game, solver = load_game("transitive:n=4"), NashMP(Fraction(1, 1000), Fraction(2))
    data = collect(game, solver, 5, 30, guard=20)
    lower = Claim("LOWER", "sandwich lower side", "bound", "exploitability", (sp.Le(beta * KL_rev, Expl),), (),
                  ("*",), "D", "test")
    v = check_claim(lower, data)
    assert v.status == "inconclusive", v
    shifted = Claim("SHIFTED", "lower side minus a resolvable margin", "bound", "exploitability",
                    (sp.Le(beta * KL_rev + sp.Rational(1, 10**40), Expl),), (), ("*",), "E", "test")
    assert check_claim(shifted, data).status == "inconclusive"


def test_float_screening_error_comes_from_a_second_precision() -> None:
    """Float screening runs float64 and longdouble: the doubling term is present, statics carry an
    error, and every reported value lies within its error of a 40-digit mpmath run."""
    from nashproof.backends import extended_available

    if not extended_available():
        pytest.skip("longdouble is float64 on this platform: screening keeps its fixed floor")
    game, solver = load_game("random:n=12,seed=3,skew=1/2"), NashMP(Fraction(1, 10), Fraction(2))
    screened, ref = collect(game, solver, 15, 30, backend="float"), collect(game, solver, 15, 40)
    assert not screened.lows  # no equality from float screening: its "guard" is about 3 digits
    with mpmath.workdps(60):
        for name in ("kl", "exploitability", "span", "l1"):
            for t in range(16):
                assert abs(screened.values[name][t] - ref.values[name][t]) <= screened.errors[name][t]
        for name in ("kl_ref_star", "p_ref_star"):
            assert 0 < abs(screened.statics[name] - ref.statics[name]) <= screened.static_errors[name]
