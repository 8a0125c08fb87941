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
    assert flagged.slower and flagged.status == "violated"


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
