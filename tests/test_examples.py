"""Every example of the README and of every ``--help`` runs (issue 23): its exit code, and where the example
states it, the output's shape (JSON that parses, the file it writes). The list below must name every example
found, so an example added to the docs without a test fails here. Cheap examples run in the fast suite,
expensive ones are marked slow. ``nashproof audit``'s examples need the user's own code and are covered by
``tests/test_audit.py``.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nashproof.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDERS = {"GAME", "NAME", "B", "D", "E", "K", "ID", "FILE", "CLAIM", "N", "ADDR", "DIR", "SUITE_OR_DIR"}
#: A command named in the prose without arguments is a mention, not an example (it would only print usage).
MENTIONS = {"nashproof complexity", "nashproof audit", "nashproof plot", "nashproof search", "nashproof run",
            "nashproof equilibrium", "nashproof bench", "nashproof check --jobs 1", "nashproof prove"}

#: example → (exit code, slow). Exit codes: 0 pass, 1 violated, 3 inconclusive (README "Exit codes").
EXAMPLES: dict[str, tuple[int, bool]] = {
    "nashproof --version": (0, False),
    "python -m nashproof --version": (0, False),
    "nashproof games": (0, False),
    "nashproof games --json": (0, False),
    "nashproof claims": (0, False),
    "nashproof claims --json": (0, False),
    "nashproof claims NMP-KL-STEP": (0, False),
    "nashproof equilibrium rps:skew=1/2 --beta 1/10 --digits 30": (0, False),
    "nashproof equilibrium rps:skew=1/2 --beta 1/10 --digits 60": (0, False),
    "nashproof equilibrium rps:skew=1/2 --beta 1/10 --digits 60 --json": (0, False),
    "nashproof equilibrium mygame.json --beta 0": (0, False),
    "nashproof run rps:skew=1/2 --solver nash-mp --beta 1/10 --steps 30": (0, False),
    "nashproof run cyclic:n=7,skew=1/4 --solver nash-mp --beta 1/20 --eta 2 --steps 30": (0, False),
    "nashproof run cyclic:n=5,skew=1/3 --solver nash-mp --beta 1/20 --eta 2 --steps 30 --json": (0, False),
    "nashproof run random:n=2048 --solver mmd --beta 1/10 --backend float --steps 50": (0, True),
    "nashproof check": (0, True),
    "nashproof check checks/default.toml --junit report.xml --report check-report": (0, True),
    "nashproof check --game cyclic:n=5,skew=1/3 --solver nash-mp --beta 1/20 --eta 2 --steps 60 "
    "--claim NMP-KL-STEP": (0, False),
    "nashproof check --game cyclic:n=5,skew=1/3 --solver nash-mp --beta 1/20 --eta 8 --claim NMP-KL-STEP": (0, False),
    "nashproof check --game rps:skew=1/2 --solver nash-mp --beta 1/20 --eta 8 --claim NMP-KL-STEP "
    "--ignore-hypotheses": (1, False),
    "nashproof check --claims-module my_claims.py --game rps --solver nash-mp --beta 1/10 --claim MY-CLAIM":
        (0, False),
    "nashproof complexity --beta 1/10 --eps 1e-6": (0, False),
    "nashproof complexity --beta 1/100 --eps 1e-4 --json": (0, False),
    "nashproof complexity --beta 1e-3:1:13 --eps 1e-8 --plot queries.png": (0, False),
    "nashproof complexity --metric unregularized --eps 1e-2 --actions 10": (0, False),
    "nashproof complexity --beta 1 --eps 1e-2 --samples-per-query 1000 --actions 8": (0, False),
    "nashproof complexity --beta 1/20 --eps 1e-10 --game cyclic:n=5,skew=1/3": (0, True),
    "nashproof complexity --beta 1 --eps 1e-3 --delta 1e-3 --game cyclic:n=5,skew=1/3": (0, False),
    "nashproof plot cyclic:n=5,skew=1/3 --beta 1/20 --solver nash-mp@2 --solver mmd --solver nash-md --out kl.png":
        (0, False),
    "nashproof plot rps:skew=1/2 --beta 1/10 --solver nash-mp --metric exploitability --x queries --out expl.svg":
        (0, False),
    "nashproof plot cyclic:n=5,skew=1/3 --beta 1/20 --solver nash-mp@8 --ignore-hypotheses --out broken.png":
        (0, False),
    "nashproof bench --quick --json": (0, True),
    "nashproof search NMP-KL-STEP --n 3": (0, True),
    "nashproof search NMP-KL-STEP --n 3 --beta 1/100 --eta 3*max --ignore-hypotheses": (1, True),
    "nashproof search EXPL-SANDWICH --n 3 --evals 400 --save sandwich.json": (0, True),
    "nashproof search --step-threshold rps --beta 1/100": (0, True),
    "nashproof search --corpus checks/witnesses --refresh": (0, True),
    "nashproof search --corpus checks/witnesses NMP-KL0 --n 2:3 --evals 300 --jobs 2": (0, True),
    "nashproof init": (0, False),
    "nashproof init my-paper-checks": (0, False),
    'nashproof init --install "nashproof @ git+https://github.com/OWNER/nashproof"': (0, False),
    'nashproof init . --install "nashproof @ git+https://github.com/OWNER/nashproof"': (0, False),
    "nashproof prove NMP-KL-STEP --game rps --beta 1/10 --eta 2 --logits 20": (0, True),
    "nashproof prove NMP-KL-STEP --game rps --beta 1/10 --eta 2 --certificate proof.json": (0, True),
    "nashproof prove --verify proof.json": (0, False),
    "nashproof prove NMP-KL-STEP --game two-action:p=0:1,r=1/1000:999/1000 --beta 1/100:10 --eta 0:max "
    "--logits 30 --json": (0, False),
    "nashproof prove NMP-KL-STEP --game two-action:p=1/2:3/4,r=1/3 --beta 1/2:1 --eta 1 --logits 2 "
    "--certificate proof.json": (0, False),
    "nashproof prove TIGHT --claims-module mutants.py --game rps --beta 1/10 --eta 2 --counterexample cx.json":
        (1, False),
    "nashproof check --game rps --start-logits=-10,0,0 --solver nash-mp --beta 1/10 --eta 2 --steps 1 --claim TIGHT "
    "--claims-module mutants.py": (1, False),
}


def _clean(line: str) -> str:
    line = re.split(r"\s+#\s", line.strip() + " ")[0].strip()  # a trailing comment
    return line.split(" > ")[0].strip()  # a redirection: the test captures stdout itself


def _joined(text: str) -> list[str]:
    """The text's lines, a line ending in a backslash joined with the next (a command continued)."""
    out: list[str] = []
    for line in text.splitlines():
        if out and out[-1].rstrip().endswith("\\"):
            out[-1] = out[-1].rstrip()[:-1].rstrip() + " " + line.strip()
        else:
            out.append(line)
    return out


def _usable(cmd: str) -> bool:
    if any(c in cmd for c in "[|{") or "..." in cmd or cmd in MENTIONS:
        return False
    return not any(tok.strip("`,.") in PLACEHOLDERS for tok in cmd.split())


def help_examples() -> set[str]:
    parser = build_parser()
    texts = [parser.epilog or ""]
    sub = next(a for a in parser._actions if isinstance(a, type(parser._subparsers._group_actions[0])))  # type: ignore[union-attr]
    texts += [p.epilog or "" for name, p in sub.choices.items() if name != "audit"]
    found = set()
    for text in texts:
        for line in _joined(text):
            m = re.match(r"^\s*(?:examples?:\s*)?((?:python -m )?nashproof .*)$", line)
            if m:
                found.add(_clean(m.group(1)))
    return {c for c in found if _usable(c)}


def readme_examples() -> set[str]:
    found = set()
    block = False
    for line in _joined((ROOT / "README.md").read_text(encoding="utf-8")):
        if line.startswith("```"):
            block = not block
        elif block:
            m = re.match(r"^\$?\s*((?:python -m )?nashproof .*)$", line)
            if m:
                found.add(_clean(m.group(1)))
        else:
            found.update(_clean(m.group(1)) for m in re.finditer(r"`((?:python -m )?nashproof [^`]*)`", line))
    return {c for c in found if _usable(c) and not c.startswith("nashproof audit")}


#: Examples run elsewhere: the default suite against the 0.1 % mutants (minutes; ``tests/mutants.py`` runs
#: that mutation score) and the inexact-solver search (``tests/test_search.py`` covers ``--solver``).
NOT_YET_RUN = {
    "nashproof check --claims-module tests/mutants_01pct.py",
    "nashproof search NMP-APPROX-STEP --n 2 --beta 1000:1e6 --solver nash-mp-inexact:delta=1/100,perturb=adversarial",
}


def test_every_example_is_listed() -> None:
    found = (help_examples() | readme_examples()) - NOT_YET_RUN
    assert found == set(EXAMPLES), (sorted(found - set(EXAMPLES)), sorted(set(EXAMPLES) - found))


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh directory holding what the examples name: checks/, mygame.json and my_claims.py."""
    shutil.copytree(ROOT / "checks", tmp_path / "checks", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "mygame.json").write_text(json.dumps({
        "actions": ["a", "b", "c"], "preference": [["1/2", "1", "0"], ["0", "1/2", "1"], ["1", "0", "1/2"]],
        "reference": ["1/2", "1/4", "1/4"]}), encoding="utf-8")
    (tmp_path / "my_claims.py").write_text(textwrap.dedent('''
        from nashproof.claims import KL, KL0, Claim
        CLAIMS = [Claim("MY-CLAIM", "KL_k never exceeds KL_0", "bound", "kl", (KL <= KL0,), (), ("nash-mp",),
                        "E", "README example")]
    '''), encoding="utf-8")
    (tmp_path / "mutants.py").write_text(textwrap.dedent('''
        import sympy as sp
        from nashproof.claims import KL, KL_next, Claim, beta, eta
        CLAIMS = [Claim("TIGHT", "NMP-KL-STEP tightened by 10 %", "step", "kl",
                        (sp.Le(KL_next, sp.Rational(9, 10) * KL / (1 + eta * beta)),), (), ("nash-mp",), "E", "help")]
    '''), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("example", [pytest.param(e, marks=[pytest.mark.slow] if slow else [], id=e[10:70])
                                     for e, (_, slow) in EXAMPLES.items()])
def test_example_runs(example: str, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = EXAMPLES[example]
    argv = shlex.split(example)
    if argv[:3] == ["python", "-m", "nashproof"]:
        proc = subprocess.run([sys.executable, *argv[1:]], capture_output=True, text=True, cwd=workdir,
                              timeout=600)
        assert proc.returncode == code and proc.stdout.startswith("nashproof "), proc.stderr
        return
    if "--verify" in argv:  # a certificate to re-check: a small proof's
        assert main(["prove", "NMP-KL-STEP", "--game", "two-action:p=3/4,r=1/3", "--beta", "1", "--eta", "1",
                     "--logits", "2", "--certificate", argv[argv.index("--verify") + 1]]) == 0
        capsys.readouterr()
    rc = main(argv[1:])
    out, err = capsys.readouterr()
    assert rc == code, (example, err[-2000:])
    assert "Traceback" not in err and "internal error" not in err
    if "--json" in argv:
        json.loads(out)
    for flag in ("--out", "--plot", "--save", "--junit"):
        if flag in argv:
            assert (workdir / argv[argv.index(flag) + 1]).stat().st_size > 0
    if "--report" in argv:
        assert (workdir / argv[argv.index("--report") + 1] / "report.html").stat().st_size > 0
    if "--json" not in argv and argv[1] not in ("bench",):
        assert all(len(line) <= 100 for line in out.splitlines() if not line.startswith(("{", " "))), example
