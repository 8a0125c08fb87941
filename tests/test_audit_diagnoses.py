"""Audit diagnoses a user can act on: the rules public code implements, the bugs it has (each named in the
user's terms), one threshold, float32 only on float32 evidence, JSON numbers as binary64, a stochastic mode
that says what it costs, and a worker that cannot reach the auditor's output or outlive it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from helpers import HAS_TORCH, IMPLS, audit_impl
from helpers import float_context as _context
from helpers import load_impl as _module

from nashproof.audit import BATTERY, AuditOptions, AuditReport, StepSpec, audit_update, planned_calls
from nashproof.audit.bugs import fit1, fit_every_k
from nashproof.audit.ident import Hypothesis, Obs
from nashproof.audit.optim import lanes, optimiser
from nashproof.audit.rules import exact_step
from nashproof.audit.trace import audit_trace, load_trace_file
from nashproof.cli import main
from nashproof.cli.audit import _games
from nashproof.errors import InputError
from nashproof.families import load_game

CYCLIC = ("cyclic:n=5,skew=1/3",)


def run(target: str, declared: str, eta: str, games: tuple[str, ...] = CYCLIC, **opts: object) -> AuditReport:
    """One game, both default β, claims off."""
    return audit_impl(target, declared, eta, games, **opts)


def said(report: AuditReport) -> str:
    return " | ".join(f.message for f in report.findings)


# ------------------------------------------------------------------ the corpus: expected verdict and diagnosis

CORPUS = [
    # (target, declared, eta, extra options, exit code, fragment of the diagnosis or note)
    ("corpus_psro.py:omwu", "omwu", "1/10", {}, 0, "the steps are omwu with η = 1/10"),
    ("corpus_psro.py:omwu_stale", "omwu", "1/10", {}, 1, "the steps are mwu with η = 1/10"),
    ("corpus_psro.py:omwu_zero_memory", "omwu", "1/10", {}, 0, ""),
    ("corpus_psro.py:omwu", "mwu", "1/10", {}, 1, "omwu with η = 1/10 (optimistic MWU)"),
    ("corpus_bugs.py:mirror_prox", "mirror-prox", "1/5", {}, 0, "the steps are mirror-prox with η = 1/5"),
    ("corpus_replicator.py:euler", "replicator", "1/1000", {}, 0, "the steps are replicator with dt = 1/1000"),
    ("corpus_replicator.py:euler", "mwu", "1/1000", {}, 1, "a first-order (Euler) step"),
    ("corpus_replicator.py:projected", "replicator", "1/1000", {}, 1, "clamped below at ε = 1/100"),
    ("corpus_sppo.py:update", "sppo", "1/100", {}, 0, "the steps are sppo with η = 1/100"),
    ("corpus_sppo.py:update", "mwu", "1/100", {}, 1, "sppo with η = 1/100 (SPPO's square-loss argmin"),
    ("corpus_bugs.py:kl_sign", "mmd", "1/5", {}, 1, "the KL term with the wrong sign"),
    ("corpus_bugs.py:magnet_current", "mmd", "1/5", {}, 1, "the magnet equal to the current policy"),
    ("corpus_bugs.py:clamped", "mmd", "1/5", {}, 1, "logits clipped at 5 below the largest"),
    ("corpus_bugs.py:md_temperature", "nash-md", "1/5", {}, 1, "opponents at temperature 9/10"),
    ("corpus_bugs.py:md_temperature", "nash-md", "1/5", {"temperature": Fraction(9, 10)}, 0, ""),
]


@pytest.mark.parametrize("target, declared, eta, extra, code, fragment", CORPUS,
                         ids=[f"{c[0].split(':')[1]}-as-{c[1]}" for c in CORPUS])
def test_corpus_verdict_and_diagnosis(target: str, declared: str, eta: str, extra: dict[str, object], code: int,
                                      fragment: str) -> None:
    rep = run(target, declared, eta, **extra)
    text = said(rep)
    assert rep.exit_code == code, text[:400]
    assert fragment in text, text[:600]
    assert "float32" not in text  # float64 outputs off float32's grid: never a float32 diagnosis
    if code == 1:
        assert "diagnosis" in text and "no known rule" not in text
    if code == 0:
        assert "diagnosis" not in text


@pytest.mark.slow
def test_an_adam_inner_loop_is_named_with_its_learning_rate() -> None:
    """Was "closest proximal-point η = 2.13": now the optimiser, its learning rate and its number of steps."""
    rep = run("corpus_bugs.py:adam", "mmd", "1/5")
    assert rep.exit_code == 1 and "20 Adam steps at learning rate 1/20" in said(rep), said(rep)[:500]


def test_the_batched_optimiser_is_the_one_lane_loop_bit_for_bit() -> None:
    """The optimiser hypothesis runs every learning rate, K and observation as rows of one array (sizes up to
    7 padded with −∞): each result must equal the plain one-run loop exactly, and the lock-step fit of every K
    must pick the learning rates :func:`fit1` picks one K at a time, so that diagnoses do not change."""
    rng = np.random.default_rng(5)
    lps, targets = [], []
    for n in (2, 4, 5, 7, 9, 4):  # 9: its own group, unpadded
        lp = rng.normal(size=n) * 3
        lps.append(lp - np.log(np.sum(np.exp(lp))))
        t = lps[-1] + rng.normal(size=n) * 0.3
        targets.append(t - np.log(np.sum(np.exp(t))))
    lrs, stops = [1e-4, 0.05, 0.7, 2.0], [[1, 20], [3], [200, 2, 7], [0, 50]]
    for adam in (True, False):
        runs = lanes(targets, lps, lrs, stops, adam)
        for i, lr in enumerate(lrs):
            for K in stops[i]:
                for j in range(len(lps)):
                    assert np.array_equal(runs[i][K][j], optimiser(targets[j], lps[j], lr, K, adam)), (i, K, j)
    sub = [Obs(lp, optimiser(t, lp, 0.05, 3, True) + rng.normal(size=len(lp)) * 1e-3, np.eye(len(lp)), lp, 0.1,
               1.0, 1e-3) for lp, t in zip(lps[:3], targets[:3])]
    target_of = {id(o): t for o, t in zip(sub, targets)}
    for adam in (True, False):
        for chi2, K, lr in fit_every_k(sub, targets[:3], adam, ks=(1, 3, 8)):
            def model(x: float, K: int = K, adam: bool = adam) -> Callable[[Obs], np.ndarray]:
                return lambda o: optimiser(target_of[id(o)], o.logpi, x, K, adam)
            assert lr == fit1(model, sub, 1e-4, 2.0), (adam, K)
            assert chi2 == float(np.sum(((np.concatenate([s.logout - model(lr)(s) for s in sub])) / 1e-3) ** 2))


def test_opponent_temperature_is_not_a_decoupled_mixture() -> None:
    rep = run("corpus_bugs.py:md_temperature", "nash-md", "1/5")
    assert "mixture weight" not in said(rep) and "w = " not in said(rep)


# ------------------------------------------------------------------ the maps themselves, cross-checked


def test_audit_rules_against_independent_code() -> None:
    """The 40-digit maps against the corpus's own float64 code (written independently: SPPO through scipy's
    Lambert W and a bracketing root finder, OMWU through a class with memory, Euler as nashpy writes it)."""
    ctx = load_game("random:n=5,seed=2,skew=1/2").contexts[0]
    P, ref = _context("random:n=5,seed=2,skew=1/2")
    pi = np.array([0.1, 0.3, 0.2, 0.15, 0.25])
    prev = np.array([0.3, 0.1, 0.2, 0.25, 0.15])
    sppo, rep, psro, bugs = (_module(n) for n in ("corpus_sppo", "corpus_replicator", "corpus_psro", "corpus_bugs"))
    cases = [("sppo", sppo.update(pi, P, ref, 0.1, 0.01), Fraction(1, 100), None),
             ("replicator", rep.euler(pi, P, ref, 0.1, 0.001), Fraction(1, 1000), None),
             ("mirror-prox", bugs.mirror_prox(pi, P, ref, 0.1, 0.2), Fraction(1, 5), None)]
    solver = psro.MetaSolver(P, 0.1)
    solver.step(prev)
    cases.append(("omwu", solver.step(pi), Fraction(1, 10), prev))
    for rule, theirs, eta, before in cases:
        ours = exact_step(rule, pi, ctx.preference, ctx.reference, Fraction(1, 10), eta, 1, before)
        assert np.max(np.abs(np.log(theirs) - ours)) < 1e-13, rule
    # SPPO's step is MWU up to its normaliser approximation: close, not equal
    mwu = exact_step("mwu", pi, ctx.preference, ctx.reference, Fraction(1, 10), Fraction(1, 100))
    gap = float(np.max(np.abs(exact_step("sppo", pi, ctx.preference, ctx.reference, Fraction(1, 10),
                                         Fraction(1, 100)) - mwu)))
    assert 1e-12 < gap < 1e-6


# ------------------------------------------------------------------ defects 1 and 3: one threshold, float32 evidence


def test_one_threshold() -> None:
    h = Hypothesis("mwu", 0.1, "η = 2", ratio=1.5, residual=0.0, chi2=3.0, params=1)
    assert not h.explains and Hypothesis("mwu", 0.1, "η = 2", 1.0, 0.0).explains


def test_a_slip_below_display_precision_is_not_the_declared_rule_named_twice() -> None:
    """Was "the steps are mwu with η = 2, not the declared mwu with η = 2": a step 1e-11 off is flagged, and no
    diagnosis names the declared rule at the declared step."""
    rep = run("corpus_misc.py:mwu_tiny_slip", "mwu", "2")
    assert rep.exit_code == 1
    assert "the steps are mwu with η = 2," not in said(rep) and "relative slip of 1e-10" in said(rep), said(rep)[:400]


def test_float32_only_on_float32_evidence() -> None:
    """A candidate computing in float32 and returning float64 values on float32's grid is named float32
    arithmetic; the Euler replicator at dt = 1e-3 (a departure of the same size) is not, and no message ever
    advises a looser precision."""
    upcast = run("corpus_float32.py:update_upcast", "nash-mp", "2")
    assert upcast.exit_code == 1 and "float32 arithmetic" in said(upcast) and "--precision" not in said(upcast)
    euler = run("corpus_replicator.py:euler", "mwu", "1/1000")
    assert euler.exit_code == 1 and "float32" not in said(euler) and "Euler" in said(euler)


# ------------------------------------------------------------------ defect 2: JSON numbers are binary64


def _trace_file(tmp_path: Path, iterates: object, **header: object) -> Path:
    path = tmp_path / "trace.json"
    path.write_text(json.dumps({"game": "cyclic:n=5,skew=1/3", "beta": "1/20", "eta": "2", "iterates": iterates,
                                **header}))  # header entries replace the defaults
    return path


def _nash_mp(pi: np.ndarray, eta: float, beta: float, ref: np.ndarray, P: np.ndarray) -> np.ndarray:
    def prox(opp: np.ndarray) -> np.ndarray:
        z = (np.log(pi) + eta * beta * np.log(ref) + eta * (P @ opp)) / (1 + eta * beta)
        e = np.exp(z - z.max())
        return e / e.sum()
    return prox(prox(pi))


def test_json_numbers_are_float64_values(tmp_path: Path) -> None:
    """json.dump writes 0.2 for the float64 nearest 0.2: read as such, a first step that departs by 0.02 is
    flagged (it was inconclusive, "one significant digit"), and a correct run written the same way passes."""
    P, ref = _context()
    pis = [np.full(5, 0.2)]
    for _ in range(6):
        pis.append(_nash_mp(pis[-1], 2.0, 0.05, ref, P))
    good = audit_trace(load_trace_file(str(_trace_file(tmp_path, [p.tolist() for p in pis]))), "nash-mp")
    assert good.exit_code == 0, said(good)[:300]
    bent = [p.tolist() for p in pis]
    bent[1] = (np.array(bent[1]) * np.exp(0.02 * np.array([1, -1, 0, 0, 0]))).tolist()
    bent[1] = (np.array(bent[1]) / sum(bent[1])).tolist()
    bad = audit_trace(load_trace_file(str(_trace_file(tmp_path, bent))), "nash-mp")
    assert bad.exit_code == 1 and "k=0" in [f.start for f in bad.findings if f.failed]
    # strings keep their digits: the same values as two-digit strings cannot decide ...
    coarse = [[f"{x:.2g}" for x in p] for p in pis]
    assert audit_trace(load_trace_file(str(_trace_file(tmp_path, coarse))), "nash-mp").exit_code == 3
    # ... unless the header states that they are float64 values (then they are read as such, and flagged)
    stated = audit_trace(load_trace_file(str(_trace_file(tmp_path, coarse, precision="float64"))), "nash-mp")
    assert stated.exit_code == 1


def test_omwu_and_mirror_prox_traces(tmp_path: Path) -> None:
    psro = _module("corpus_psro")
    P, _ = _context()
    start = [0.4, 0.1, 0.2, 0.1, 0.2]
    for stale, code in ((False, 0), (True, 1)):
        its = psro.run_trace(P, start, 0.1, 12, stale=stale)
        rep = audit_trace(load_trace_file(str(_trace_file(tmp_path, its, eta="1/10"))), "omwu")
        assert rep.exit_code == code, said(rep)[:300]
    assert "mwu with η = 1/10" in said(rep)
    bugs = _module("corpus_bugs")
    its = [np.array(start)]
    for _ in range(10):
        its.append(bugs.mirror_prox(its[-1], P, None, 0.0, 0.2))
    for beta in ("1/20", "0"):  # β plays no part in mirror prox; a trace may say so
        path = _trace_file(tmp_path, [p.tolist() for p in its], eta="1/5", beta=beta)
        rep = audit_trace(load_trace_file(str(path)), "mirror-prox")
        assert rep.exit_code == 0, said(rep)[:300]
    for same in ("nash-mp", "extragradient"):  # at β = 0 both are mirror prox (η_e = η there)
        assert audit_trace(load_trace_file(str(path)), same).exit_code == 0
    assert audit_trace(load_trace_file(str(path)), "mwu").exit_code == 1
    # OMWU whose memory starts at zero (its first step is MWU at 2η) is the same rule: it passes too
    solver = psro.MetaSolver(P, 0.1)
    solver.last = np.zeros(5)
    zero = [np.array(start)]
    for _ in range(8):
        zero.append(solver.step(zero[-1]))
    rep = audit_trace(load_trace_file(str(_trace_file(tmp_path, [p.tolist() for p in zero], eta="1/10"))), "omwu")
    assert rep.exit_code == 0, said(rep)[:300]


# ------------------------------------------------------------------ defect 5: the stochastic mode


def test_stochastic_cost_is_estimated_and_bounded(capsys: pytest.CaptureFixture[str]) -> None:
    """--samples 100000 was exit 4 ("max() arg is an empty sequence") after the budget ran out: now the cost is
    estimated from two probe calls before the run, and a run over the budget is not started (exit 3)."""
    code = main(["audit", "--solver", f"{IMPLS / 'corpus_sampled.py'}:update", "--declared", "mmd", "--eta", "1/5",
                 "--samples", "100000", "--oracle", "sampled", "--games", "1", "--timeout", "120", "--json"])
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert code == 3 and report["verdict"] == "INCONCLUSIVE" and "estimated cost" in report["inconclusive"]
    assert "cost estimate" in err and report["checked_steps"] == 0
    assert planned_calls([1], 2, 30, 100000, False) == 2 * (30 + 7 * 100000)


def test_stochastic_claims_are_skipped_with_a_reason() -> None:
    rep = audit_update(str(IMPLS / "corpus_sampled.py:update"), "mmd", StepSpec.parse("1/5", "mmd"), games=CYCLIC,
                       options=AuditOptions(timeout=120, budget=3600, samples=24, sampled=True, seed=3, steps=4))
    assert rep.exit_code == 0 and not rep.claims
    assert "claims skipped in the statistical mode" in said(rep)


def test_games_option() -> None:
    assert _games("1,4") == [BATTERY[0], BATTERY[3]]
    assert _games("cyclic:n=3,skew=1/2;ties:n=4,skew=1/2") == ["cyclic:n=3,skew=1/2", "ties:n=4,skew=1/2"]
    for bad in ("0", "7", ""):
        with pytest.raises(InputError):
            _games(bad)


# ------------------------------------------------------------------ the worker cannot reach the auditor


def test_a_candidate_writing_to_every_descriptor_cannot_corrupt_json(capsys: pytest.CaptureFixture[str],
                                                                    tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    record = tmp_path / "fds.txt"
    monkeypatch.setenv("NASHPROOF_TEST_FDS", str(record))
    code = main(["audit", "--solver", f"{IMPLS / 'hostile.py'}:writes_everywhere", "--declared", "mmd", "--eta",
                 "2", "--games", "1", "--timeout", "120", "--budget", "3600", "--json"])
    report = json.loads(capsys.readouterr().out)  # parses: nothing of the candidate's reached our stdout
    assert code == report["exit_code"]
    fds = sorted(int(x) for x in record.read_text().split())
    assert fds[:3] == [0, 1, 2] and len(fds) == 4  # its streams and its pipe, nothing of the parent's


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_sigkill_of_the_auditor_leaves_no_worker(tmp_path: Path) -> None:
    pidfile = tmp_path / "worker.pid"
    env = {**os.environ, "NASHPROOF_TEST_PIDFILE": str(pidfile)}
    proc = subprocess.Popen([sys.executable, "-m", "nashproof", "audit", "--solver",
                             f"{IMPLS / 'hostile.py'}:sleeps_forever", "--declared", "mmd", "--eta", "2",
                             "--timeout", "3600", "--budget", "3600"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(6000):  # the worker writes its pid when called (a generous wait, not a measurement)
            if pidfile.exists() and pidfile.read_text().strip():
                break
            time.sleep(0.05)
        worker = int(pidfile.read_text())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    for _ in range(6000):
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            break
        if _zombie_or_gone(worker):
            break
        time.sleep(0.05)
    assert _zombie_or_gone(worker)


def _zombie_or_gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


# ------------------------------------------------------------------ the README walk-through


@pytest.mark.slow
@pytest.mark.skipif(not HAS_TORCH, reason="torch is in the 'torch' extra")
def test_the_readme_trainer_walkthrough() -> None:
    exact = run("corpus_torch_trainer.py:update", "nash-md", "1/5", temperature=Fraction(9, 10))
    assert exact.exit_code == 0, said(exact)[:300]
    assert "opponents at temperature 9/10" in said(run("corpus_torch_trainer.py:update", "nash-md", "1/5"))
    sampled = run("corpus_torch_trainer.py:update_sampled", "nash-md", "1/5", temperature=Fraction(9, 10),
                  samples=64, steps=4, seed=1)
    assert sampled.exit_code == 0, said(sampled)[:300]
