"""The 2-action reduction of ``nashproof prove``: (δ, z*, c) against the original coordinates, the exact
faces, the directional derivative, proofs, certificates and claims it must not prove."""

from __future__ import annotations

import json
import random
from fractions import Fraction as F
from pathlib import Path

import mpmath as mp
import pytest
from flint import arb

from nashproof.claims import builtin_catalogue
from nashproof.cli import main
from nashproof.families import load_game
from nashproof.prove.ad import Dual
from nashproof.prove.boxes import q
from nashproof.prove.model import make_model
from nashproof.prove.params import context_over, make_param_spec
from nashproof.prove.problem import make_spec
from nashproof.prove.reduced import ReducedSpec, reduction, values, why_not
from nashproof.prove.tangent import Tangent

NAMES = frozenset({"kl", "kl_reverse", "l1", "l1_sq", "span", "kl@next", "span@next", "l1_half"})
TWO_ACTION_ALL = ["--game", "two-action:p=0:1,r=1/10:9/10", "--beta", "1/100:10", "--eta", "0:max", "--logits", "30"]


def _step_factor(solver: str, beta: F, eta: F) -> F:
    return 1 - eta * beta if solver == "nash-md" else 1 / (1 + eta * beta)


@pytest.mark.parametrize("solver", ["nash-mp", "mmd", "nash-md"])
def test_reduced_quantities_equal_the_model_on_random_games(solver: str) -> None:
    """Every quantity in (δ, z*, c) equals the one the model computes from P, π_ref, β, η and the solver's
    written-out step (log-softmax of the mixed logits): two independent routes."""
    rng = random.Random(7)
    claim = builtin_catalogue().get("NMP-KL-STEP")
    for _ in range(12):
        p, r = F(rng.randint(0, 16), 16), F(rng.randint(1, 15), 16)
        beta, eta = F(rng.randint(1, 40), 8), F(rng.randint(1, 30), 16)
        if solver == "nash-md":
            eta = min(eta, 1 / beta)
        z = F(rng.randint(-160, 160), 8)
        game = load_game(f"two-action:p={p},r={r}")
        spec = make_spec(claim, game, beta, eta, solver)
        ctx = context_over(make_param_spec(spec, {}, False), {})
        model = make_model(spec.P, spec.ref, ctx.model.logstar, beta, eta, solver)
        direct = model.values([Dual(q(z), (), None)], NAMES)
        zs = Dual(ctx.zstar[0], (), None)
        reduced = values(solver, Dual(q(z), (), None) - zs, zs, Dual(q(_step_factor(solver, beta, eta)), (), None),
                         NAMES)
        for name in NAMES:
            a, b = direct[name], reduced[name]
            av, bv = (x.val if isinstance(x, Dual) else x for x in (a, b))
            assert av.overlaps(bv), (name, solver, p, r, beta, eta, z, av, bv)
            assert av.rad() < 1e-20 * (1 + abs(av.mid())) and bv.rad() < 1e-20 * (1 + abs(bv.mid()))


def test_faces_are_the_identity_and_pi_star() -> None:
    """At c = 1 the step quantities are the point quantities; at c = 0 they vanish (what the exact-algebra
    face check assumes)."""
    for d, zs in [(F(3, 2), F(-7, 3)), (F(-40), F(25)), (F(1, 1000), F(0))]:
        dd, zz = (Dual(q(x), (), None) for x in (d, zs))
        one = values("nash-mp", dd, zz, Dual(arb(1), (), None), NAMES)
        zero = values("nash-mp", dd, zz, Dual(arb(0), (), None), NAMES)
        for step, point in [("kl@next", "kl"), ("span@next", "span"), ("l1_half", "l1")]:
            assert one[step].val.overlaps(one[point].val)  # type: ignore[union-attr]
            assert zero[step].val.contains(0)  # type: ignore[union-attr]


def test_the_directional_derivative_matches_forward_mode_and_finite_differences() -> None:
    """∂_c KL(π*‖π_next) from a Tangent equals the Dual gradient in c and an mpmath central difference."""
    d0, zs0, c0 = F(7, 5), F(-3, 4), F(5, 8)
    x = Dual.variable(q(d0), 0, 1, 2)
    zero = x.like(arb(0))
    tan = values("nash-mp", Tangent(x, zero), Tangent(x.like(q(zs0)), zero),
                 Tangent(x.like(q(c0)), x.like(arb(1))), frozenset({"kl@next"}))["kl@next"]
    assert isinstance(tan, Tangent)
    dual = values("nash-mp", *(Dual.variable(q(v), i, 3, 1) for i, v in enumerate((d0, zs0, c0))),
                  frozenset({"kl@next"}))["kl@next"]
    assert isinstance(dual, Dual) and tan.der.val.overlaps(dual.grad[2])

    def kl_next(d: mp.mpf, zs: mp.mpf, c: mp.mpf) -> mp.mpf:
        sp_ = lambda t: mp.log1p(mp.exp(t))  # noqa: E731
        return sp_(zs + c * d) - sp_(zs) - c * d / (1 + mp.exp(-zs))

    with mp.workdps(40):
        d, zs, c, h = mp.mpf(7) / 5, mp.mpf(-3) / 4, mp.mpf(5) / 8, mp.mpf(10) ** -12
        fd = (kl_next(d, zs, c + h) - kl_next(d, zs, c - h)) / (2 * h)
        assert abs(float(tan.der.val.mid()) - float(fd)) < 1e-12
        # and its δ-curvature: ∂²_δ ∂_c by a nested central difference
        g = lambda dd: (kl_next(dd, zs, c + h) - kl_next(dd, zs, c - h)) / (2 * h)  # noqa: E731
        k = mp.mpf(10) ** -5
        fdd = (g(d + k) - 2 * g(d) + g(d - k)) / k**2
        assert tan.der.hess is not None and abs(float(tan.der.hess[0][0].mid()) - float(fdd)) < 1e-6


def test_every_two_action_game_is_proved_and_the_certificate_reverifies(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cert = tmp_path / "proof.json"
    assert main(["prove", "NMP-KL-STEP", *TWO_ACTION_ALL, "--certificate", str(cert), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["status"] == "proved" and rep["reduction"]["used"]
    raw = json.loads(cert.read_text())
    assert raw["reduction"]["coordinates"] == ["δ", "z*", "c"] and raw["boxes"]
    assert main(["prove", "--verify", str(cert)]) == 0
    assert "verified" in capsys.readouterr().out

    def verify(edit: object) -> int:
        from nashproof.prove.certificate import _checksum  # the test re-signs a forged file on purpose

        data = json.loads(json.dumps(raw))
        edit(data)  # type: ignore[operator]
        body = {k: v for k, v in data.items() if k != "checksum"}
        cert.write_text(json.dumps({**body, "checksum": _checksum(body)}))
        code = main(["prove", "--verify", str(cert)])
        capsys.readouterr()
        return code

    # a reduced region that misses part of the image (z* up to 50 only), a wider parameter box than the
    # reduction was made for, another claim's statements: refused or not verified
    assert verify(lambda d: d["reduction"]["region"]["hi"].__setitem__(1, "50")) == 2
    assert verify(lambda d: d["region"]["lo"].__setitem__(3, "1/1000")) == 2
    assert verify(lambda d: d["boxes"].__setitem__(0, {**d["boxes"][0], "methods": ["centred"]})) == 1


def test_the_proof_agrees_with_independent_samples() -> None:
    """No sampled (p, r, β, η, z) of the proved region contradicts it: an mpmath Nash-MP step from scratch."""
    rng = random.Random(3)

    def fm(x: F) -> mp.mpf:
        return mp.mpf(x.numerator) / x.denominator

    with mp.workdps(40):
        for _ in range(60):
            p, r = fm(F(rng.randint(0, 20), 20)), fm(F(rng.randint(2, 18), 20))
            b = fm(F(rng.choice([1, 3, 10, 50, 200, 1000]), 100))
            e = 2 * (b + mp.sqrt(1 + b**2)) * mp.mpf(rng.random())  # η ≤ η̄(β)
            z = mp.mpf(rng.uniform(-30, 30))
            zs = mp.log(r / (1 - r)) + (p - mp.mpf(1) / 2) / b
            c = 1 / (1 + e * b)
            zh = (z + e * b * mp.log(r / (1 - r)) + e * (p - mp.mpf(1) / 2)) / (1 + e * b)
            assert abs(zh - (zs + c * (z - zs))) < mp.mpf(10) ** -30  # the affine step, from the mixing rule

            assert kl(zs, zh) <= c * kl(zs, z) * (1 + mp.mpf(10) ** -25)


def kl(zs: mp.mpf, w: mp.mpf) -> mp.mpf:
    """KL(σ(z*)‖σ(w)) in mpmath, from its definition."""
    ps, pw = 1 / (1 + mp.exp(-zs)), 1 / (1 + mp.exp(-w))
    return ps * mp.log(ps / pw) + (1 - ps) * mp.log((1 - ps) / (1 - pw))


MUTANTS = '''
import sympy as sp
from nashproof.claims import Claim, KL, KL_next, beta, eta
c = 1 / (1 + eta * beta)
def tight(cid, rhs):
    return Claim(cid, cid, "step", "kl", (sp.Le(KL_next, rhs),), (), ("nash-mp",), "D", "test")
CLAIMS = [tight("T1", sp.Rational(99, 100) * KL * c), tight("SQ", KL * c**2), tight("WEAK", KL),
          tight("POW", KL * c ** sp.Rational(101, 100)),
          Claim("SHIFT", "SHIFT", "step", "kl", (sp.Le(KL_next + beta, KL * c + beta),), (), ("nash-mp",), "D", "t")]
'''


@pytest.mark.parametrize("cid, proved", [("T1", False), ("SQ", False), ("WEAK", True), ("POW", False),
                                         ("SHIFT", True)])
def test_the_reduction_proves_true_claims_only(tmp_path: Path, cid: str, proved: bool) -> None:
    """A 1 %-tightened claim fails at c = 1; KL_next ≤ c²·KL holds at both faces but is false (KL is not a
    quadratic), so the concavity test must fail; KL_next ≤ KL is true; c^1.01 is not a polynomial in c;
    β on both sides cancels in the margin (the sides alone do not reduce)."""
    mod = tmp_path / "mutants.py"
    mod.write_text(MUTANTS)
    from nashproof.claims import Catalogue

    cat = builtin_catalogue()
    cat.load(str(mod))
    base = make_spec(cat.get(cid), load_game("two-action:p=3/4,r=1/3"), F(1), F(1), "nash-mp")
    spec = make_param_spec(base, {"p": (F(0), F(1)), "beta": (F(1, 10), F(2)), "eta": (F(0), F(1))}, True)
    red = reduction(spec, F(10))
    assert isinstance(red, ReducedSpec) and isinstance(cat, Catalogue)
    from nashproof.prove.branch import Budget, branch_and_bound

    out = branch_and_bound(red, red.region, Budget(boxes=3000, seconds=60))
    assert (out.status == "proved") is proved, out.reason


def test_mutant_is_disproved_through_the_original_coordinates(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The reduction cannot prove a 1 %-tightened claim; prove falls back to the original coordinates and
    returns a counterexample that check confirms."""
    mod = tmp_path / "mutants.py"
    mod.write_text(MUTANTS)
    cx = tmp_path / "cx.json"
    code = main(["prove", "T1", "--claims-module", str(mod), "--game", "two-action:p=3/4,r=1/3", "--beta", "1",
                 "--eta", "0:max", "--logits", "2", "--counterexample", str(cx), "--json", "--seconds", "120"])
    rep = json.loads(capsys.readouterr().out)
    assert code == 1 and rep["reduction"]["status"] == "undecided"
    cex = rep["counterexample"]
    code = main(["check", "--game", str(cx), "--solver", "nash-mp", "--beta", cex["beta"], "--eta", cex["eta"],
                 "--steps", "1", "--claim", "T1", "--claims-module", str(mod), "--json"])
    assert code == 1 and '"violated"' in capsys.readouterr().out


def test_claims_outside_the_reduction_say_why() -> None:
    cat = builtin_catalogue()
    base = make_spec(cat.get("EXPL-SANDWICH"), load_game("two-action:p=3/4,r=1/3"), F(1), F(1), "nash-mp")
    spec = make_param_spec(base, {"p": (F(0), F(1))}, False)
    assert why_not(spec) is not None and reduction(spec, F(5)) is None
    rps = make_spec(cat.get("NMP-KL-STEP"), load_game("rps"), F(1), F(1), "nash-mp")
    assert "2-action" in str(why_not(make_param_spec(rps, {"eta": (F(1, 2), F(1))}, False)))


def test_sign_keeping_products_enclose_the_exact_interval_product() -> None:
    """interval_mul and square against exact rational interval arithmetic: they hold the exact range and
    keep its sign (the lower end is exactly 0 for a square of a ball holding 0)."""
    from nashproof.prove.ad import interval_mul, square

    rng = random.Random(11)
    for _ in range(400):
        a0, a1 = sorted(F(rng.randint(-400, 400), rng.randint(1, 40)) for _ in range(2))
        b0, b1 = sorted(F(rng.randint(-400, 400), rng.randint(1, 40)) for _ in range(2))
        a, b = q(a0).union(q(a1)), q(b0).union(q(b1))
        prod = interval_mul(a, b)
        ends = [x * y for x in (a0, a1) for y in (b0, b1)]
        assert prod.contains(q(min(ends))) and prod.contains(q(max(ends)))
        if a0 >= 0 and b0 >= 0:
            assert prod >= 0
        sq = square(a)
        squares = [a0 * a0, a1 * a1] + ([F(0)] if a0 <= 0 <= a1 else [])
        assert sq >= 0 and sq.contains(q(min(squares))) and sq.contains(q(max(squares)))
