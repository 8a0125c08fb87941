"""`nashproof audit`: every wrong implementation flagged with a diagnosis, every correct one passed, at
every β and as a trace; the candidate never controls the audit (it runs in a killable worker)."""

from __future__ import annotations

import functools
import itertools
import json
import math
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from helpers import HAS_TORCH, IMPLS, audit_impl
from helpers import float_context as _context
from helpers import load_impl as _load

from nashproof.audit import AuditOptions, AuditReport, StepSpec, audit_update, tolerance
from nashproof.audit.trace import audit_trace
from nashproof.audit.worker import Worker, validate
from nashproof.cli import main
from nashproof.families import load_game

GOOD = sorted(IMPLS.glob("good_*.py"))
BAD = sorted(IMPLS.glob("bad_*.py"))
SMALL = ("cyclic:n=5,skew=1/3", "contextual:n=4,contexts=2,skew=1/2")


def audit(capsys: pytest.CaptureFixture[str], path: Path, *extra: str, name: str = "update",
          declared: str = "nash-mp", eta: str = "2") -> tuple[int, dict[str, object]]:
    code = main(["audit", "--solver", f"{path}:{name}", "--declared", declared, "--eta", eta, "--timeout", "120",
                 "--budget", "3600", "--json", *extra])  # generous limits: no test depends on machine speed
    return code, json.loads(capsys.readouterr().out)


def small(target: str, declared: str, eta: str | None, games: tuple[str, ...] = SMALL, **opts: object) -> AuditReport:
    """An audit on two games (cyclic and contextual), claims off: cheap enough for a unit test."""
    return audit_impl(target, declared, eta, games, **opts)


def messages(report: AuditReport, kind: str = "identification") -> str:
    return " | ".join(f.message for f in report.findings if f.kind == kind)


# ------------------------------------------------------------------ the mutation battery (full CLI)


def test_the_battery_has_enough_mutants() -> None:
    assert len(GOOD) >= 5 and len(BAD) >= 12


def test_a_correct_implementation_passes_with_claims(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = audit(capsys, IMPLS / "good_logits.py")
    assert code == 0 and report["consistent"], report["first_departure"]
    ident = report["identification"]
    assert isinstance(ident, dict) and ident["rule"] == "nash-mp" and ident["eta"] == "2" and ident["explains"]
    claims = report["claims"]
    assert isinstance(claims, list) and claims and all(c["status"] == "pass" for c in claims)


@functools.cache
def full(path: Path, timeout: float = 120) -> AuditReport:
    """The whole battery (six games, two β), claims off. Cached: tests of one candidate share its audit (they
    only read the report) when they run in one process, which their common ``xdist_group`` ensures."""
    return audit_update(f"{path}:update", "nash-mp", StepSpec.parse("2", "nash-mp"),
                        options=AuditOptions(with_claims=False, timeout=timeout, budget=3600))


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_correct_implementations_pass(path: Path) -> None:
    report = full(path)
    assert report.exit_code == 0, report.findings[:2]
    assert 0 < report.worst_ratio < 0.1  # rounding is seen, and far inside
    assert report.identification is not None and report.identification.rule == "nash-mp"


@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.xdist_group(p.stem)) for p in BAD],
                         ids=lambda p: p.stem)
def test_wrong_implementations_are_flagged(path: Path) -> None:
    # a hang is endless, so its limit is what the test exercises (the other calls take microseconds)
    report = full(path, timeout=3) if path.stem == "bad_hangs" else full(path)
    assert report.exit_code == 1 and not report.consistent
    first = next(f for f in report.findings if f.failed)
    assert first.kind in ("conformance", "validation")
    assert "diagnosis" in messages(report) or first.kind == "validation"  # a departure comes with a diagnosis


@pytest.mark.parametrize("name, rule, eta", [
    pytest.param("bad_step_size", "nash-mp", "1", marks=pytest.mark.xdist_group("bad_step_size")),
    pytest.param("bad_is_mmd", "mmd", "2", marks=pytest.mark.xdist_group("bad_is_mmd"))])
def test_identification_names_what_it_is(name: str, rule: str, eta: str) -> None:
    report = full(IMPLS / f"{name}.py")
    ident = report.identification
    assert ident is not None and ident.explains and (ident.rule, ident.eta) == (rule, eta)
    found = messages(report)
    assert f"{rule} with η = {eta} at every β" in found and "not the declared nash-mp" in found, found


def test_honest_underflow_is_not_a_zero_probability_bug() -> None:
    """Nash-MD at β = 1/1000: η_0 = 1/β = 1000, the exact step's probabilities go below float64's range and a
    correct implementation returns zeros (was flagged, "returned a zero probability"); those steps are skipped
    with a note. A hard threshold that zeroes probabilities at a moderate step is still flagged."""
    games = ("cyclic:n=5,skew=1/3",)
    ok = audit_update(str(IMPLS / "corpus_schedule.py:update"), "nash-md", StepSpec.parse(None, "nash-md"),
                      betas=(Fraction(1, 1000),), games=games,
                      options=AuditOptions(with_claims=False, timeout=120, budget=3600))
    assert ok.exit_code == 0 and ok.checked_steps > 0 and "honest underflow" in messages(ok, "validation")
    bad = small("corpus_misc.py:mmd_zero_floor", "mmd", "1/2", games=("cyclic:n=7,skew=1/4",))
    assert bad.exit_code == 1 and "zero probability" in messages(bad, "validation")
    assert "honest underflow" not in messages(bad, "validation")


@pytest.mark.parametrize("target, declared, eta, named", [
    # Pᵀσ = 1 − Pσ: was "mixture weight decoupled … the step η = −2"
    ("bad_transposed.py:update", "nash-mp", "2", "Pᵀ in place of P (the opponent's preference), nash-mp with η = 2"),
    # these two were "no known rule or named diagnosis explains the steps"
    ("bad_centre_half.py:update", "nash-mp", "2", "the full step centred at the half step instead of π_k (nash-mp) "
                                                  "with η = 2"),
    # η_e = 1/4 at β = 1/20, 1/2 is η = 20/79, 2/7; the full step's 2η_e = 1/2 is η = 20/39, 2/3
    ("corpus_misc.py:egpo_full_step_slip", "extragradient", "1/4",
     "half step η = 20/79, full step η = 20/39; at β = 1/2: half and full steps at different step sizes "
     "(full/half = 7/3) with half step η = 2/7, full step η = 2/3"),
])
def test_diagnosis_names_the_cause(target: str, declared: str, eta: str, named: str) -> None:
    report = small(target, declared, eta, games=("cyclic:n=5,skew=1/3",))  # β = 1/20 and 1/2
    found = messages(report)
    assert report.exit_code == 1 and "diagnosis: the steps are" in found and named in found and "η = -" not in found, \
        found


def test_a_rule_within_float64_beats_the_float32_diagnosis() -> None:
    """MMD at η = 1/200 declared as OMD at η = 1/200: its steps differ by O(η²β), inside float32's tolerance; the
    diagnosis was "float32 rounding" although the data are float64 and MMD explains them within float64's."""
    found = messages(small("corpus_class_magnet.py:update", "omd", "1/200", games=("cyclic:n=5,skew=1/3",)))
    assert "float32" not in found and "the steps are mmd with η = 1/200" in found, found


@pytest.mark.xdist_group("bad_anchor_ref")
def test_anchor_bug_is_invisible_from_pi_ref_but_caught_elsewhere() -> None:
    report = full(IMPLS / "bad_anchor_ref.py")
    findings = [f for f in report.findings if f.kind == "conformance"]
    assert findings and all(f.start != "π_ref" for f in findings)


# ------------------------------------------------------------------ A: rules as classes at one β


@pytest.mark.parametrize("target, declared, eta, beta", [
    ("corpus_class_magnet.py:update", "mmd", "1/5", "1/20"),  # was "the steps are omd with η = 20/101", exit 1
    ("good_egpo.py:update", "nash-mp", "2", "1/2"),
    ("corpus_misc.py:egpo", "extragradient", "1", "1/2"),  # EGPO η_e = 1 is Nash-MP η = 2 at β = 1/2
    ("corpus_misc.py:mwu", "mwu", "1/2", "1/3"),
])
def test_one_beta_does_not_flag_an_equivalent_rule(capsys: pytest.CaptureFixture[str], target: str, declared: str,
                                                   eta: str, beta: str) -> None:
    path, _, name = target.partition(":")
    code, report = audit(capsys, IMPLS / path, "--beta", beta, name=name, declared=declared, eta=eta)
    assert code == 0, report["first_departure"]
    summary = report["identification"]["summary"]  # type: ignore[index]
    other = {"mmd": "omd", "nash-mp": "extragradient", "extragradient": "extragradient", "mwu": ""}[declared]
    assert ("same map as" in summary and other in summary) if other else "same map" not in summary


def test_equivalence_maps_agree_to_rounding() -> None:
    """The class identities, checked numerically on the 40-digit maps (independent of the identifier)."""
    from nashproof.audit import ReferenceMap
    from nashproof.audit.steps import solver_for as _solver

    ctx = load_game("random:n=5,seed=2,skew=1/2").contexts[0]
    pi = np.array([0.1, 0.3, 0.2, 0.15, 0.25])
    beta, eta = Fraction(1, 7), Fraction(3, 2)
    pairs = [(("nash-mp", eta), ("extragradient", eta / (1 + eta * beta))),
             (("mmd", eta), ("omd", eta / (1 + eta * beta)))]
    for (r1, e1), (r2, e2) in pairs:
        a = ReferenceMap(ctx, _solver(r1, beta, e1)).exact(pi)
        b = ReferenceMap(ctx, _solver(r2, beta, e2)).exact(pi)
        assert np.max(np.abs(a - b)) < 1e-15
    # and they are not the same map at another step
    c = ReferenceMap(ctx, _solver("omd", beta, eta)).exact(pi)
    assert np.max(np.abs(c - ReferenceMap(ctx, _solver("mmd", beta, eta)).exact(pi))) > 1e-3


# ------------------------------------------------------------------ B: traces at their own precision


def _nash_mp_trace(eta: float, beta: float, start: np.ndarray, k: int = 12) -> list[np.ndarray]:
    P, ref = _context()

    def prox(pi: np.ndarray, opp: np.ndarray) -> np.ndarray:
        z = (np.log(pi) + eta * beta * np.log(ref) + eta * (P @ opp)) / (1 + eta * beta)
        e = np.exp(z - z.max())
        return e / e.sum()

    out, pi = [], start
    for _ in range(k):
        out.append(pi)
        pi = prox(pi, prox(pi, pi))
    return out


def _trace(its: list[np.ndarray], fmt: object, **extra: object) -> dict[str, object]:
    data = {"game": "cyclic:n=5,skew=1/3", "beta": "1/20", "eta": "2",
            "iterates": [[fmt(float(x)) for x in p] for p in its], **extra}  # type: ignore[operator]
    return json.loads(json.dumps(data), parse_float=str)  # type: ignore[no-any-return]


def test_trace_audit_correct_and_wrong() -> None:
    _, ref = _context()
    good, slow = _nash_mp_trace(2.0, 0.05, ref), _nash_mp_trace(1.5, 0.05, ref)
    report = audit_trace(_trace(good, float), "nash-mp")
    assert report.exit_code == 0 and report.claims and all(v.status in ("pass", "not-applicable")
                                                           for v in report.claims)
    report = audit_trace(_trace(slow, float), "nash-mp")
    assert report.exit_code == 1 and report.identification is not None and report.identification.eta == "3/2"
    # claims stated for η = 2 on an η = 3/2 run: NMP-EXPL's tail looks slower (a rate with no proved
    # constant is evidence only, never violated: issue 17)
    assert any(v.claim == "NMP-EXPL" and v.slower and v.status == "inconclusive" for v in report.claims)


@pytest.mark.parametrize("fmt", ["%.6g", "%.8g", "%.17g"])
def test_trace_precision_is_per_number(fmt: str) -> None:
    """A short exact start ("0.2") no longer widens the whole trace's tolerance: a 10 % slip is still caught."""
    uniform = np.full(5, 0.2)
    good, slip = _nash_mp_trace(2.0, 0.05, uniform), _nash_mp_trace(2.2, 0.05, uniform)
    assert audit_trace(_trace(good, lambda x: fmt % x), "nash-mp").exit_code == 0
    bad = audit_trace(_trace(slip, lambda x: fmt % x), "nash-mp")
    assert bad.exit_code == 1 and "η = 11/5" in messages(bad)


def test_trace_too_coarse_to_decide_is_inconclusive(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _, ref = _context()
    its = _nash_mp_trace(2.0, 0.05, ref, k=3)
    path = tmp_path / "coarse.json"
    path.write_text(json.dumps(_trace(its, lambda x: f"{x:.2g}")))
    assert main(["audit", "--trace", str(path), "--declared", "nash-mp"]) == 3
    assert "cannot decide" in capsys.readouterr().out


def test_trace_at_a_fixed_point_says_why_it_cannot_decide() -> None:
    """rps with a uniform π_ref: π_0 = π* and every step size maps it to itself; more digits would not help (the
    message used to ask for them)."""
    its = [[repr(1 / 3)] * 3] * 6
    report = audit_trace({"game": "rps", "beta": "1/10", "eta": "1/5", "iterates": its}, "mmd")
    assert report.exit_code == 3 and "fixed point" in report.inconclusive and "more digits" not in report.inconclusive
    _, ref = _context()
    coarse = audit_trace(_trace(_nash_mp_trace(2.0, 0.05, ref, k=3), lambda x: f"{x:.2g}"), "nash-mp")
    assert coarse.exit_code == 3 and "more digits" in coarse.inconclusive


def test_float32_traces_use_float32_tolerance() -> None:
    f32 = _load("corpus_float32")
    P, ref = _context()
    start = ref.astype(np.float32).astype(np.float64)

    def run(eta: float) -> list[np.ndarray]:
        its, pi = [], start
        for _ in range(10):
            its.append(pi)
            pi = f32.update(pi, P, ref, 0.05, eta).astype(np.float64)
        return its

    good, bad = run(2.0), run(1.0)
    # JSON numbers (17 digits), float32's own repr, and %.8g: each detected as float32 from its values
    for fmt in (float, lambda x: str(np.float32(x)), lambda x: f"{x:.8g}"):
        rep = audit_trace(_trace(good, fmt), "nash-mp")
        assert rep.exit_code == 0 and rep.precision == "float32", rep.findings[:2]
        rep = audit_trace(_trace(bad, fmt), "nash-mp")
        assert rep.exit_code == 1 and "η = 1 " in messages(rep)
    # declared float64, a float32 trace is flagged with the float32 diagnosis
    rep = audit_trace(_trace(good, float, precision="float64"), "nash-mp")
    assert rep.exit_code == 1 and "float32 arithmetic" in messages(rep) and "--precision" not in messages(rep)


def test_float64_data_are_not_mistaken_for_float32() -> None:
    from nashproof.audit.trace import _is_float32_text

    rng = np.random.default_rng(1)
    for fmt in ("%.7g", "%.8g", "%.9g", "%.17g"):
        for _ in range(20):
            assert not _is_float32_text([fmt % x for x in rng.dirichlet(np.ones(5), 10).ravel()])
    assert _is_float32_text([str(np.float32(x)) for x in rng.dirichlet(np.ones(5), 10).ravel()])


def test_trace_with_eta_forms_and_schedule() -> None:
    _, ref = _context()
    good = _nash_mp_trace(2.0, 0.05, ref)
    for declared, eta in (("extragradient", "20/11"), ("nash-mp", "gamma=1/10"), ("nash-mp", "eta_e=20/11"),
                          ("nash-mp", "auto")):
        data = _trace(good, float)
        data["eta"] = eta
        assert audit_trace(data, declared).exit_code == 0, (declared, eta)
    P, _ = _context()
    pi, its = ref.copy(), []
    for t in range(10):  # Nash-MD's own schedule η_t = 2/(β(t+2)), written out independently
        its.append(pi)
        e = 2 / (0.05 * (t + 2))
        mu = np.exp((1 - e * 0.05) * np.log(pi) + e * 0.05 * np.log(ref))
        mu /= mu.sum()
        pi = mu * np.exp(e * (P @ mu))
        pi /= pi.sum()
    data = _trace(its, float)
    del data["eta"]
    assert audit_trace(data, "nash-md").exit_code == 0


@pytest.mark.parametrize("iterates, fragment", [
    ([["0.2"] * 5, ["0.5", "-0.1", "0.2", "0.2", "0.2"]], "not a probability"),
    ([["0", "0.25", "0.25", "0.25", "0.25"], ["0.2"] * 5], "iterate 0 has a zero"),
    ([["1e-400", "0.25", "0.25", "0.25", "0.25"], ["0.2"] * 5], "outside float64's range"),
    ([["1e-320", "0.25", "0.25", "0.25", "0.25"], ["0.2"] * 5], "below 1e-300"),
    ([["1e999999", "0.25", "0.25", "0.25", "0.25"], ["0.2"] * 5], "outside float64's range"),
])
def test_bad_trace_entries_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path, iterates: object,
                                  fragment: str) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"game": "cyclic:n=5,skew=1/3", "beta": "1/20", "eta": "2", "iterates": iterates}))
    assert main(["audit", "--trace", str(path), "--declared", "nash-mp"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and fragment in err and err.count("\n") == 1


def test_trace_zero_entry_later_is_a_finding_not_a_hang() -> None:
    data = {"game": "cyclic:n=5,skew=1/3", "beta": "1/20", "eta": "2",
            "iterates": [["0.2"] * 5, ["0", "0.25", "0.25", "0.25", "0.25"]]}
    rep = audit_trace(data, "nash-mp")
    assert rep.exit_code == 1 and "zero probability" in rep.findings[0].message


def test_trace_that_is_a_directory_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["audit", "--trace", str(tmp_path), "--declared", "nash-mp"]) == 2
    assert "directory" in capsys.readouterr().err


# ------------------------------------------------------------------ C and issue 13: the candidate does not control


@pytest.mark.parametrize("name, fragment", [
    ("exit0", "raised SystemExit: 0"), ("exit3", "raised SystemExit: 3"),
    ("hard_exit", "worker process ended"), ("ignore_alarm", "did not return within"),
    ("complex_out", "complex"), ("huge_int", "overflow"), ("objects", "objects"),
])
def test_hostile_candidates_are_findings(capsys: pytest.CaptureFixture[str], name: str, fragment: str) -> None:
    timeout = "1" if name == "ignore_alarm" else "120"  # only the hanging one meets its limit
    code = main(["audit", "--solver", f"{IMPLS / 'hostile.py'}:{name}", "--declared", "nash-mp", "--eta", "2",
                 "--timeout", timeout, "--budget", "3600", "--json"])
    out = capsys.readouterr().out
    report = json.loads(out)
    assert code == 1 and report["exit_code"] == 1 and fragment in report["first_departure"]["message"]


def test_candidate_cannot_patch_the_report_or_print_into_it(capsys: pytest.CaptureFixture[str]) -> None:
    rep = small("hostile.py:patch_report", "nash-mp", "2", games=SMALL[:1])
    assert rep.exit_code == 1 and not rep.consistent  # patched in the worker only
    assert AuditReport.__dict__["exit_code"].fget is not None and AuditReport(  # unchanged here
        "nash-mp", Fraction(2), [], findings=[]).exit_code == 3
    code = main(["audit", "--solver", f"{IMPLS / 'hostile.py'}:prints", "--declared", "mmd", "--eta", "2", "--json"])
    report = json.loads(capsys.readouterr().out)  # its print went to /dev/null, not into our JSON
    assert code == 0 and report["consistent"]


def test_a_slow_candidate_runs_out_of_budget_not_forever(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["audit", "--solver", f"{IMPLS / 'hostile.py'}:sleepy", "--declared", "mmd", "--eta", "2",
                 "--budget", "2"])
    assert code == 3 and "time budget" in capsys.readouterr().out


def test_a_fifo_solver_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "solver.py"
    os.mkfifo(fifo)
    assert main(["audit", "--solver", f"{fifo}:update", "--declared", "nash-mp"]) == 2
    assert "not a regular file" in capsys.readouterr().err


def test_worker_runs_in_a_temporary_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rep = small("hostile.py:writes_cwd", "mmd", "2")
    assert rep.exit_code == 0 and not (tmp_path / "scratch.txt").exists()


def test_worker_validates_what_comes_back() -> None:
    P, ref = _context()
    pi = np.full(5, 0.2)
    with Worker(f"{IMPLS / 'hostile.py'}:complex_out", 2.0) as w:
        a = w.call(pi, P, ref, 0.05, 2.0)
        assert a.out is None and a.problem is not None and "complex" in a.problem
    cases = {"NaN": np.array([np.nan, 0.5, 0.5]), "negative": np.array([-0.1, 0.6, 0.5]),
             "summing": np.array([0.5, 0.5, 0.5]), "zero": np.array([0.0, 0.5, 0.5])}
    for word, arr in cases.items():
        problem = validate(arr, 2.0**-52)
        assert problem is not None and word in problem
    assert validate(np.array([0.5, 0.25, 0.25]), 2.0**-52) is None


def test_load_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "exits_on_import.py"
    bad.write_text("import sys\nsys.exit(0)\n")
    assert main(["audit", "--solver", f"{bad}:update", "--declared", "nash-mp"]) == 2
    assert "SystemExit" in capsys.readouterr().err


@pytest.mark.parametrize("argv, fragment", [
    (["--solver", "missing.py:update", "--declared", "nash-mp"], "not found"),
    (["--solver", "tests/audit_impls/good_logits.py:nope", "--declared", "nash-mp"], "no callable"),
    (["--solver", "tests/audit_impls/good_logits.py", "--declared", "nash-mp"], "must look like"),
    (["--solver", "tests/audit_impls/good_logits.py:update", "--declared", "magic"], "declared"),
    (["--declared", "nash-mp"], "exactly one"),
    (["--trace", "missing.json", "--declared", "nash-mp"], "not found"),
    (["--solver", "tests/audit_impls/good_logits.py:update", "--declared", "nash-mp", "--eta", "0"], "eta"),
    (["--solver", "tests/audit_impls/good_logits.py:update", "--declared", "nash-mp", "--timeout", "nan"], "timeout"),
    (["--solver", "tests/audit_impls/good_logits.py:update", "--declared", "nash-mp", "--timeout", "inf"], "timeout"),
    (["--solver", "tests/audit_impls/good_logits.py:update", "--declared", "nash-mp", "--timeout", "1e-9"], "timeout"),
    (["--solver", "tests/audit_impls/good_logits.py:update", "--declared", "nash-mp", "--eta", "lr=1"], "cannot read"),
    (["--solver", "tests/audit_impls/good_logits.py:update", "--declared", "mmd", "--eta", "gamma=1"], "gamma"),
    (["--solver", "tests/audit_impls/good_logits.py:update", "--declared", "omd", "--eta", "30"], "ηβ ≤ 1"),
    (["--solver", "tests/audit_impls/good_logits.py:update", "--declared", "nash-mp", "--oracle", "sampled"],
     "--samples"),
])
def test_bad_audit_input_exits_2(capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str) -> None:
    assert main(["audit", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and fragment in err and err.count("\n") == 1


# ------------------------------------------------------------------ D, E, F, G


@pytest.mark.slow
@pytest.mark.skipif(not HAS_TORCH, reason="torch is in the 'torch' extra")
def test_torch_tensors_that_require_grad_are_accepted() -> None:
    rep = small("corpus_torch.py:update", "nash-mp", "2")
    assert rep.exit_code == 0 and rep.precision == "float32"
    rep = small("corpus_torch.py:sgd_step", "mmd", "1/5")
    assert rep.exit_code == 1 and "policy-gradient step" in messages(rep) and "learning rate 1/5" in messages(rep)


def test_nash_md_schedule_without_eta() -> None:
    assert small("corpus_schedule.py:update", "nash-md", None).exit_code == 0
    assert small("corpus_schedule.py:update_state", "nash-md", None).exit_code == 0  # state instead of t
    slip = small("corpus_schedule.py:update_slip", "nash-md", None)
    assert slip.exit_code == 1 and "η_t = 1/2 × 2/(β(t+2))" in messages(slip)


def test_solver_file_may_import_a_sibling_module(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the sibling is found beside the file, not through the current directory
    assert "sibling_helper" not in sys.modules
    code, report = audit(capsys, IMPLS / "good_sibling.py")
    assert code == 0 and report["consistent"]


def test_output_never_contradicts_itself(capsys: pytest.CaptureFixture[str]) -> None:
    from nashproof.cli.audit import _print

    for name in ("bad_anchor_ref.py", "bad_is_mmd.py", "good_logits.py", "corpus_misc.py:decoupled"):
        target = name if ":" in name else f"{name}:update"
        _print(small(target, "nash-mp", "2", games=SMALL[:1]))
        out = capsys.readouterr().out
        explained = "the steps are" in out
        assert explained != ("no known rule" in out), out
        if "CONSISTENT" in out:
            assert "diagnosis" not in out


# ------------------------------------------------------------------ interfaces


def test_eta_auto_reports_the_candidates_own_step() -> None:
    rep = small("corpus_misc.py:own_lr", "mmd", "auto")
    assert rep.exit_code == 0 and rep.fitted.startswith("constant η = 3/10")
    rep = small("corpus_misc.py:gamma_const", "nash-mp", "auto")
    assert rep.exit_code == 0 and rep.fitted.startswith("constant γ = ηβ = 1/10")
    rep = small("corpus_misc.py:gamma_const", "extragradient", "auto")
    assert rep.exit_code == 0 and "η_e" in rep.fitted


@pytest.mark.parametrize("target, declared, eta", [
    ("corpus_misc.py:gamma_form", "nash-mp", "gamma=1/10"), ("corpus_misc.py:egpo", "nash-mp", "eta_e=1/2"),
    ("corpus_misc.py:egpo", "extragradient", "eta_e=1/2"), ("corpus_misc.py:egpo", "extragradient", "1/2"),
    ("corpus_class_magnet.py:update", "mmd", "lr=1/5,temp=1/20"),
    ("corpus_class_magnet.py:update", "omd", "lr=1/5,temp=1/20"),  # MMD's pair, declared as the same map (omd)
])
def test_declared_step_forms(target: str, declared: str, eta: str) -> None:
    """The candidate receives the step in the form declared (γ, η_e, lr), so nobody converts it by hand."""
    rep = small(target, declared, eta, games=SMALL[:1])
    assert rep.exit_code == 0, rep.findings[:2]


@pytest.mark.parametrize("target, declared, eta", [
    ("corpus_misc.py:gamma_form", "nash-mp", "2"),  # it takes γ and is handed η
    ("corpus_class_magnet.py:update", "omd", "20/101"),  # it takes MMD's lr and is handed omd's η
])
def test_a_step_in_the_wrong_form_is_flagged(target: str, declared: str, eta: str) -> None:
    assert small(target, declared, eta, games=SMALL[:1]).exit_code == 1


def test_batched_calls() -> None:
    rep = small("corpus_misc.py:batched", "nash-mp", "2", batched=True)
    assert rep.exit_code == 0 and rep.checked_steps > 0


def test_proximal_point_and_mwu_declared() -> None:
    assert small("corpus_misc.py:proximal", "proximal-point", "2").exit_code == 0
    assert small("corpus_misc.py:mwu", "mwu", "1/2").exit_code == 0
    rep = small("corpus_misc.py:mwu", "omd", "1/2")
    # OMD whose magnet is π_k is MWU at the same η exactly: the parameter-free name wins the AIC margin
    assert rep.exit_code == 1 and "the magnet equal to the current policy" in messages(rep)


def test_stochastic_candidates() -> None:
    exact = small("corpus_sampled.py:update", "mmd", "1/5", sampled=True, samples=0)
    assert exact.exit_code == 1 and "stochastic" in messages(exact, "determinism")
    good = small("corpus_sampled.py:update", "mmd", "1/5", SMALL[:1], sampled=True, samples=32, seed=3, steps=8)
    assert good.exit_code == 0, good.findings[:2]
    bad = small("corpus_sampled.py:update_uniform_opponent", "mmd", "1/5", SMALL[:1], sampled=True, samples=32,
                seed=3, steps=8)
    assert bad.exit_code == 1 and "confidence bound" in messages(bad, "conformance")


@pytest.mark.parametrize("target, fragment", [
    ("corpus_class_magnet.py:magnet_uniform", "π_ref ignored (uniform magnet)"),
    ("corpus_misc.py:decoupled", "mixture weight decoupled from the step"),
])
def test_named_diagnoses(target: str, fragment: str) -> None:
    declared = "mmd" if "magnet" in target else "nash-mp"
    rep = small(target, declared, "1/5" if declared == "mmd" else "2")
    assert rep.exit_code == 1 and fragment in messages(rep)


def test_float32_outputs_and_the_float32_diagnosis() -> None:
    assert small("corpus_float32.py:update", "nash-mp", "2").exit_code == 0
    upcast = small("corpus_float32.py:update_upcast", "nash-mp", "2")
    assert upcast.exit_code == 1 and "float32 arithmetic" in messages(upcast)
    assert "--precision" not in messages(upcast)  # never advice to audit float64 output at a looser precision
    assert small("corpus_float32.py:update_upcast", "nash-mp", "2", precision="float32").exit_code == 0


def test_tolerance_scales_with_the_problem() -> None:
    pi = np.array([0.5, 0.25, 0.25])
    t64 = tolerance(pi, pi, 0.1, 1.0, 3)
    assert tolerance(pi, pi, 0.1, 10.0, 3) > t64 and tolerance(pi, pi, 0.1, 1.0, 30) > t64
    assert 1e-14 < t64 < 1e-10 and tolerance(pi, pi, 0.1, 1.0, 3, 2.0**-23) == pytest.approx(t64 * 2**29)


# ------------------------------------------------------------------ the negative control


def test_omd_is_mmd_at_a_rescaled_step() -> None:
    from nashproof.backends import MpmathBackend
    from nashproof.numeric import NumericGame, Oracle
    from nashproof.solvers import make_solver

    game = load_game("random:n=5,seed=4,skew=1/2")
    ng = NumericGame(game, MpmathBackend(50))
    beta, eta = Fraction(1, 5), Fraction(3, 2)
    lp = [ng.logref[0] * ng.backend.scalar(Fraction(1, 2))]
    omd = make_solver("omd", beta, eta).step(ng, lp, 0, Oracle(ng)).policy[0]
    mmd = make_solver("mmd", beta, eta / (1 - eta * beta)).step(ng, lp, 0, Oracle(ng)).policy[0]
    assert max(abs(float(a - b)) for a, b in zip(omd, mmd)) < 1e-40


def test_mwu_last_iterate_cycles_on_rock_paper_scissors() -> None:
    """KL(π*‖π_t) to the uniform Nash equilibrium of RPS grows at every step (it is conserved in continuous
    time and increases under the discrete map), so the last iterate does not converge; OMD with β > 0 does."""
    P = np.array([[0.5, 1.0, 0.0], [0.0, 0.5, 1.0], [1.0, 0.0, 0.5]])
    from nashproof.backends import FloatBackend
    from nashproof.games import single
    from nashproof.numeric import NumericGame, Oracle
    from nashproof.solvers import make_solver

    g = single([[Fraction(x).limit_denominator() for x in row] for row in P], [Fraction(1, 3)] * 3)
    ng = NumericGame(g, FloatBackend())
    mwu = make_solver("mwu", Fraction(1, 10), Fraction(1, 2))
    lp = [np.log(np.array([0.5, 0.3, 0.2]))]
    kls = []
    for t in range(200):
        p = np.exp(lp[0])
        kls.append(float(np.sum(np.full(3, 1 / 3) * np.log((1 / 3) / p))))
        lp = mwu.step(ng, lp, t, Oracle(ng)).policy
    assert all(b > a for a, b in itertools.pairwise(kls))  # monotone drift away from the equilibrium
    assert kls[-1] > 3 * kls[0] and np.max(np.exp(lp[0])) > 0.8  # out towards the boundary
    # independent check of the map: a hand-written multiplicative-weights step
    q = np.array([0.5, 0.3, 0.2])
    w = q * np.exp(0.5 * (P @ q))
    assert np.allclose(np.exp(mwu.step(ng, [np.log(q)], 0, Oracle(ng)).policy[0]), w / w.sum(), atol=1e-15)
    assert math.isfinite(kls[-1])
