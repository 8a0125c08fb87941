"""nashproof prove: proofs cross-checked by dense sampling in mpmath, counterexamples confirmed by check,
certificates round-tripped and tampered with, bad input."""

from __future__ import annotations

import itertools
import json
import math
import shlex
from fractions import Fraction as F
from pathlib import Path
from typing import Any

import mpmath as mp
import pytest

from nashproof.claims import builtin_catalogue
from nashproof.cli import main
from nashproof.families import load_game
from nashproof.prove.boxes import Box
from nashproof.prove.branch import Budget, branch_and_bound
from nashproof.prove.params import make_param_spec
from nashproof.prove.params import region as param_region
from nashproof.prove.problem import make_spec

MUTANTS = '''
import sympy as sp
from nashproof.claims import Claim, KL, KL_next, beta, eta
CLAIMS = [Claim("KL-STEP-T10", "NMP-KL-STEP tightened by 10 %", "step", "kl",
                (sp.Le(KL_next, sp.Rational(9, 10) * KL / (1 + eta * beta)),), (), ("nash-mp",), "D", "test")]
'''


def _nash_mp_margin(P: list[list[F]], ref: list[F], beta: F, eta: F, z: list[mp.mpf]) -> mp.mpf:
    """KL/(1+ηβ) − KL_next: the margin, ≥ 0 where NMP-KL-STEP holds (no 0/0 at π*)."""
    r, kl = _nash_mp_ratio(P, ref, beta, eta, z, with_kl=True)
    e, b = mp.mpf(eta.numerator) / eta.denominator, mp.mpf(beta.numerator) / beta.denominator
    return kl * (1 - r) / (1 + e * b)


def _nash_mp_ratio(P: list[list[F]], ref: list[F], beta: F, eta: F, z: list[mp.mpf],
                   with_kl: bool = False) -> Any:
    """KL(π*‖π_next)(1+ηβ)/KL(π*‖π) at π = softmax(z, 0), from scratch in mpmath (π* by fixed-point iteration)."""
    n = len(ref)
    Pm = [[mp.mpf(x.numerator) / x.denominator for x in row] for row in P]
    lr = [mp.log(mp.mpf(r.numerator) / r.denominator) for r in ref]
    b, e = mp.mpf(beta.numerator) / beta.denominator, mp.mpf(eta.numerator) / eta.denominator

    def norm(y: list[mp.mpf]) -> list[mp.mpf]:
        s = mp.log(mp.fsum(mp.exp(t) for t in y))
        return [t - s for t in y]

    def field(lp: list[mp.mpf]) -> list[mp.mpf]:
        return [mp.fsum(Pm[i][j] * mp.exp(lp[j]) for j in range(n)) for i in range(n)]

    star = norm(list(lr))
    for _ in range(4000):  # damped fixed point π* ∝ ref·exp(Pπ*/β)
        star = norm([(s + (lr[i] + f / b)) / 2 for i, (s, f) in enumerate(zip(star, field(star)))])
    lp = norm([*z, mp.mpf(0)])

    def mix(c: list[mp.mpf], f: list[mp.mpf]) -> list[mp.mpf]:
        return norm([(c[i] + e * b * lr[i] + e * f[i]) / (1 + e * b) for i in range(n)])

    new = mix(lp, field(mix(lp, field(lp))))
    kl = mp.fsum(mp.exp(s) * (s - t) for s, t in zip(star, lp))
    kn = mp.fsum(mp.exp(s) * (s - t) for s, t in zip(star, new))
    ratio = kn * (1 + e * b) / kl if kl > 0 else mp.mpf(0)
    return (ratio, kl) if with_kl else ratio


@pytest.mark.slow  # 20–90 s each: the fast suite keeps the certificate round trips and small proofs
def test_two_action_proof_agrees_with_dense_sampling() -> None:
    game = load_game("bradley-terry:scores=1+3")
    spec = make_spec(builtin_catalogue().get("NMP-KL-STEP"), game, F(1, 10), F(2), "nash-mp")
    out = branch_and_bound(spec, Box.region([F(-8)], [F(8)]), Budget(seconds=120))
    assert out.status == "proved" and out.leaves
    c = game.contexts[0]
    with mp.workdps(30):
        for k in range(161):  # no sample may contradict a proved box
            z = mp.mpf(-8) + mp.mpf(k) / 10
            margin = _nash_mp_margin([list(r) for r in c.preference], list(c.reference), F(1, 10), F(2), [z])
            assert margin >= -mp.mpf("1e-20")
    covered = sum(b.hi[0] - b.lo[0] for b, _ in out.leaves)
    assert covered == 16  # the leaves tile the region


@pytest.mark.slow  # 20–90 s each: the fast suite keeps the certificate round trips and small proofs
def test_rps_off_centre_boxes_agree_with_sampling() -> None:
    game = load_game("rps")
    spec = make_spec(builtin_catalogue().get("NMP-KL-STEP"), game, F(1, 10), F(2), "nash-mp")
    out = branch_and_bound(spec, Box.region([F(1), F(-4)], [F(3), F(-2)]), Budget(seconds=120))
    assert out.status == "proved"
    c = game.contexts[0]
    with mp.workdps(30):
        for i in range(9):
            for j in range(9):
                z = [mp.mpf(1) + mp.mpf(i) / 4, mp.mpf(-4) + mp.mpf(j) / 4]
                r = _nash_mp_ratio([list(r) for r in c.preference], list(c.reference), F(1, 10), F(2), z)
                assert r <= 1
                assert out.worst_ratio is not None and r <= out.worst_ratio + 0.05


def test_disproof_is_reproduced_by_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mod = tmp_path / "mutants.py"
    mod.write_text(MUTANTS)
    cx = tmp_path / "cx.json"
    code = main(["prove", "KL-STEP-T10", "--claims-module", str(mod), "--game", "rps", "--beta", "1/10",
                 "--eta", "2", "--counterexample", str(cx), "--json"])
    assert code == 1
    rep = json.loads(capsys.readouterr().out)
    logits = [F(x) for x in rep["counterexample"]["logits"]]
    assert logits[-1] == 0
    # an independent mpmath evaluation agrees that the tightened bound fails there
    c = load_game("rps").contexts[0]
    with mp.workdps(30):
        z = [mp.mpf(x.numerator) / x.denominator for x in logits[:-1]]
        assert _nash_mp_ratio([list(r) for r in c.preference], list(c.reference), F(1, 10), F(2), z) > mp.mpf(9) / 10
    code = main(["check", "--game", str(cx), "--solver", "nash-mp", "--beta", "1/10", "--eta", "2", "--steps", "1",
                 "--claim", "KL-STEP-T10", "--claims-module", str(mod), "--json"])
    verdicts = json.loads(capsys.readouterr().out)
    text = json.dumps(verdicts)
    assert code == 1 and '"violated"' in text
    # the command prove prints (exact --start-logits, no file) reproduces it too
    argv = shlex.split(rep["reproduce"])
    assert argv[:2] == ["nashproof", "check"] and f"--start-logits={','.join(rep['counterexample']['logits'])}" in argv
    assert main([*argv[1:], "--json"]) == 1
    assert '"violated"' in capsys.readouterr().out


def test_check_start_logits_is_the_start_policy(capsys: pytest.CaptureFixture[str]) -> None:
    """--start-logits z (n − 1 numbers: last logit 0) starts where a game file's start_logits would; the
    step claim's observed ratio there matches an independent mpmath evaluation."""
    base = ["check", "--game", "rps", "--solver", "nash-mp", "--beta", "1/10", "--eta", "2", "--steps", "1",
            "--claim", "NMP-KL-STEP", "--json"]
    assert main([*base, "--start-logits=-7/2,1"]) == 0
    tight = json.loads(capsys.readouterr().out)["verdicts"][0]["tightness"]
    c = load_game("rps").contexts[0]
    with mp.workdps(30):
        want = _nash_mp_ratio([list(r) for r in c.preference], list(c.reference), F(1, 10), F(2),
                              [mp.mpf(-7) / 2, mp.mpf(1)])
    assert abs(float(tight) - float(want)) < 1e-6
    assert main([*base, "--start-logits=1,2,3,4"]) == 2
    assert main([*base, "--start-logits=1,x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(e.startswith("error:") for e in err)


def test_certificate_round_trip_and_tampering(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cert = tmp_path / "proof.json"
    args = ["prove", "NMP-UNREG", "--game", "bradley-terry:scores=1+3", "--beta", "1/10", "--logits", "10",
            "--certificate", str(cert)]
    assert main(args) == 0
    assert main(["prove", "--verify", str(cert)]) == 0
    assert "verified" in capsys.readouterr().out
    raw = json.loads(cert.read_text())

    def rewrite(data: dict[str, object]) -> None:
        from nashproof.prove.certificate import _checksum  # the test re-signs a forged file on purpose

        body = {k: v for k, v in data.items() if k != "checksum"}
        cert.write_text(json.dumps({**body, "checksum": _checksum(body)}))

    edited = json.loads(json.dumps(raw))
    edited["boxes"][0]["lo"][0] = "-9"  # hand edit without a new checksum: refused
    cert.write_text(json.dumps(edited))
    assert main(["prove", "--verify", str(cert)]) == 2
    assert "edited by hand" in capsys.readouterr().err
    missing = json.loads(json.dumps(raw))
    del missing["boxes"][1]
    rewrite(missing)
    assert main(["prove", "--verify", str(cert)]) == 1
    assert "covered by no box" in capsys.readouterr().out
    wider = json.loads(json.dumps(raw))
    wider["beta"] = "1/1000"  # the same boxes for another β: the enclosures no longer decide
    rewrite(wider)
    code = main(["prove", "--verify", str(cert)])
    out = capsys.readouterr().out
    assert code == 1 and "does not decide" in out and "box " in out


def test_parameter_box_certificate_round_trip_and_tampering(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    cert = tmp_path / "proof.json"
    assert main(["prove", "NMP-KL-STEP", "--game", "two-action:p=5/8:3/4,r=1/3", "--beta", "1", "--eta", "1",
                 "--logits", "1", "--no-reduction", "--certificate", str(cert)]) == 0
    raw = json.loads(cert.read_text())
    assert raw["parameters"] == ["p"] and raw["region"] == {"lo": ["-1", "5/8"], "hi": ["1", "3/4"]}
    assert all(len(b["lo"]) == 2 for b in raw["boxes"])  # every box records its logit AND its p coordinates
    # the leaves tile z × p exactly (an independent volume count)
    assert sum((F(b["hi"][0]) - F(b["lo"][0])) * (F(b["hi"][1]) - F(b["lo"][1])) for b in raw["boxes"]) == F(1, 4)
    capsys.readouterr()
    assert main(["prove", "--verify", str(cert)]) == 0
    assert "p ∈ 5/8..3/4" in capsys.readouterr().out

    def verify(edit: Any) -> tuple[int, str]:
        from nashproof.prove.certificate import _checksum  # the test re-signs a forged file on purpose

        data = json.loads(json.dumps(raw))
        edit(data)
        body = {k: v for k, v in data.items() if k != "checksum"}
        cert.write_text(json.dumps({**body, "checksum": _checksum(body)}))
        code = main(["prove", "--verify", str(cert)])
        return code, capsys.readouterr().out

    code, out = verify(lambda d: d["boxes"].pop(3))
    assert code == 1 and "covered by no box" in out
    code, out = verify(lambda d: d["region"]["hi"].__setitem__(1, "7/8"))  # a wider p range, the same boxes
    assert code == 1 and "covered by no box" in out
    code, out = verify(lambda d: d.__setitem__("beta", "1/100"))  # another β: enclosures fail, box 1 named first
    assert code == 1 and "box 1 [" in out and "does not decide" in out
    code, out = verify(lambda d: d["boxes"][4].__setitem__("methods", ["guess"]))
    assert code == 1 and "box 5 [" in out and "unknown method" in out
    code, out = verify(lambda d: d.__setitem__("parameters", ["p", "q"]))
    assert code == 2


@pytest.mark.parametrize("argv, needle", [
    (["prove", "NMP-KL", "--game", "rps", "--beta", "1/10"], "NMP-KL-STEP"),
    (["prove", "NMP-KL-STEP", "--game", "rps", "--beta", "1/10", "--logits", "0"], "logits"),
    (["prove", "NMP-KL-STEP", "--game", "rps", "--beta", "1/10", "--logits", "-3"], "logits"),
    (["prove", "NMP-KL-STEP", "--game", "rps", "--beta", "1/100:10"], "2-action"),
    (["prove", "NMP-KL-STEP", "--game", "two-action", "--beta", "1:1/2"], "reversed"),
    (["prove", "NMP-KL-STEP", "--game", "two-action", "--beta", "1:1"], "reversed"),
    (["prove", "NMP-KL-STEP", "--game", "two-action", "--beta", "1", "--eta", "2*max:max"], "reversed"),
    (["prove", "NMP-KL-STEP", "--game", "two-action", "--beta", "1", "--eta", "1/2*max:2*max"], "η̄"),
    (["prove", "NMP-KL-STEP", "--game", "two-action:q=0:1", "--beta", "1"], "q"),
    (["prove", "NMP-KL-STEP", "--game", "two-action:p=0:2", "--beta", "1"], "p range"),
    (["prove", "NMP-KL-STEP", "--game", "two-action:r=0:1/2", "--beta", "1"], "strictly"),
    (["prove", "NMP-KL-STEP", "--game", "rps:skew=1:2", "--beta", "1"], "skew"),
    (["prove", "NMP-KL-STEP", "--game", "rps:nope=1", "--beta", "1/10"], "nope"),
    (["prove", "PROX-KL-STEP", "--game", "rps", "--beta", "1/10"], "proximal"),
    (["prove", "NMP-KL-STEP", "--game", "rps", "--beta", "1/10", "--eta", "10"], "hypothesis"),
    (["prove"], "CLAIM"),
])
def test_bad_input_is_one_error_line(argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and needle in err


@pytest.mark.slow  # 20–90 s each: the fast suite keeps the certificate round trips and small proofs
def test_parameter_box_proof_agrees_with_dense_sampling() -> None:
    base = make_spec(builtin_catalogue().get("NMP-KL-STEP"), load_game("two-action:p=5/8,r=1/3"), F(1), F(1),
                     "nash-mp")
    spec = make_param_spec(base, {"p": (F(1, 2), F(3, 4))}, eta_max=False)
    region = param_region(spec, F(2))
    out = branch_and_bound(spec, region, Budget(seconds=300))
    assert out.status == "proved" and out.leaves
    volume = sum(math.prod(h - lo for lo, h in zip(b.lo, b.hi)) for b, _ in out.leaves)
    assert volume == math.prod(h - lo for lo, h in zip(region.lo, region.hi))  # the leaves tile the region
    with mp.workdps(30):  # no sample of (p, r, β, η, z) may contradict the proof
        for p, z in itertools.product([F(1, 2) + F(k, 32) for k in range(9)], [F(k, 4) for k in range(-8, 9)]):
            P = [[F(1, 2), p], [1 - p, F(1, 2)]]
            zz = mp.mpf(z.numerator) / z.denominator
            assert _nash_mp_margin(P, [F(1, 3), F(2, 3)], F(1), F(1), [zz]) >= -mp.mpf("1e-20")


@pytest.mark.slow  # 20–90 s each: the fast suite keeps the certificate round trips and small proofs
def test_tightened_claim_disproved_over_parameter_box(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mod = tmp_path / "mutants.py"
    mod.write_text(MUTANTS)
    cx = tmp_path / "cx.json"
    code = main(["prove", "KL-STEP-T10", "--claims-module", str(mod), "--game", "two-action:p=0:1,r=1/10:9/10",
                 "--beta", "1/100:10", "--eta", "1/10*max:max", "--logits", "30", "--counterexample", str(cx),
                 "--json"])
    assert code == 1
    cex = json.loads(capsys.readouterr().out)["counterexample"]
    beta, eta = F(cex["beta"]), F(cex["eta"])
    P = [[F(x) for x in row] for row in cex["P"]]
    ref = [F(x) for x in cex["ref"]]
    assert 0 < eta and (eta / 2) ** 2 <= 1 + eta * beta  # inside the region: η ≤ η̄(β)
    with mp.workdps(30):  # an independent evaluation agrees
        z = [mp.mpf(F(x).numerator) / F(x).denominator for x in cex["logits"][:-1]]
        assert _nash_mp_ratio(P, ref, beta, eta, z) > mp.mpf(9) / 10
    code = main(["check", "--game", str(cx), "--solver", "nash-mp", "--beta", cex["beta"], "--eta", cex["eta"],
                 "--steps", "1", "--claim", "KL-STEP-T10", "--claims-module", str(mod), "--json"])
    assert code == 1 and '"violated"' in capsys.readouterr().out


@pytest.mark.slow
def test_rps_target_region_is_proved() -> None:
    spec = make_spec(builtin_catalogue().get("NMP-KL-STEP"), load_game("rps"), F(1, 10), F(2), "nash-mp")
    out = branch_and_bound(spec, Box.region([F(-5)] * 2, [F(5)] * 2), Budget(seconds=1800), jobs=2)
    assert out.status == "proved"
    assert out.worst_ratio is not None and 0.9 < out.worst_ratio < 1


def test_a_decimal_constant_is_enclosed_like_the_engine_encloses_it() -> None:
    """A sympy Float is its binary value ± half an ulp (as in the verdict engine), so the decimal it was
    written as lies inside: a margin of 10⁻³⁰ below the constant's precision is never decided."""
    import sympy as sp
    from flint import arb

    from nashproof.claims import KL
    from nashproof.prove.compile import compile_margin

    margin = compile_margin(sp.Float("0.1", 20) - KL)
    value = margin({"kl": arb(0)})
    assert isinstance(value, arb) and value.contains(arb(1) / 10) and value.rad() > 0
    tight = compile_margin(sp.Float("0.1", 20) - KL)({"kl": arb(1) / 10 - arb(10) ** -30})
    assert isinstance(tight, arb) and not (tight > 0) and not (tight < 0)


def test_tiling_check_accepts_any_halving_order_and_names_gaps_and_overlaps() -> None:
    """The verifier's coverage check does not depend on the split rule; cross-checked against exact
    volumes and a grid of sample points (each covered exactly once)."""
    from nashproof.prove.certificate import tiling_gap

    region = Box.region([F(0), F(0)], [F(1), F(1)])
    a, b = region.split(1)  # y first, then x on the lower half only, then y again on its left part
    aa, ab = a.split(0)
    aaa, aab = aa.split(1)
    leaves = [b, ab, aab, aaa]
    order, gap = tiling_gap(region, leaves)
    assert gap is None and sorted(order) == [0, 1, 2, 3]
    assert sum((x.hi[0] - x.lo[0]) * (x.hi[1] - x.lo[1]) for x in leaves) == 1
    for px, py in itertools.product([F(2 * k + 1, 16) for k in range(8)], repeat=2):
        assert sum(x.lo[0] <= px <= x.hi[0] and x.lo[1] <= py <= x.hi[1] for x in leaves) == 1
    assert tiling_gap(region, [b, ab, aab])[1] == f"the region part {aaa.text()} is covered by no box"
    left, _ = region.split(0)
    overlap = tiling_gap(region, [b, ab, aab, aaa, left])[1]  # the same pieces plus a box across them
    assert overlap is not None and "overlaps" in overlap
    shifted = Box((F(1, 8), F(0)), (F(5, 8), F(1, 2)), (0, 0))  # off the halving grid, right volume
    assert "not a box of the region's halvings" in str(tiling_gap(region, [b, shifted, ab])[1])
