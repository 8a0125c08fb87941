"""Every parser of user text, fed random bytes, text and numbers (issue 23): it returns a value or raises
:class:`InputError` (one ``error:`` line, exit 2 on the command line), nothing else, never a traceback.

Where a parser accepts, the value is cross-checked against an independent reading (Python's own
``int``/``Fraction`` on the same literal).
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from nashproof.claims import builtin_catalogue
from nashproof.cli import main
from nashproof.errors import InputError
from nashproof.families import load_game
from nashproof.games import game_from_dict, load_game_file
from nashproof.numbers import parse_int, parse_rational
from nashproof.query_complexity import log_grid
from nashproof.solvers import make_solver
from nashproof.suite import load_suite, parse_eta

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text that looks like numbers and specs: digits of other scripts, superscripts, signs, exponents, separators.
ALPHABET = "0123456789+-./eE_ ,:=²³٣१xabcnmT*" + "\x00\n\t\u00a0\u2212"
NUMBERISH = st.one_of(
    st.text(alphabet=ALPHABET, max_size=40),
    st.integers(-(10**30), 10**30).map(str),
    st.fractions(max_denominator=10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=30),
)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(ALPHABET, max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["actions", "preference", "reference", "start_logits", "contexts", "weight", "name",
                         "refrence", "witness", "instance", "game", "x"]), children, max_size=4),
    max_leaves=20,
)

_INT = re.compile(r"^\s*[+-]?[0-9]+\s*$")


@FAST
@given(NUMBERISH)
def test_parse_int_accepts_exactly_ascii_integers(text: str) -> None:
    try:
        value = parse_int(text, "n", -(10**40), 10**40)
    except InputError:
        assert not _INT.match(text) or abs(int(text)) > 10**40 or len(text.strip()) > 100
        return
    assert _INT.match(text) and value == int(text.strip())


@FAST
@given(st.one_of(NUMBERISH, st.integers(), st.booleans(), st.none(), st.floats(), st.lists(st.integers())))
def test_parse_rational_returns_the_exact_value_or_refuses(value: object) -> None:
    try:
        x = parse_rational(value, "x")
    except InputError:
        return
    assert isinstance(x, Fraction)
    if isinstance(value, str) and "/" not in value:
        assert x == Fraction(value.strip())  # Python's own exact reading of the same decimal literal


@FAST
@given(NUMBERISH, st.sampled_from(["cyclic", "rps", "random", "bradley-terry", "transitive", "ties",
                                   "disjoint-cycles", "contextual", "nope"]),
       st.sampled_from(["n", "skew", "ref", "seed", "scores", "m", "k", "weights", "denominator", "contexts"]))
def test_family_specs_build_or_refuse(value: str, family: str, key: str) -> None:
    try:
        game = load_game(f"{family}:{key}={value}")
    except InputError:
        return
    assert game.n >= 1


@FAST
@given(NUMBERISH, st.sampled_from(["nash-mp-inexact", "nash-mp-sampled", "nash-md-sampled", "nash-mp-pg",
                                   "nash-mp-pg-sampled", "nash-mp", "bogus"]),
       st.sampled_from(["delta", "m", "seed", "T", "lam", "perturb", "metric"]))
def test_solver_specs_build_or_refuse(value: str, solver: str, key: str) -> None:
    try:
        make_solver(f"{solver}:{key}={value}", Fraction(1, 2))
    except InputError:
        pass


@FAST
@given(NUMBERISH)
def test_steps_and_grids_parse_or_refuse(text: str) -> None:
    for parse in (lambda: parse_eta(text, Fraction(1, 3)), lambda: log_grid(text, "--eps"),
                  lambda: log_grid(f"1e-3:1:{text}", "--beta")):
        try:
            parse()
        except InputError:
            pass


@FAST
@given(JSONISH)
def test_game_objects_load_or_refuse(doc: object) -> None:
    try:
        game = game_from_dict(doc)
    except InputError:
        return
    assert all(sum(c.reference) == 1 for c in game.contexts)


@FAST
@given(st.binary(max_size=300))
def test_game_and_suite_files_of_random_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    folder = tmp_path_factory.mktemp("bytes")
    game, suite = folder / "g.json", folder / "s.toml"
    game.write_bytes(data)
    suite.write_bytes(data)
    for load in (lambda: load_game_file(game), lambda: load_suite(suite, builtin_catalogue())):
        try:
            load()
        except InputError:
            pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from([["run", "{g}", "--solver", "nash-mp", "--beta", "{x}", "--steps", "1", "--digits", "10"],
                        ["run", "{g}", "--solver", "nash-mp", "--beta", "1", "--steps", "{x}", "--digits", "10"],
                        ["equilibrium", "{g}", "--beta", "{x}", "--digits", "10"],
                        ["complexity", "--beta", "{x}", "--eps", "1e-3"],
                        ["complexity", "--beta", "1", "--eps", "{x}"],
                        ["check", "--game", "{g}", "--solver", "nash-mp", "--beta", "1", "--eta", "{x}",
                         "--steps", "1", "--digits", "10", "--claim", "NMP-KL-STEP"]]),
       NUMBERISH, JSONISH, st.booleans())
def test_the_command_line_answers_with_a_documented_exit_code(
        capsys: pytest.CaptureFixture[str], tmp_path_factory: pytest.TempPathFactory, argv: list[str], x: str,
        doc: object, from_file: bool) -> None:
    game = Path(tmp_path_factory.mktemp("cli")) / "g.json"
    game.write_text(json.dumps(doc), encoding="utf-8")
    args = [a.replace("{x}", x).replace("{g}", str(game) if from_file else "rps") for a in argv]
    try:
        rc = main(args)
    except BaseException as exc:  # a traceback for the user
        pytest.fail(f"{type(exc).__name__} escaped main: {exc}")
    _, err = capsys.readouterr()
    assert rc in (0, 1, 2, 3), (args, err)  # 4 is a solver failure or an internal error: never for user text
    if rc == 2:
        assert err.startswith("error: ") and len(err.splitlines()) == 1 and "internal" not in err, err
