"""The pytest plugin (nashproof/pytest_plugin.py), `nashproof init`, and the user's path from a fresh environment.

The plugin is exercised in inner pytest sessions (pytester) on suites written here; the collected items
are counted against the suite loader, failures are read from the terminal and from the JUnit file. The
slow test installs this package with pip into a new virtual environment outside the repository, runs
`nashproof init` there, and runs pytest as a user's CI would.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from fractions import Fraction
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import yaml  # the dev extra: the CI workflow written by `nashproof init` is parsed as YAML

from nashproof import parallel
from nashproof.claims import builtin_catalogue
from nashproof.cli import main
from nashproof.cli.init import CLAIM_ID, CLAIMS_FILE, SUITE_FILE, WORKFLOW_FILE
from nashproof.parallel import run_check_tasks
from nashproof.pytest_plugin import read_table
from nashproof.suite import load_suite

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent

TRUE_CLAIM = "sp.Le(KL, (1 + eta * beta / 2) ** (-k) * KL0)"
FALSE_CLAIM = "sp.Le(KL, (1 + eta * beta / 2) ** (-k) * KL0 / 2)"  # already false at k = 0: KL_0 ≤ KL_0/2
CLAIMS = """
import sympy as sp
from nashproof.claims import KL, KL0, Claim, beta, eta, k
CLAIMS = [Claim(id="HALF", title="a test claim", kind="bound", metric="kl", statements=(STATEMENT,),
                hypotheses=(sp.Le(eta, 2),), solvers=("nash-mp",), provenance="E", source="this test")]
"""
SMALL = 'steps = 8\ndigits = 30\n'


def suite(games: list[str], claims: str = '["HALF"]', extra: str = "") -> str:
    quoted = ", ".join(f'"{g}"' for g in games)
    return (f'{SMALL}\n[[run]]\ngames = [{quoted}]\nbetas = ["1/10"]\nsolvers = [{{ name = "nash-mp", eta = "2" }}]\n'
            f"claims = {claims}\n{extra}")


def project(pytester: pytest.Pytester, statement: str = TRUE_CLAIM, table: str | None = None) -> None:
    """A user's repository: a claims module, [tool.nashproof], and a suite of 2 tasks in suites/."""
    pytester.makepyprojecttoml(table if table is not None else
                               '[tool.nashproof]\nsuites = ["suites"]\nclaims_modules = ["claims/mine.py"]\n')
    (pytester.path / "claims").mkdir()
    (pytester.path / "claims" / "mine.py").write_text(CLAIMS.replace("STATEMENT", statement))
    (pytester.path / "suites").mkdir()
    (pytester.path / "suites" / "two.toml").write_text(suite(["rps:skew=1/2", "cyclic:n=3,skew=1/2"]))


def collected(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "::" in line and not line.startswith(("FAILED", "ERROR"))]


def junit(path: Path) -> dict[str, tuple[dict[str, str], str | None]]:
    """testcase name → (its properties, its failure text or None)."""
    out = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        props = {p.get("name", ""): p.get("value", "") for p in case.iter("property")}
        failure = case.find("failure")
        out[case.get("name", "")] = (props, failure.text if failure is not None else None)
    return out


# ------------------------------------------------------------------ the plugin


def test_the_plugin_is_registered(pytestconfig: pytest.Config) -> None:
    """Through the pytest11 entry point: an install without it would silently stop collecting checks/."""
    assert pytestconfig.pluginmanager.has_plugin("nashproof"), "reinstall: pip install -e ."


def test_this_repository_collects_exactly_checks_suites() -> None:
    settings = read_table(REPO / "pyproject.toml")
    tomls = [p for p in REPO.rglob("*.toml") if ".venv" not in p.parts and ".git" not in p.parts]
    claimed = sorted(p.relative_to(REPO).as_posix() for p in tomls if settings.is_suite(p))
    assert claimed == sorted(p.relative_to(REPO).as_posix() for p in (REPO / "checks").rglob("*.toml"))
    assert not settings.is_suite(REPO / "tests" / "test_cli.py") and not settings.is_suite(REPO / "pyproject.toml")


def test_importing_the_plugin_is_light() -> None:
    """pytest imports the plugin in every environment nashproof is installed in: no sympy, numpy or mpmath."""
    code = "import sys, nashproof.pytest_plugin; print(sorted({'sympy', 'numpy', 'mpmath'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_collects_listed_and_pattern_suites_one_item_per_task(pytester: pytest.Pytester) -> None:
    project(pytester)
    (pytester.path / "suites" / "deep").mkdir()
    (pytester.path / "suites" / "deep" / "one.toml").write_text(suite(["transitive:n=3"]))
    (pytester.path / "elsewhere").mkdir()
    (pytester.path / "elsewhere" / "nashproof_extra.toml").write_text(suite(["rps"], extra='slow = true\n'))
    (pytester.path / "elsewhere" / "settings.toml").write_text("this is not a suite = [")  # neither listed nor matching
    pytester.makepyfile(test_plain="def test_plain():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest_inprocess("--collect-only", "-q", "-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()
    ids = collected(result)
    cat = builtin_catalogue()
    cat.load(str(pytester.path / "claims" / "mine.py"))
    expected = []
    for name in ("elsewhere/nashproof_extra.toml", "suites/deep/one.toml", "suites/two.toml"):
        s = load_suite(pytester.path / name, cat)
        expected += [f"{name}::{t.label}" for t in s.tasks]
    assert sorted(ids) == sorted([*expected, "test_plain.py::test_plain"])
    assert len(expected) == 4
    slow = pytester.runpytest_inprocess("--collect-only", "-q", "-p", "no:cacheprovider", "-m", "slow")
    assert collected(slow) == [i for i in expected if i.startswith("elsewhere/")]


def test_a_true_claim_passes_and_records_junit_properties(pytester: pytest.Pytester) -> None:
    project(pytester)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--junitxml=out.xml")
    result.assert_outcomes(passed=2)
    cases = junit(pytester.path / "out.xml")
    assert len(cases) == 2
    for props, failure in cases.values():
        assert failure is None
        assert props["HALF.outcome"] == "pass" and props["HALF.method"] == "certified"


def test_a_dimension_block_is_one_item(pytester: pytest.Pytester) -> None:
    project(pytester)
    (pytester.path / "suites" / "two.toml").write_text(
        '[[dimension]]\nfamily = "cyclic:n={n},skew=1/2"\nsizes = [2, 3]\nbeta = "1/10"\nsteps = 8\ndigits = 30\n')
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--junitxml=out.xml").assert_outcomes(passed=1)
    [(name, (props, _))] = junit(pytester.path / "out.xml").items()
    assert name == "cyclic:n=n,skew=1/2 | n = 2,3 | β=1/10" and props["NMP-DIM.outcome"] == "pass"


def test_a_false_claim_fails_with_claim_game_iterate_margin_and_method(pytester: pytest.Pytester) -> None:
    project(pytester, FALSE_CLAIM)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--junitxml=out.xml")
    result.assert_outcomes(failed=2)
    text = result.stdout.str()
    assert "HALF [E] violated (certified); expected pass" in text
    assert re.search(r"claim +KL_k ≤ KL_0/\(2·\(β·η/2 \+ 1\)\^k\)", text)
    assert re.search(r"game +rps:skew=1/2 \| nash-mp \| β = 1/10 \| η = 2", text)
    assert re.search(r"iterate +k = 0 \(the first that fails\)", text)
    cases = junit(pytester.path / "out.xml")
    for name, (props, failure) in cases.items():
        assert failure is not None and props["HALF.outcome"] == "violated" and props["HALF.first_k"] == "0"
        margin = props["HALF.margin"]
        assert f"margin    {margin} (bound − observed" in failure and f"margin    {margin} " in text, name
        # At k = 0 the edited bound is KL_0/2 and the observed value KL_0: the margin is −observed/2.
        observed = Fraction(props["HALF.observed"])
        assert abs(Fraction(margin) + observed / 2) <= observed * Fraction(1, 10**5), (margin, observed)
        assert Fraction(props["HALF.bound"]) * 2 == pytest.approx(observed, rel=1e-10)


def test_the_suites_expect_table_decides(pytester: pytest.Pytester) -> None:
    project(pytester, FALSE_CLAIM)
    expect = suite(["rps:skew=1/2"], extra='expect = { HALF = "violated" }\n')
    (pytester.path / "suites" / "two.toml").write_text(expect)
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    project_true = pytester.path / "claims" / "mine.py"
    project_true.write_text(CLAIMS.replace("STATEMENT", TRUE_CLAIM))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    assert "HALF [E] pass (certified); expected violated" in result.stdout.str()


def test_method_and_jobs_options(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    project(pytester)
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--junitxml=one.xml").assert_outcomes(passed=2)
    calls: list[tuple[int, int | None]] = []

    def spy(tasks: list[object], *args: Any, **kwargs: Any) -> list[list[object]]:
        calls.append((len(tasks), args[2]))
        return run_check_tasks(tasks, *args, **kwargs)

    monkeypatch.setattr(parallel, "run_check_tasks", spy)
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--junitxml=two.xml", "--nashproof-jobs", "2") \
        .assert_outcomes(passed=2)
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--junitxml=est.xml", "--nashproof-method", "estimated") \
        .assert_outcomes(passed=2)
    assert calls == [(2, 2)]  # the file's two tasks in one call of the runner, with 2 processes
    one, two, est = (junit(pytester.path / f) for f in ("one.xml", "two.xml", "est.xml"))
    assert {n: p for n, (p, _) in one.items()} == {n: p for n, (p, _) in two.items()}  # same verdicts in 2 processes
    assert {p["HALF.method"] for p, _ in est.values()} == {"estimated"}
    bad = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--nashproof-jobs", "0")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    assert "--nashproof-jobs must be a positive integer" in bad.stderr.str()


@pytest.mark.parametrize(("table", "message"), [
    ('[tool.nashproof]\nsuite = ["suites"]\n', "unknown key 'suite'"),
    ('[tool.nashproof]\nsuites = ["nowhere"]\n', "suite path 'nowhere' not found"),
    ('[tool.nashproof]\nsuites = "suites"\n', "'suites' must be a list of paths"),
    ('[tool.nashproof]\nclaims_modules = ["claims/absent.py"]\n', "absent.py not found"),
])
def test_a_bad_table_is_one_usage_error(pytester: pytest.Pytester, table: str, message: str) -> None:
    project(pytester, table=table)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str() and "Traceback" not in result.stderr.str()


def test_a_project_without_nashproof_is_left_alone(pytester: pytest.Pytester) -> None:
    """A pyproject.toml without the table, a .toml file that is not a suite: only the ordinary test runs."""
    (pytester.path / "pyproject.toml").write_text('[project]\nname = "other"\n')
    (pytester.path / "data.toml").write_text("x = [")
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_bad_suite_is_one_collection_error_line(pytester: pytest.Pytester) -> None:
    project(pytester)
    (pytester.path / "suites" / "two.toml").write_text(suite(["rps"], claims='["NO-SUCH-CLAIM"]'))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED  # pytest's exit code for collection errors
    text = result.stdout.str()
    assert "error: unknown claim 'NO-SUCH-CLAIM'" in text and "Traceback" not in text


def test_plain_pytest_also_runs_listed_suites_outside_testpaths(pytester: pytest.Pytester) -> None:
    project(pytester, table='[tool.pytest.ini_options]\ntestpaths = ["tests"]\n\n'
                            '[tool.nashproof]\nsuites = ["suites"]\nclaims_modules = ["claims/mine.py"]\n')
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_a.py").write_text("def test_a():\n    pass\n")
    everything = collected(pytester.runpytest_inprocess("--collect-only", "-q", "-p", "no:cacheprovider"))
    assert len(everything) == 3 and sum(i.startswith("suites/two.toml::") for i in everything) == 2
    only = collected(pytester.runpytest_inprocess("--collect-only", "-q", "-p", "no:cacheprovider", "tests"))
    assert only == ["tests/test_a.py::test_a"]


# ------------------------------------------------------------------ nashproof init


def run_init(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["init", *args])
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def workflow_runs(path: Path) -> tuple[dict[object, object], list[str]]:
    flow = yaml.safe_load(path.read_text())
    steps = flow["jobs"]["bound-checks"]["steps"]
    assert all(set(s) <= {"uses", "with"} for s in steps if "run" not in s)  # the rest: checkout, setup-python
    return flow, [s["run"] for s in steps if "run" in s]


def test_init_writes_a_starter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_init(capsys, str(tmp_path / "new"))
    assert code == 0 and err == "", err
    root = tmp_path / "new"
    assert sorted(snapshot(root)) == sorted([CLAIMS_FILE, SUITE_FILE, WORKFLOW_FILE, "pyproject.toml"])
    for name in snapshot(root):
        assert name in out
    table = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["nashproof"]
    assert table == {"suites": ["claims"], "claims_modules": [CLAIMS_FILE]}
    cat = builtin_catalogue()
    cat.load(str(root / CLAIMS_FILE))
    claim = cat.get(CLAIM_ID)
    assert claim.hypotheses and claim.tags == ("D",) and claim.source
    assert CLAIM_ID not in builtin_catalogue().ids()  # the user's own claim
    s = load_suite(root / SUITE_FILE, cat)
    assert len({t.game for t in s.tasks}) == 2 and {c for t in s.tasks for c in t.claims} == {CLAIM_ID}
    settings = read_table(root / "pyproject.toml")
    assert settings.is_suite(root / SUITE_FILE) and not settings.is_suite(root / "pyproject.toml")
    flow, runs = workflow_runs(root / WORKFLOW_FILE)
    assert runs == ["python -m pip install pytest nashproof", "python -m pytest"]
    assert set(flow.get("on", flow.get(True))) == {"push", "pull_request"}  # YAML 1.1 reads the key `on` as True


def test_init_install_requirement_is_quoted_for_the_shell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = "nashproof @ git+https://example.org/me/nashproof"
    assert run_init(capsys, str(tmp_path), "--install", spec)[0] == 0
    _, runs = workflow_runs(tmp_path / WORKFLOW_FILE)
    assert shlex.split(runs[0]) == ["python", "-m", "pip", "install", "pytest", spec]
    assert run_init(capsys, str(tmp_path / "x"), "--install", "a\nb")[0] == 2


@pytest.mark.parametrize("existing", [CLAIMS_FILE, SUITE_FILE, WORKFLOW_FILE])
def test_init_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str], existing: str) -> None:
    (tmp_path / existing).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / existing).write_text("mine")
    before = snapshot(tmp_path)
    code, out, err = run_init(capsys, str(tmp_path))
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("error: ")
    assert "never overwrites" in err and snapshot(tmp_path) == before


def test_init_appends_to_an_existing_pyproject(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original = '[project]\nname = "my-paper"\n\n[tool.black]\nline-length = 100'  # no final newline
    (tmp_path / "pyproject.toml").write_text(original)
    assert run_init(capsys, str(tmp_path))[0] == 0
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith(original + "\n")
    data = tomllib.loads(text)
    assert data["project"] == {"name": "my-paper"} and data["tool"]["black"] == {"line-length": 100}
    assert data["tool"]["nashproof"]["suites"] == ["claims"]


@pytest.mark.parametrize(("content", "message"), [
    ('[tool.nashproof]\nsuites = ["mine"]\n', "already has a [tool.nashproof] table"),
    ('[tool]\nnashproof = { suites = ["mine"] }\n', "already has a [tool.nashproof] table"),
    ("[project\n", "cannot be read as TOML"),
])
def test_init_refuses_a_pyproject_it_cannot_merge(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str,
                                                  message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(content)
    code, _, err = run_init(capsys, str(tmp_path))
    assert code == 2 and message in err and err.count("\n") == 1
    assert snapshot(tmp_path) == {"pyproject.toml": content.encode()}


def test_init_then_pytest(pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_init(capsys, str(pytester.path))[0] == 0
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


# ------------------------------------------------------------------ the user's path, from a fresh environment


def fresh_env(tmp: Path) -> tuple[Path, dict[str, str]]:
    """A new virtual environment that sees this interpreter's installed packages (no downloads), without
    nashproof's editable install and without this repository on the path."""
    env_dir = tmp / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=300)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    seen = [p for p in sys.path if p.endswith("-packages") and Path(p).is_dir()]
    seen += [sysconfig.get_paths()["purelib"]] if sysconfig.get_paths()["purelib"] not in seen else []
    Path(site, "borrowed.pth").write_text("\n".join(seen) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON"))}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return python, env


@pytest.mark.slow
def test_the_users_path(tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp = tmp_path_factory.mktemp("user")
    assert REPO not in tmp.parents
    python, env = fresh_env(tmp)
    # pip builds a local directory in place (build/, *.egg-info): a copy of the clone keeps this one clean
    source = tmp / "nashproof-clone"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__",
                                                                 ".*_cache", ".hypothesis", "notebooks"))
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(source)],
                             capture_output=True, text=True, env=env, timeout=600, cwd=tmp)
    assert install.returncode == 0, install.stderr
    where = subprocess.run([str(python), "-c", "import nashproof; print(nashproof.__file__)"], capture_output=True,
                           text=True, env=env, check=True, cwd=tmp).stdout.strip()
    assert Path(where).is_relative_to(tmp / "env"), where  # the installed copy, not this clone
    repo = tmp / "paper"
    init = subprocess.run([str(tmp / "env" / "bin" / "nashproof"), "init", str(repo)], capture_output=True,
                          text=True, env=env, timeout=120)
    assert init.returncode == 0, init.stderr
    _, runs = workflow_runs(repo / WORKFLOW_FILE)
    assert runs[0] == "python -m pip install pytest nashproof"
    step = [*shlex.split(runs[1]), "-p", "no:cacheprovider", "--junitxml=ok.xml"]  # the workflow's pytest step
    ok = subprocess.run(step, capture_output=True, text=True, env=env, cwd=repo, timeout=600)
    assert ok.returncode == 0 and "2 passed" in ok.stdout, ok.stdout + ok.stderr
    claims = repo / CLAIMS_FILE
    text = claims.read_text()
    assert "* KL0)," in text
    claims.write_text(text.replace("* KL0),", "* KL0 / 2),"))  # now false: KL_0 ≤ KL_0/2 at k = 0
    bad = subprocess.run([*step[:-1], "--junitxml=bad.xml", "-n", "2"], capture_output=True, text=True, env=env,
                         cwd=repo, timeout=600)
    assert bad.returncode == 1 and "2 failed" in bad.stdout, bad.stdout + bad.stderr
    cases = junit(repo / "bad.xml")
    assert len(cases) == 2
    for props, failure in cases.values():
        margin = props[f"{CLAIM_ID}.margin"]
        assert Fraction(margin) < 0 and failure is not None and f"margin    {margin} " in failure
        assert f"margin    {margin} " in bad.stdout
