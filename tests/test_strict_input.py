"""Hostile input, round 3 (issue 23): one strict input layer, no silent substitution, a report that is written.

Every bad input is one ``error:`` line with exit 2 (never 4, never a traceback) before any work; counts have a
stated limit; output paths are checked first; corpora go through the normal loaders; suite and file start
logits are honoured everywhere they are accepted.
"""

from __future__ import annotations

import json
import os
import shutil
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest
from helpers import call

from nashproof.claims import builtin_catalogue
from nashproof.complexity_measure import game_kl0
from nashproof.errors import InputError
from nashproof.families import load_game
from nashproof.games import game_from_dict
from nashproof.numbers import parse_int
from nashproof.query_complexity import complexity
from nashproof.suite import load_suite, parse_eta, run_task

F = Fraction
ROOT = Path(__file__).resolve().parents[1]
RPS = [["1/2", "1/3", "2/3"], ["2/3", "1/2", "1/3"], ["1/3", "2/3", "1/2"]]


def one_error(rc: int, err: str, fragment: str = "") -> None:
    assert rc == 2, (rc, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "internal error" not in err, err
    assert fragment in lines[0], (fragment, lines[0])


# ------------------------------------------------------------------ check --report


def test_check_report_is_written_for_a_suite_with_static_and_bound_claims(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`check --report` crashed (KeyError 'kl_ref_star') on every suite with a static claim, after the run."""
    suite = tmp_path / "s.toml"
    suite.write_text('name = "s"\n[[run]]\ngames = ["rps:skew=1/2"]\nbetas = ["1/2"]\nsolvers = ["nash-mp"]\n'
                     'steps = 6\ndigits = 20\nclaims = ["NMP-KL0", "NMP-KL-STEP", "NMP-KL", "NMP-SPAN-C"]\n'
                     'start_logits = [["0", "-3", "1"]]\n', encoding="utf-8")
    rc, _, err = call(capsys, ["check", str(suite), "--report", str(tmp_path / "rep")])
    assert rc == 0, err
    html = (tmp_path / "rep" / "report.html").read_text(encoding="utf-8")
    assert "NMP-KL0" in html and "NMP-KL-STEP" in html
    assert html.count("<img src='data:image/png;base64,") >= 1  # the per-iterate claims are plotted


def test_check_table_fits_100_columns(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = call(capsys, ["check", "--game", "rps:skew=1/2", "--solver", "nash-mp", "--beta", "1/2",
                               "--eta", "1", "--steps", "8", "--digits", "20"])
    assert rc == 0
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "Eq(" not in out and "start_ref" not in out


# ------------------------------------------------------------------ game files and numbers


@pytest.mark.parametrize("doc, fragment", [
    ({"preference": RPS, "refrence": ["1/4", "1/4", "1/2"]}, "'refrence'"),
    ({"contexts": [{"weight": "1", "preference": RPS, "start_logits": ["0", "0", "1"], "strat": 1}]}, "'strat'"),
    ({"contexts": [{"weight": "1", "preference": RPS}], "start_logits": [["0", "0", "1"]]}, "inside each context"),
    ({"preference": RPS, "start_logits": ["1e1000", "0", "0"]}, "start_logits[0]"),
    ({"preference": RPS, "start_logits": ["-1000000000001", "0", "0"]}, "start_logits[0]"),
    ({"contexts": [{"weight": "1", "preference": RPS, "name": 5}]}, "'name'"),
])
def test_game_files_refuse_unknown_keys_and_huge_logits(doc: dict[str, object], fragment: str,
                                                       capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(InputError, match=None) as exc:
        game_from_dict(doc)
    assert fragment in str(exc.value)
    path = tmp_path / "g.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    one_error(*call(capsys, ["equilibrium", str(path), "--beta", "1"])[::2], fragment=fragment)


def test_known_game_keys_still_load() -> None:
    """The annotations search writes ("witness") and the documented keys are accepted."""
    game = game_from_dict({"actions": ["r", "p", "s"], "preference": RPS, "reference": ["1/4", "1/4", "1/2"],
                           "start_logits": ["0", "-1000000000000", "0"], "witness": {"claim": "x"}})
    assert game.contexts[0].start == (0, -10**12, 0)


@pytest.mark.parametrize("text", ["0000000000000000000000000000000000000001abc", "²", "+-5", "1e3", "2.0", "1_0",
                                  "٣", "", " ", "9" * 5000, "-0x1", "True"])
def test_integers_are_parsed_strictly(text: str) -> None:
    with pytest.raises(InputError):
        parse_int(text, "m", 1, 10**6)


def test_integers_are_read_whole() -> None:
    assert parse_int("0" * 60 + "7", "m", 1, 10) == 7  # leading zeros are fine: nothing is cut
    assert parse_int(" +12 ", "m", 1, 100) == 12


@pytest.mark.parametrize("argv, fragment", [
    (["run", "cyclic:n=²"], "family parameter n"),
    (["run", "cyclic:n=+-5"], "family parameter n"),
    (["run", "cyclic:n=" + "9" * 5000], "not a game"),
    (["run", "cyclic:n=50,skew=" + "9" * 900], "digits"),
    (["run", "rps:skew=1/²"], "skew"),
    (["check", "--game", "rps", "--solver", "nash-mp-sampled:m=0000000000000000000000000000000000000001abc"],
     "m (duels per action)"),
    (["check", "--game", "rps", "--solver", "nash-mp-sampled:m=+-5"], "m (duels per action)"),
    (["check", "--game", "rps", "--solver", "nash-mp-inexact:delta=²"], "delta"),
    (["check", "--game", "rps", "--solver", "nash-mp-pg-sampled:T=100000,m=1000000"], "T·m"),
])
def test_spec_strings_are_strict(argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]) -> None:
    if argv[0] == "run":
        argv = [*argv, "--solver", "nash-mp", "--beta", "1/10", "--steps", "1"]
    else:
        argv = [*argv, "--beta", "1", "--steps", "2"]
    one_error(*call(capsys, argv)[::2], fragment=fragment)


# ------------------------------------------------------------------ counts and sizes


@pytest.mark.parametrize("argv, fragment", [
    (["search", "NMP-KL-STEP", "--restarts", "100000000"], "--restarts"),
    (["search", "NMP-KL-STEP", "--steps", "100000000"], "--steps"),
    (["search", "NMP-KL-STEP", "--evals", "10000000000"], "--evals"),
    (["search", "NMP-KL-STEP", "--restarts", "1e8"], "--restarts"),
    (["check", "--game", "rps", "--solver", "nash-mp", "--beta", "1", "--runs", "100000000"], "--runs"),
    (["check", "--steps", "٣"], "--steps"),
    (["check", "--jobs", "0"], "--jobs"),
    (["run", "rps", "--solver", "nash-mp", "--beta", "1", "--digits", "10000000"], "--digits"),
    (["complexity", "--beta", "1e-3:1:200", "--eps", "1e-8:1e-2:200"], "40000 rows"),
    (["complexity", "--beta", "1", "--eps", "1e-3", "--samples-per-query", "100000000"], "--samples-per-query"),
    (["complexity", "--beta", "1e-12", "--eps", "1e-3"], "1e-9 ≤ β ≤ 1e6"),
    (["search", "--step-threshold", "random:n=5000", "--beta", "1/10"], "at most 4096"),
    (["search", "NMP-KL-STEP", "--game", "random:n=5000"], "at most 4096"),
    (["plot", "random:n=5000", "--beta", "1", "--solver", "nash-mp", "--backend", "arb", "--out", "x.png"],
     "at most 4096"),
    (["complexity", "--beta", "1", "--eps", "1e-3", "--game", "random:n=5000"], "at most 4096"),
])
def test_every_count_has_a_stated_limit(argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    one_error(*call(capsys, argv)[::2], fragment=fragment)


def test_the_beta_range_message_is_the_same_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    messages = []
    for argv in (["equilibrium", "rps", "--beta", "1e7"], ["complexity", "--beta", "1e7", "--eps", "1e-3"],
                 ["check", "--game", "rps", "--solver", "nash-mp", "--beta", "1e7"],
                 ["plot", "rps", "--beta", "1e7", "--solver", "nash-mp", "--out", "x.png"]):
        rc, _, err = call(capsys, argv)
        one_error(rc, err, "1e-9 ≤ β ≤ 1e6")
        messages.append(err.split("=", 1)[1])
    assert len(set(messages)) == 1, messages


# ------------------------------------------------------------------ output paths


@pytest.fixture()
def links(tmp_path: Path) -> Path:
    (tmp_path / "loop.png").symlink_to("loop.png")
    (tmp_path / "dangling.png").symlink_to("missing.png")
    (tmp_path / "loopdir").symlink_to("loopdir")
    return tmp_path


OUTPUTS = [
    ["check", "--game", "rps", "--solver", "nash-mp", "--beta", "1", "--steps", "2", "--junit", "{}"],
    ["check", "--game", "rps", "--solver", "nash-mp", "--beta", "1", "--steps", "2", "--report", "{}"],
    ["plot", "rps", "--beta", "1", "--solver", "nash-mp", "--steps", "2", "--out", "{}"],
    ["complexity", "--beta", "1", "--eps", "1e-2", "--plot", "{}"],
    ["search", "NMP-KL-STEP", "--n", "2", "--evals", "5", "--restarts", "1", "--save", "{}"],
    ["search", "--corpus", "{}"],
    ["search", "--corpus", "{}", "--refresh"],
]


@pytest.mark.parametrize("target", ["loop.png", "dangling.png", "loopdir/x.png", "/dev/full"])
@pytest.mark.parametrize("argv", OUTPUTS, ids=lambda a: " ".join(a[:1] + [x for x in a if x.startswith("--")][-1:]))
def test_output_paths_are_checked_before_any_work(argv: list[str], target: str, links: Path,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import nashproof.cli.check as check_cli
    import nashproof.cli.search as search_cli

    def no_work(*args: object, **kwargs: object) -> object:
        raise AssertionError("work started before the output path was checked")

    monkeypatch.setattr(check_cli, "run_check_tasks", no_work)
    monkeypatch.setattr(search_cli, "search", no_work)
    monkeypatch.chdir(links)
    if target == "/dev/full" and not os.path.exists(target):
        pytest.skip("no /dev/full here")
    one_error(*call(capsys, [a.replace("{}", target) for a in argv])[::2])


# ------------------------------------------------------------------ the witness corpus


def _edit(path: Path, change: str) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    meta = doc["witness"]
    if change == "target":
        meta["target"] = "no such target"
    elif change == "eta":
        meta["eta"] = "abc"
    elif change == "list":
        doc["witness"] = [1, 2]
    elif change == "no-solver":
        del meta["solver"]
    elif change == "bad-solver":
        meta["solver"] = 'nash-mp"\n[[run]]'
    elif change == "steps":
        meta["steps"] = "1e9"
    elif change == "claim":
        meta["claim"] = "NO-SUCH-CLAIM"
    elif change == "rate-claim":
        meta["claim"] = "NMP-KL"
    elif change == "game-key":
        doc["refrence"] = ["1/2", "1/2"]
    path.write_text(json.dumps(doc), encoding="utf-8")


@pytest.mark.parametrize("change", ["target", "eta", "list", "no-solver", "bad-solver", "steps", "claim",
                                    "rate-claim", "game-key", "broken-json", "binary", "directory", "fifo",
                                    "array", "dangling"])
def test_an_edited_corpus_is_refused_with_one_line(change: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "checks" / "witnesses", corpus)
    victim = corpus / "NMP-KL0_1.json"
    if change == "broken-json":
        victim.write_text('{"actions": [', encoding="utf-8")
    elif change == "binary":
        victim.write_bytes(bytes(range(256)) * 4)
    elif change == "directory":
        (corpus / "x.json").mkdir()
    elif change == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        os.mkfifo(corpus / "y.json")
    elif change == "array":
        victim.write_text("[1, 2]", encoding="utf-8")
    elif change == "dangling":
        (corpus / "z.json").symlink_to("nowhere.json")
    else:
        _edit(victim, change)
    before = {p.name: p.read_bytes() for p in corpus.glob("*.json") if p.is_file()}
    one_error(*call(capsys, ["search", "--corpus", str(corpus), "--refresh"])[::2])
    assert {p.name: p.read_bytes() for p in corpus.glob("*.json") if p.is_file()} == before  # nothing rewritten


def test_a_corpus_refresh_reproduces_the_suite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The validating loader changes nothing for a good corpus: the rebuilt suite equals the committed one."""
    corpus = tmp_path / "witnesses"
    shutil.copytree(ROOT / "checks" / "witnesses", corpus)
    rc, _, err = call(capsys, ["search", "--corpus", str(corpus), "--refresh", "--digits", "30"])
    assert rc == 0, err
    rebuilt = (tmp_path / "witnesses.toml").read_text(encoding="utf-8")
    committed = (ROOT / "checks" / "witnesses.toml").read_text(encoding="utf-8")

    def runs(text: str) -> list[str]:  # the ratio comments and digits are those of this refresh
        return [line for line in text.splitlines() if not line.startswith(("#", "digits ="))]

    assert runs(rebuilt) == runs(committed)
    assert load_suite(tmp_path / "witnesses.toml", builtin_catalogue()).tasks


# ------------------------------------------------------------------ no silent substitution


def test_suite_start_logits_reach_the_inexact_solvers(tmp_path: Path) -> None:
    """The same verdict as the library's check on the started game, and not the one from π_ref."""
    from nashproof.solvers import make_solver
    from nashproof.verify import check_inexact

    body = ('name = "s"\n[[run]]\ngames = ["rps:skew=1/2"]\nbetas = ["1/2"]\nsteps = 8\ndigits = 30\n'
            'solvers = [{ name = "nash-mp-inexact:delta=1e-3,perturb=adversarial", eta = "1" }]\n'
            'claims = ["NMP-APPROX-STEP"]\n')
    cat = builtin_catalogue()
    plain, started = tmp_path / "a.toml", tmp_path / "b.toml"
    plain.write_text(body, encoding="utf-8")
    started.write_text(body + 'start_logits = [["0", "-5", "3"]]\n', encoding="utf-8")
    v_plain = run_task(load_suite(plain, cat).tasks[0], cat)[0]
    task = load_suite(started, cat).tasks[0]
    v_started = run_task(task, cat)[0]
    game = load_game("rps:skew=1/2").with_start(task.start)
    solver = make_solver(task.solver, task.beta, task.eta)
    direct = check_inexact(game, solver, [cat.get("NMP-APPROX-STEP")], 8, 30)[0]  # type: ignore[arg-type]
    assert v_started.tightness == direct.tightness
    assert v_started.tightness != v_plain.tightness


def _float_kl0(game_doc: dict[str, object], beta: float) -> float:
    """Independent float64 KL(π*_β‖π_0): π*_β by Nash-MP's own fixed-point iteration in numpy."""
    P = np.array([[float(F(x)) for x in row] for row in game_doc["preference"]])  # type: ignore[union-attr]
    ref = np.full(len(P), 1 / len(P))
    logits = np.array([float(F(x)) for x in game_doc["start_logits"]])  # type: ignore[union-attr]
    pi0 = np.exp(logits - logits.max())
    pi0 /= pi0.sum()
    pi = ref.copy()
    for _ in range(20000):  # π ∝ π_ref·exp(P π / β), damped
        new = ref * np.exp((P @ pi) / beta)
        new /= new.sum()
        pi = 0.5 * pi + 0.5 * new
    return float(np.sum(pi * np.log(pi / pi0)))


def test_complexity_takes_kl0_from_the_actual_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = {"preference": RPS, "start_logits": ["0", "-5", "0"]}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    kl0 = float(game_kl0(load_game(str(path)), F(1, 10), 30))
    assert abs(kl0 - _float_kl0(doc, 0.1)) < 1e-9
    assert abs(kl0 - float(game_kl0(load_game("rps"), F(1, 10), 30))) > 0.5  # π_ref's KL₀ is another number
    rc, out, err = call(capsys, ["complexity", "--beta", "1/10", "--eps", "1e-6", "--game", str(path)])
    assert rc == 0, err  # every prediction is an upper bound from the true start
    assert "π_0 from the game's start logits" in out


def test_unregularized_eta_max_is_taken_at_the_chosen_beta() -> None:
    res = complexity(None, "1e-2", metric="unregularized", eta="max", actions=10)
    assert res.chosen_beta is not None
    assert res.methods["nash-mp"].iterations is not None
    same = complexity(None, "1e-2", metric="unregularized", eta=parse_eta("max", res.chosen_beta), actions=10)
    assert same.methods["nash-mp"].iterations == res.methods["nash-mp"].iterations
    assert F(res.methods["nash-mp"].step or "0") == parse_eta("max", res.chosen_beta)
    with mpmath.workdps(30):  # η̄(β) = 2(β + √(1+β²)) at the chosen β, not at β = 1
        bar = 2 * (mpmath.mpf(res.chosen_beta.numerator) / res.chosen_beta.denominator
                   + mpmath.sqrt(1 + (mpmath.mpf(res.chosen_beta.numerator) / res.chosen_beta.denominator) ** 2))
        assert abs(mpmath.mpf(F(res.methods["nash-mp"].step or "0").numerator)
                   / F(res.methods["nash-mp"].step or "1").denominator / bar - 1) < 1e-9
