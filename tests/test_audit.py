"""Mutation tests for `nashproof audit`: every wrong implementation flagged, every correct one passed."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from nashproof.audit import audit_trace, call_candidate, tolerance
from nashproof.cli import main

IMPLS = Path(__file__).parent / "audit_impls"
GOOD = sorted(IMPLS.glob("good_*.py"))
BAD = sorted(IMPLS.glob("bad_*.py"))


def audit(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> tuple[int, dict[str, object]]:
    code = main(["audit", "--solver", f"{path}:update", "--declared", "nash-mp", "--eta", "2", "--timeout", "1",
                 "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_the_battery_has_enough_mutants() -> None:
    assert len(GOOD) >= 3 and len(BAD) >= 8


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_correct_implementations_pass(capsys: pytest.CaptureFixture[str], path: Path) -> None:
    code, report = audit(capsys, path)
    assert code == 0 and report["consistent"], report["first_departure"]
    assert 0 < float(report["worst_error_over_tolerance"]) < 0.1  # rounding is seen, and far inside
    ident = report["identification"]
    assert isinstance(ident, dict) and ident["rule"] == "nash-mp" and ident["eta"] == "2"
    claims = report["claims"]
    assert isinstance(claims, list) and claims and all(c["status"] == "pass" for c in claims)


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_wrong_implementations_are_flagged(capsys: pytest.CaptureFixture[str], path: Path) -> None:
    code, report = audit(capsys, path)
    assert code == 1 and not report["consistent"]
    first = report["first_departure"]
    assert isinstance(first, dict) and first["kind"] in ("conformance", "validation")


@pytest.mark.parametrize("name, rule, eta", [("bad_step_size", "nash-mp", "1"), ("bad_is_mmd", "mmd", "2")])
def test_identification_names_what_it_is(capsys: pytest.CaptureFixture[str], name: str, rule: str, eta: str) -> None:
    _, report = audit(capsys, IMPLS / f"{name}.py")
    ident = report["identification"]
    assert isinstance(ident, dict) and ident["explains"] and (ident["rule"], ident["eta"]) == (rule, eta)
    messages = [f["message"] for f in report["findings"] if f["kind"] == "identification"]  # type: ignore[index,union-attr]
    assert any(f"{rule} with η = {eta}, not the declared nash-mp" in str(m) for m in messages)


def test_anchor_bug_is_invisible_from_pi_ref_but_caught_elsewhere(capsys: pytest.CaptureFixture[str]) -> None:
    _, report = audit(capsys, IMPLS / "bad_anchor_ref.py")
    findings = [f for f in report["findings"] if f["kind"] == "conformance"]  # type: ignore[union-attr]
    assert findings and all(f["start"] != "π_ref" for f in findings)  # type: ignore[index]


def test_hang_and_exception_become_findings(capsys: pytest.CaptureFixture[str]) -> None:
    _, report = audit(capsys, IMPLS / "bad_hangs.py")
    assert any("did not return" in str(f["message"]) for f in report["findings"])  # type: ignore[index,union-attr]
    _, report = audit(capsys, IMPLS / "bad_raises.py")
    assert any("raised ValueError" in str(f["message"]) for f in report["findings"])  # type: ignore[index,union-attr]


def test_output_validation() -> None:
    pi = np.array([0.5, 0.25, 0.25])
    P = np.array([[0.5, 1, 0], [0, 0.5, 1], [1, 0, 0.5]])
    cases = {
        "shape": lambda *a: np.ones(2) / 2, "NaN": lambda *a: np.array([np.nan, 0.5, 0.5]),
        "negative": lambda *a: np.array([-0.1, 0.6, 0.5]), "summing": lambda *a: np.array([0.5, 0.5, 0.5]),
        "numeric": lambda *a: "abc", "zero": lambda *a: np.array([0.0, 0.5, 0.5]),
    }
    for word, fn in cases.items():
        out, problem = call_candidate(fn, pi, P, pi, 0.1, 2.0, 1.0)
        assert out is None and problem is not None and word in problem, (word, problem)
    out, problem = call_candidate(lambda p, *a: p, pi, P, pi, 0.1, 2.0, 1.0)
    assert problem is None and out is not None


def test_tolerance_scales_with_the_problem() -> None:
    pi = np.array([0.5, 0.25, 0.25])
    small = tolerance(pi, pi, 0.1, 1.0, 3)
    assert tolerance(pi, pi, 0.1, 10.0, 3) > small and tolerance(pi, pi, 0.1, 1.0, 30) > small
    assert 1e-14 < small < 1e-10


def test_trace_audit_correct_and_wrong() -> None:
    # cyclic:n=5,skew=1/3 written out by hand: i beats i+1 and i+2 (mod 5); π_ref ∝ 3^-i.
    P = np.array([[0.5 if i == j else (1.0 if (j - i) % 5 in (1, 2) else 0.0) for j in range(5)] for i in range(5)])
    ref = np.array([3.0**-i for i in range(5)])
    ref = ref / ref.sum()

    def step(pi: np.ndarray, eta: float, beta: float) -> np.ndarray:
        def prox(opp: np.ndarray) -> np.ndarray:
            z = (np.log(pi) + eta * beta * np.log(ref) + eta * (P @ opp)) / (1 + eta * beta)
            e = np.exp(z - z.max())
            return e / e.sum()
        return prox(prox(pi))

    for eta_used, expect_ok in ((2.0, True), (1.5, False)):
        pi, its = ref.copy(), []
        for _ in range(12):
            its.append([repr(float(x)) for x in pi])
            pi = step(pi, eta_used, 0.05)
        data = {"game": "cyclic:n=5,skew=1/3", "beta": "1/20", "eta": "2", "iterates": its}
        report = audit_trace(data, "nash-mp")
        assert report.consistent is expect_ok, report.findings[:2]
        if expect_ok:
            assert report.claims and all(v.status in ("pass", "not-applicable") for v in report.claims)
        else:
            assert report.identification is not None and report.identification.eta == "3/2"
            # Claims stated for η = 2 are evaluated on an η = 3/2 trajectory: the contraction is too slow.
            assert any(v.status == "violated" for v in report.claims)
    # Printed with 6 significant digits, a correct trace still passes: the tolerance follows the trace.
    pi, its = ref.copy(), []
    for _ in range(8):
        its.append([f"{x:.6g}" for x in pi])
        pi = step(pi, 2.0, 0.05)
    report = audit_trace({"game": "cyclic:n=5,skew=1/3", "beta": "1/20", "eta": "2", "iterates": its}, "nash-mp")
    assert report.consistent


@pytest.mark.parametrize("argv, fragment", [
    (["--solver", "missing.py:update", "--declared", "nash-mp"], "not found"),
    (["--solver", "tests/audit_impls/good_logits.py:nope", "--declared", "nash-mp"], "no callable"),
    (["--solver", "tests/audit_impls/good_logits.py", "--declared", "nash-mp"], "must look like"),
    (["--solver", "tests/audit_impls/good_logits.py:update", "--declared", "magic"], "declared"),
    (["--declared", "nash-mp"], "exactly one"),
    (["--trace", "missing.json", "--declared", "nash-mp"], "not found"),
    (["--solver", "tests/audit_impls/good_logits.py:update", "--declared", "nash-mp", "--eta", "0"], "eta"),
])
def test_bad_audit_input_exits_2(capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str) -> None:
    assert main(["audit", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and fragment in err and err.count("\n") == 1


def test_declared_mmd_accepts_a_correct_mmd(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["audit", "--solver", f"{IMPLS / 'bad_is_mmd.py'}:update", "--declared", "mmd", "--eta", "1/5",
                 "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["identification"]["rule"] == "mmd"
    assert Fraction(report["identification"]["eta"]) == Fraction(1, 5)
