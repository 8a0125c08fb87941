"""The plain `nashproof check` (checks/default.toml and its includes) kills the mutants of tests/mutants.py."""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from nashproof.cli import main

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


@pytest.mark.slow
def test_default_run_kills_every_sharp_mutant_at_01pct_and_no_original() -> None:
    import mutants

    eps = Fraction(1, 1000)
    rows = {str(r["mutant"]): r for r in mutants.score([str(ROOT / "checks" / "default.toml")], eps, jobs=None)}
    ids = [m.id for _, m in mutants.all_mutants(eps)]
    expected = [m for m in ids if m not in mutants.LOOSE and not (m in mutants.REACH and eps < mutants.REACH[m][0])]
    assert len(expected) >= 19
    assert [m for m in expected if int(str(rows[m]["violated"])) == 0] == []
    assert [o for o, r in rows.items() if "~" not in o and int(str(r["violated"])) > 0] == []


@pytest.mark.slow
def test_plain_check_with_a_mutant_module_is_violated_for_every_sharp_claim(
        capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's acceptance run: principal mutants (0.1 %; the claims added since at 10 %) replace the built-in
    claims in a plain `nashproof check` (no suite argument): every sharp one is violated, exit 1."""
    import mutants

    code = main(["check", "--claims-module", str(ROOT / "tests" / "mutants_01pct.py"), "--json"])
    out = json.loads(capsys.readouterr().out)
    violated = {v["claim"] for v in out["verdicts"] if v["status"] == "violated"}
    sharp = {orig for orig, m in mutants.principal_mutants(Fraction(1, 1000)) if m.id not in mutants.LOOSE}
    assert code == 1
    assert sorted(sharp - violated) == []
    # The rate with an unknown constant is refuted by proof (an invariant cone), never by a fit.
    local = [v for v in out["verdicts"] if v["claim"] == "NMP-KL-LOCAL" and v["status"] == "violated"]
    assert local and all(v["method"] == "certified" and "invariant-cone" in v["note"] for v in local)
