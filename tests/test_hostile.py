"""Hostile input (issue 13): every answer is quick, one ``error:`` line with the right exit code, never a
traceback; exit codes are the verdict's whatever happens to stdout; suites are type-checked.

Each case runs ``main`` in-process (cheap); the handful that need a real process (a closed pipe,
``python -m nashproof``) use a subprocess.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import mpmath
import pytest
from helpers import call

from nashproof.claims import builtin_catalogue
from nashproof.cli import build_parser, main
from nashproof.equilibrium import verify_von_neumann_winner, von_neumann_winner
from nashproof.families import build_family
from nashproof.numbers import MAX_ACTIONS, approx_str, fraction_str, parse_rational
from nashproof.query_complexity import complexity, smallest_k
from nashproof.report import Progress, table
from nashproof.suite import load_suite

F = Fraction


def one_error(rc: int, err: str, code: int = 2, fragment: str = "") -> None:
    assert rc == code, (rc, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    assert fragment in lines[0], (fragment, lines[0])


# ----------------------------------------------------------------------------- command-line arguments

BETA = ["--beta", "1/10"]
RUN = ["--solver", "nash-mp", *BETA, "--steps", "2", "--digits", "20"]

BAD_ARGS: dict[str, tuple[list[str], str]] = {
    # Exact numbers whose size would take hours: refused by their exponent or their size.
    "skew-million-digit": (["equilibrium", "cyclic:n=3,skew=1e-999999", *BETA], "exponent"),
    "skew-power-too-large": (["equilibrium", "cyclic:n=300,skew=1e-999", *BETA], "digits"),
    "eta-huge": (["run", "rps", "--solver", "nash-mp", *BETA, "--eta", "1e999999"], "exponent"),
    "beta-huge-exponent": (["equilibrium", "rps", "--beta", "1e-5000"], "exponent"),
    # Sizes: n² matrices, steps, exact LP, mpmath.
    "cyclic-65536": (["equilibrium", "cyclic:n=65536", *BETA], str(MAX_ACTIONS)),
    "transitive-65536": (["run", "transitive:n=65536", *RUN], str(MAX_ACTIONS)),
    "random-65536": (["run", "random:n=65536", *RUN], str(MAX_ACTIONS)),
    "ties-65536": (["run", "ties:n=65536", *RUN], str(MAX_ACTIONS)),
    "bradley-terry-65536": (["run", "bradley-terry:n=65536", *RUN], str(MAX_ACTIONS)),
    "disjoint-cycles-huge": (["run", "disjoint-cycles:m=4096,k=4096", *RUN], str(MAX_ACTIONS)),
    "contextual-huge": (["run", "contextual:n=512,contexts=65", *RUN], "[1, 64]"),
    "family-n-not-int": (["run", "cyclic:n=1e3", *RUN], "integer"),
    "steps-billion": (["run", "rps", "--solver", "nash-mp", *BETA, "--steps", "1000000000"], "100000"),
    "sampled-m-huge": (["run", "rps", "--solver", "nash-mp-sampled:m=99999999999", *BETA], "at most"),
    "eta-max-for-mmd": (["run", "rps", "--solver", "mmd", *BETA, "--eta", "max"], "Nash-MP"),
    "plot-eta-max-for-mmd": (["plot", "rps", *BETA, "--solver", "mmd@max", "--out", "{tmp}/x.png"], "Nash-MP"),
    # complexity: float range, KL₀ = 0, n < 2, grids.
    "eps-million-digit": (["complexity", *BETA, "--eps", "1e-100000"], "exponent"),
    "eps-below-float": (["complexity", *BETA, "--eps", "1e-400"], "range"),
    "eps-grid-above-float": (["complexity", *BETA, "--eps", "1e-3:1e400:3"], "range"),
    "beta-grid-below-range": (["complexity", "--beta", "1e-400:1:3", "--eps", "1e-4"], "range"),
    "kl0-zero": (["complexity", *BETA, "--eps", "1e-3", "--kl0", "0"], "KL₀ = 0"),
    "kl0-huge": (["complexity", *BETA, "--eps", "1e-3", "--kl0", "1e400"], "range"),
    "actions-negative": (["complexity", "--eps", "1e-2", "--metric", "unregularized", "--actions", "-5"],
                         "--actions"),
    "max-steps-huge": (["complexity", *BETA, "--eps", "1e-3", "--max-steps", "99999999"], "--max-steps"),
    "check-digits-huge": (["check", "--game", "rps", "--solver", "nash-mp", *BETA, "--digits", "200000"],
                          "--digits"),
    # Output paths are checked before the run.
    "complexity-plot-bad-dir": (["complexity", *BETA, "--eps", "1e-3", "--plot", "{tmp}/no/such/dir/q.png"],
                                "does not exist"),
    "plot-out-bad-dir": (["plot", "rps", *BETA, "--solver", "nash-mp", "--out", "{tmp}/no/dir/x.png"],
                         "does not exist"),
    "plot-out-directory": (["plot", "rps", *BETA, "--solver", "nash-mp", "--out", "{tmp}/adir.png"],
                           "directory"),
    "plot-out-suffix": (["plot", "rps", *BETA, "--solver", "nash-mp", "--out", "{tmp}/x.txt"], ".png"),
    "junit-bad-dir": (["check", "--game", "rps", "--solver", "nash-mp", *BETA, "--junit", "{tmp}/no/dir/r.xml"],
                      "does not exist"),
    "report-under-a-file": (["check", "--game", "rps", "--solver", "nash-mp", *BETA, "--report",
                             "{tmp}/afile/sub"], "not a directory"),
    # Game files that are not regular files, or hold numbers too large.
    "game-fifo": (["equilibrium", "{tmp}/fifo.json", *BETA], "not a regular file"),
    "game-dev-zero": (["equilibrium", "/dev/zero", *BETA], "not a regular file"),
    "game-directory": (["equilibrium", "{tmp}/adir.png", *BETA], "directory"),
    "game-entry-1e999999": (["equilibrium", "{tmp}/big.json", *BETA], "exponent"),
    "game-entry-json-literal": (["equilibrium", "{tmp}/bigliteral.json", *BETA], "exponent"),
    "game-binary": (["equilibrium", "{tmp}/binary.json", *BETA], "UTF-8"),
    "game-too-many-rows": (["equilibrium", "{tmp}/rows.json", *BETA], f"at most {MAX_ACTIONS}"),
    "game-deep-nesting": (["equilibrium", "{tmp}/deep.json", *BETA], ""),
}


@pytest.fixture
def hostile_dir(tmp_path: Path) -> Path:
    (tmp_path / "adir.png").mkdir()
    (tmp_path / "afile").write_text("x")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.json")
    (tmp_path / "big.json").write_text('{"preference": [["1/2", "1e999999"], ["0", "1/2"]]}')
    (tmp_path / "bigliteral.json").write_text('{"preference": [[0.5, 1e999999], [0, 0.5]]}')
    (tmp_path / "binary.json").write_bytes(b"\x00\xff\xfe{" * 10)
    (tmp_path / "rows.json").write_text(json.dumps({"preference": [["1/2"]] * (MAX_ACTIONS + 1)}))
    (tmp_path / "deep.json").write_text('{"preference": ' + "[" * 100_000 + "]" * 100_000 + "}")
    return tmp_path


@pytest.mark.parametrize("name", sorted(BAD_ARGS))
def test_hostile_arguments_are_one_error_line(capsys: pytest.CaptureFixture[str], hostile_dir: Path,
                                              name: str) -> None:
    argv, fragment = BAD_ARGS[name]
    if "fifo" in name and not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    rc, out, err = call(capsys, [a.replace("{tmp}", str(hostile_dir)) for a in argv])
    one_error(rc, err, 2, fragment)
    assert out == ""


def test_bad_output_path_is_refused_before_the_run(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The check would take seconds; the bad --junit path is refused before any run starts."""
    import nashproof.cli.check as check_cli

    def no_run(*args: object, **kwargs: object) -> object:
        raise AssertionError("the run started before the output path was checked")

    monkeypatch.setattr(check_cli, "run_check_tasks", no_run)
    rc, _, err = call(capsys, ["check", "--game", "cyclic:n=7,skew=1/4", "--solver", "nash-mp", *BETA,
                               "--steps", "200", "--junit", str(tmp_path / "missing" / "r.xml")])
    one_error(rc, err, 2, "does not exist")


# ------------------------------------------------------------------------------------ suites (TOML)

RUN_BLOCK = '[[run]]\ngames = ["rps:skew=1/2"]\nbetas = ["1/2"]\nsolvers = ["nash-mp"]\nsteps = 3\ndigits = 20\n'

BAD_SUITES: dict[str, tuple[str | bytes, str]] = {
    "run-is-an-integer": ("run = 5\n", "array of tables"),
    "run-is-a-table": ('[run]\ngames = ["rps"]\nbetas = ["1/2"]\nsolvers = ["nash-mp"]\n', "[[run]]"),
    "dimension-without-family": ("[[dimension]]\nsizes = [2, 4]\n", "missing 'family'"),
    "dimension-family-without-n": ('[[dimension]]\nfamily = "cyclic:n=4"\nsizes = [2, 4]\n', "{n}"),
    "dimension-size-huge": ('[[dimension]]\nfamily = "cyclic:n={n}"\nsizes = [65536]\n', str(MAX_ACTIONS)),
    "binary": (b"\x00\x01\xff\xfe\x80" * 20, "UTF-8"),
    "ignore-hypotheses-string": (RUN_BLOCK + 'ignore_hypotheses = "false"\n', "true or false"),
    "ignore-hypotheses-string-top": ('ignore_hypotheses = "false"\n' + RUN_BLOCK, "true or false"),
    "until-floor-integer": (RUN_BLOCK + "until_floor = 1\n", "true or false"),
    "slow-string": ('slow = "yes"\n' + RUN_BLOCK, "true or false"),
    "expect-bogus-status": (RUN_BLOCK + 'claims = ["NMP-KL"]\nexpect = { "NMP-KL" = "fine" }\n',
                            "not an outcome"),
    "expect-claim-not-run": (RUN_BLOCK + 'claims = ["NMP-KL"]\nexpect = { "NMP-KL-STEP" = "violated" }\n',
                             "does not check"),
    "expect-not-a-table": (RUN_BLOCK + 'expect = "violated"\n', "table"),
    "steps-string": (RUN_BLOCK.replace("steps = 3", 'steps = "3"'), "'steps'"),
    "steps-huge": (RUN_BLOCK.replace("steps = 3", "steps = 10000000000"), "'steps'"),
    "digits-too-small": (RUN_BLOCK.replace("digits = 20", "digits = 2"), "'digits'"),
    "games-integer": (RUN_BLOCK.replace('["rps:skew=1/2"]', "5"), "'games[0]'"),
    "beta-float": (RUN_BLOCK.replace('["1/2"]', "[0.5]"), "float"),
    "eta-float": (RUN_BLOCK.replace('["nash-mp"]', '[{ name = "nash-mp", eta = 2.5 }]'), "eta"),
    "solver-table-unknown-key": (RUN_BLOCK.replace('["nash-mp"]', '[{ name = "nash-mp", step = "2" }]'),
                                 "unknown key"),
    "solver-table-without-name": (RUN_BLOCK.replace('["nash-mp"]', '[{ eta = "2" }]'), "'name'"),
    "unknown-top-level-key": ("colour = 3\n" + RUN_BLOCK, "unknown top-level key"),
    "name-not-a-string": ("name = 3\n" + RUN_BLOCK, "'name'"),
    "claim-modules-not-strings": ("claim_modules = [3]\n" + RUN_BLOCK, "claim_modules"),
    "deeply-nested": ("x = " + "[" * 5000 + "]" * 5000 + "\n", ""),
}


@pytest.mark.parametrize("name", sorted(BAD_SUITES))
def test_hostile_suites(capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str) -> None:
    body, fragment = BAD_SUITES[name]
    suite = tmp_path / "s.toml"
    if isinstance(body, bytes):
        suite.write_bytes(body)
    else:
        suite.write_text(body, encoding="utf-8")
    rc, out, err = call(capsys, ["check", str(suite)])
    one_error(rc, err, 2, fragment)
    assert out == ""


def test_suite_fields_are_typed_and_slow_is_carried(tmp_path: Path) -> None:
    suite = tmp_path / "s.toml"
    suite.write_text('slow = true\n' + RUN_BLOCK + 'ignore_hypotheses = false\nslow = false\n'
                     + RUN_BLOCK.replace("[[run]]", "[[run]]\nignore_hypotheses = true")
                     + '[[dimension]]\nfamily = "cyclic:n={n},skew=1/2"\nsizes = [2, 3]\n')
    s = load_suite(suite, builtin_catalogue())
    assert [t.slow for t in s.tasks] == [False, True]  # the block's own value wins over the suite's
    assert [t.ignore_hypotheses for t in s.tasks] == [False, True]
    assert [d.slow for d in s.dimensions] == [True]
    assert s.dimensions[0].label.startswith("cyclic:n=n,skew=1/2 | n = 2,3")


def test_relative_claim_module_resolves_against_the_suite(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    sub = tmp_path / "suites"
    sub.mkdir()
    (sub / "my_claims.py").write_text(textwrap.dedent('''
        from nashproof.claims import KL, KL0, Claim
        CLAIMS = [Claim("MY-KL0", "KL_k never exceeds KL_0", "bound", "kl", (KL <= KL0,), (), ("nash-mp",),
                        "E", "test")]
    '''))
    (sub / "s.toml").write_text('claim_modules = ["my_claims.py"]\n' + RUN_BLOCK + 'claims = ["MY-KL0"]\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    rc, out, err = call(capsys, ["check", str(Path("..") / "suites" / "s.toml"), "--json"])
    assert rc == 0, err
    verdicts = json.loads(out)["verdicts"]
    assert [(v["claim"], v["outcome"]) for v in verdicts] == [("MY-KL0", "pass")]


# ------------------------------------------------------------------------------ claim modules

BAD_CLAIM_MODULES = {
    "claims-not-a-list": ("CLAIMS = 5\n", "CLAIMS must be a list"),
    "register-raises": ("def register(catalogue):\n    raise ValueError('boom')\n", "register() raised ValueError"),
    "register-not-callable": ("register = 5\n", "register must be a function"),
    "not-a-claim": ("CLAIMS = ['NMP-KL']\n", "not a Claim"),
    "unknown-symbol": ("import sympy as sp\nfrom nashproof.claims import KL, Claim\n"
                       "CLAIMS = [Claim('X', 'x', 'bound', 'kl', (KL <= sp.Symbol('zeta'),), (), ('*',), 'E', 's')]\n",
                       "unknown symbol 'zeta'"),
    "unknown-metric": ("from nashproof.claims import KL, KL0, Claim\n"
                       "CLAIMS = [Claim('X', 'x', 'bound', 'speed', (KL <= KL0,), (), ('*',), 'E', 's')]\n",
                       "unknown metric 'speed'"),
    "import-fails": ("import no_such_module_anywhere\n", "cannot import"),
    "sys-exit": ("import sys\nsys.exit(0)\n", "cannot import"),
}


@pytest.mark.parametrize("name", sorted(BAD_CLAIM_MODULES))
def test_hostile_claim_modules(capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str) -> None:
    body, fragment = BAD_CLAIM_MODULES[name]
    module = tmp_path / f"claims_{name.replace('-', '_')}.py"
    module.write_text(body)
    rc, _, err = call(capsys, ["claims", "--claims-module", str(module)])
    one_error(rc, err, 2, fragment)


# ------------------------------------------------------------------- fuzzing the parser and the loaders

FUZZ_VALUES = ["", " ", "-1", "0", "nan", "inf", "-inf", "1/0", "1e999999", "1e-999999", "١٢", "0x10", "1_000",
               "9" * 2000, "1/" + "9" * 999, "--", "max", "3*max", "-max", "1e-330", "\x00", "💥"]
FUZZ_OPTIONS = [
    ["equilibrium", "rps:skew=1/2", "--beta", "{v}", "--digits", "20"],
    ["run", "rps:skew=1/2", "--solver", "nash-mp", "--beta", "1/10", "--steps", "2", "--eta", "{v}"],
    ["run", "cyclic:n={v}", "--solver", "nash-mp", "--beta", "1/10", "--steps", "2", "--digits", "20"],
    ["run", "rps:skew={v}", "--solver", "nash-mp", "--beta", "1/10", "--steps", "2", "--digits", "20"],
    ["complexity", "--beta", "1/10", "--eps", "{v}"],
    ["complexity", "--beta", "{v}", "--eps", "1e-3"],
    ["check", "--game", "rps", "--solver", "nash-mp", "--beta", "1/10", "--steps", "2", "--digits", "20",
     "--claim", "NMP-KL", "--eta", "{v}"],
]


@pytest.mark.parametrize("template", FUZZ_OPTIONS, ids=lambda t: "-".join(t[:2]))
def test_fuzzed_values_never_give_a_traceback(capsys: pytest.CaptureFixture[str], template: list[str]) -> None:
    """Every value either works (0, or 3/4 with one error line) or is one error line with exit 2."""
    for value in FUZZ_VALUES:
        argv = [a.replace("{v}", value) for a in template]
        rc, _, err = call(capsys, argv)
        assert rc in (0, 1, 2, 3, 4), (argv, rc)
        assert "Traceback" not in err, (argv, err)
        if rc == 2:
            one_error(rc, err, 2)


def test_every_option_has_help_and_every_help_gives_the_exit_codes() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    commands = sub.choices  # type: ignore[attr-defined]
    assert {"games", "equilibrium", "run", "claims", "check", "complexity", "audit", "plot", "bench"} <= set(commands)
    for name, command in commands.items():
        text = command.format_help()
        assert "exit codes" in text and "4 a numerical" in text, name
        for action in command._actions:
            if action.option_strings or action.dest not in ("help",):
                assert action.help, (name, action.dest)
    assert "4 a numerical" in parser.format_help()


def test_version_and_python_m(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = call(capsys, ["--version"])
    assert rc == 0 and re.fullmatch(r"nashproof \d+\.\d+\.\d+\n", out)
    done = subprocess.run([sys.executable, "-m", "nashproof", "--version"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout == out


# ------------------------------------------------------------------------------- exit codes and pipes

VIOLATION_SUITE = ('[[run]]\ngames = ["cyclic:n=3,skew=1/2"]\nbetas = ["1/20"]\n'
                   'solvers = [{ name = "nash-mp", eta = "4*max" }]\nsteps = 10\ndigits = 20\n'
                   'claims = ["NMP-KL-STEP", "NMP-KL0"]\nignore_hypotheses = true\n')


def test_a_closed_pipe_keeps_the_verdicts_exit_code(tmp_path: Path) -> None:
    """``nashproof check suite | head -1`` on a violation exits 1, not 0, and prints no traceback."""
    suite = tmp_path / "v.toml"
    suite.write_text(VIOLATION_SUITE)
    proc = subprocess.Popen([sys.executable, "-m", "nashproof", "check", str(suite)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # like head -1
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 1, err
    assert first.startswith("claim") and "Traceback" not in err and "BrokenPipe" not in err


def test_pipe_safe_stdout_in_process(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                     tmp_path: Path) -> None:
    class Closed(io.StringIO):
        def write(self, s: str) -> int:
            raise BrokenPipeError

    suite = tmp_path / "v.toml"
    suite.write_text(VIOLATION_SUITE)
    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["check", str(suite)]) == 1


# ------------------------------------------------------------------------------------- the answers


def test_exponent_bound_and_huge_numbers_render() -> None:
    assert parse_rational("1e-1000") == F(1, 10**1000)
    with pytest.raises(Exception, match="exponent"):
        parse_rational("1e1001")
    big = F(10**5000 + 1, 3)  # str() of its numerator would exceed Python's 4300-digit limit
    text = fraction_str(big)
    with mpmath.workdps(30):
        expected = mpmath.mpf(10) ** 5000 / 3
        assert abs(mpmath.mpf(text) / expected - 1) < 1e-5
    assert approx_str(F(-5, 7)) == "-0.714286" and approx_str(F(1, 10**999999)) == "1e-999999"


def test_galloping_search_matches_the_closed_form() -> None:
    """β = 1e-9, ε = 1e-6 once hung (a float guess off by 10⁸, then steps of 1). NMD-KL:
    8/(β²(k+1)) ≤ ε ⇔ k ≥ 8/(β²ε) − 1, an exact integer here: 8·10²⁴ − 1."""
    res = complexity("1e-9", "1e-6")
    assert res.methods["nash-md"].iterations == 8 * 10**24 - 1
    import sympy as sp

    k = sp.Symbol("k", positive=True)
    for target in (sp.Rational(1, 7), sp.Rational(1, 1000)):  # 1/(k+1) ≤ t by brute force
        brute = next(kk for kk in range(2000) if sp.Rational(1, kk + 1) <= target)
        for guess in (None, 1, brute, brute + 500, 10**6):
            assert smallest_k(1 / (k + 1), target, guess) == brute


def test_exact_winner_is_fast_and_exactly_verified() -> None:
    """β = 0 on random:n=60 (minutes with the old exact simplex): the winner is exactly verified."""
    ctx = build_family("random:n=60,seed=0").contexts[0]
    pi = von_neumann_winner(ctx)
    assert verify_von_neumann_winner(ctx, pi)  # exact: max_y P(y ≻ π) ≤ 1/2, π a distribution
    assert max(sum(r * p for r, p in zip(row, pi)) for row in ctx.preference) == F(1, 2)  # the value is ½


def test_ties_plot_says_there_is_nothing_on_a_log_axis(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "ties.svg"
    rc, out, err = call(capsys, ["plot", "ties:n=4", *BETA, "--solver", "nash-mp", "--steps", "5", "--digits", "20",
                                 "--out", str(out_file)])
    assert rc == 0, err
    assert "≤ 0 at every iterate" in out and out_file.stat().st_size > 0
    assert "log axis" in out_file.read_text()


def test_run_table_shows_the_gap_and_fits(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = call(capsys, ["run", "cyclic:n=5,skew=1/3", "--solver", "nash-mp", *BETA, "--steps", "3",
                               "--digits", "30"])
    assert rc == 0
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("k "))
    assert "None" not in out and "1 actions" not in out and "1 context)" in out
    assert max(len(line) for line in lines) <= 100
    header = lines[at].split()
    gap_col, expl_col = header.index("gap"), header.index("Expl_β")
    for row in lines[at + 2: at + 6]:  # gap = 2·Expl_β (6 digits each)
        cells = row.split()
        assert float(cells[gap_col]) == pytest.approx(2 * float(cells[expl_col]), rel=1e-5)


def test_check_output_fits_100_columns_and_reads_well(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    suite = tmp_path / "v.toml"
    suite.write_text(VIOLATION_SUITE)
    rc, out, _ = call(capsys, ["check", str(suite)])
    assert rc == 1
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "None" not in out and "Eq(" not in out and "**" not in out
    assert "η = 8.40999" in out  # 4·η̄(1/20) as a short decimal; --json keeps the exact fraction


def test_table_wraps_the_last_column_at_words() -> None:
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho " * 3
    text = table(["a", "b", "note"], [["x" * 30, None, words]], width=80)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80 and "None" not in text and lines[2].split()[1] == "-"
    assert " ".join(" ".join(line.split()) for line in lines[2:]).replace("x" * 30 + " - ", "") == words.strip()


def test_progress_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    with Progress(4, "check", stream=stream, interval=1e-9) as bar:
        for i in range(5):
            bar.update(i, f"task {i}")
    lines = stream.getvalue().splitlines()
    assert lines and all(line.startswith("check: ") for line in lines)
    assert "4/4 done" in lines[-1] and "\r" not in stream.getvalue()
    silent = io.StringIO()
    with Progress(4, "check", stream=silent, interval=3600) as bar:
        bar.update(2)
    assert silent.getvalue() == ""


def test_no_hang_on_fifo_even_when_swapped(tmp_path: Path) -> None:
    """read_text never blocks: it refuses non-regular files before opening them."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    from nashproof.errors import InputError
    from nashproof.files import read_text

    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        read_text(fifo, "game file")
    small = tmp_path / "big.txt"
    small.write_text("x" * 100)
    with pytest.raises(InputError, match="limit"):
        read_text(small, "game file", max_bytes=10)
