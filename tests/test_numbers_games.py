"""Exact number parsing, game validation, the JSON game format and the built-in families."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings
from strategies import games

from nashproof.errors import InputError
from nashproof.families import FAMILIES, build_family, load_game, parse_spec
from nashproof.games import (
    Context,
    Game,
    game_from_dict,
    game_to_dict,
    load_game_file,
    make_game,
    single,
)
from nashproof.numbers import fraction_str, parse_positive, parse_rational

F = Fraction
H = F(1, 2)

# ------------------------------------------------------------------ numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1/3", F(1, 3)),
        ("0.25", F(1, 4)),
        ("1e-6", F(1, 10**6)),
        ("1E-6", F(1, 10**6)),
        ("2.5e2", F(250)),
        ("0.1", F(1, 10)),  # exactly 1/10, not the binary float 0.1
        ("3", F(3)),
        ("-2/4", F(-1, 2)),
        ("+7", F(7)),
        (" 1 / 3 ", F(1, 3)),
        (".5", F(1, 2)),
        ("0", F(0)),
        (7, F(7)),
        (-3, F(-3)),
        (10**40 + 1, F(10**40 + 1)),
        (F(2, 7), F(2, 7)),
    ],
)
def test_parse_rational_exact(text: object, expected: Fraction) -> None:
    value = parse_rational(text)
    assert isinstance(value, Fraction)
    assert value == expected
    # The value is exact: it differs from what a float detour would have produced when that is inexact.
    if text == "0.1":
        assert value != F(0.1)


@pytest.mark.parametrize(
    "bad",
    [
        0.5,
        0.25,  # exactly representable, still refused: floats are never accepted
        float("nan"),
        float("inf"),
        "nan",
        "NaN",
        "inf",
        "-Infinity",
        "1/0",
        "-3/0",
        "__import__('os')",
        "__import__('os').system('true')",
        "1+1",
        "2**3",
        "1/3/4",
        "3/-1",
        "0x10",
        "1_000",
        "one",
        "",
        "  ",
        "1/",
        "/2",
        "1e",
        "e5",
        True,
        False,
        None,
        [1],
        {"a": 1},
        1j,
    ],
)
def test_parse_rational_rejects(bad: object) -> None:
    with pytest.raises(InputError) as info:
        parse_rational(bad, "the field")
    assert "the field" in str(info.value)


def test_parse_rational_never_evaluates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "pwned"
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError):
        parse_rational(f"__import__('pathlib').Path({str(marker)!r}).touch()")
    assert not marker.exists()


def test_parse_rational_division_by_zero_message() -> None:
    with pytest.raises(InputError, match="division by zero"):
        parse_rational("1/0", "x")


def test_parse_rational_huge_literal_is_input_error() -> None:
    """A number with more digits than Python's int-string limit must still be a clean InputError."""
    with pytest.raises(InputError):
        parse_rational("1" * 5000, "entry")
    with pytest.raises(InputError):
        parse_rational("1/" + "3" * 5000, "entry")


@pytest.mark.parametrize("bad", ["0", "-1/2", "0.0", "-1e-9"])
def test_parse_positive_rejects(bad: str) -> None:
    with pytest.raises(InputError, match="> 0"):
        parse_positive(bad, "--beta")


def test_parse_positive_accepts() -> None:
    assert parse_positive("1e-9", "--beta") == F(1, 10**9)


@settings(max_examples=200, deadline=None)
@given(st.fractions())
def test_fraction_str_round_trip(x: Fraction) -> None:
    s = fraction_str(x)
    assert parse_rational(s) == x
    if x.denominator == 1:
        assert "/" not in s


# ------------------------------------------------------------------ game validation


def rps_matrix() -> list[list[Fraction]]:
    return [[H, F(1), F(0)], [F(0), H, F(1)], [F(1), F(0), H]]


ONE = F(1)


def ctx(P: list[list[Fraction]], ref: list[Fraction] | None = None, name: str = "x0",
        weight: Fraction = ONE) -> Context:
    n = len(P)
    r = tuple(ref) if ref is not None else tuple([F(1, n)] * n)
    return Context(name, weight, tuple(tuple(row) for row in P), r)


ACTIONS = ("a", "b", "c")


def test_valid_game_builds() -> None:
    g = make_game(ACTIONS, [ctx(rps_matrix(), [F(1, 2), F(1, 3), F(1, 6)])])
    assert g.n == 3
    assert g.min_reference() == F(1, 6)
    skew = g.contexts[0].skew()
    assert all(skew[i][j] == -skew[j][i] for i in range(3) for j in range(3))


def _defect(P_edit: dict[tuple[int, int], Fraction] | None = None, ref: list[Fraction] | None = None,
            drop: tuple[int, int] | None = None, rows: int | None = None) -> list[list[Fraction]]:
    P = rps_matrix()
    for (i, j), v in (P_edit or {}).items():
        P[i][j] = v
    if drop is not None:
        del P[drop[0]][drop[1]]
    if rows is not None:
        P = P[:rows]
    return P


@pytest.mark.parametrize(
    ("P", "ref", "fragments"),
    [
        # not antisymmetric: P[0][1] + P[1][0] = 2/3
        (_defect({(0, 1): F(1, 3), (1, 0): F(1, 3)}), None, ["preference[0][1]", "preference[1][0]", "2/3"]),
        # outside [0, 1] (antisymmetric, so only the range is wrong)
        (_defect({(1, 2): F(3, 2), (2, 1): F(-1, 2)}), None, ["preference[1][2]", "3/2", "[0, 1]"]),
        (_defect({(2, 0): F(-1, 4), (0, 2): F(5, 4)}), None, ["preference[0][2]", "5/4"]),
        # bad diagonal
        (_defect({(1, 1): F(1)}), None, ["preference[1][1]", "1/2"]),
        (_defect({(2, 2): F(0)}), None, ["preference[2][2]"]),
        # ragged rows
        (_defect(drop=(1, 2)), None, ["row 1", "2 entries", "expected 3"]),
        # too few rows
        (_defect(rows=2), None, ["2 rows", "expected 3"]),
        # π_ref defects
        (rps_matrix(), [F(1, 2), F(1, 2), F(0)], ["reference[2]", "full support"]),
        (rps_matrix(), [F(1, 2), F(-1, 4), F(3, 4)], ["reference[1]"]),
        (rps_matrix(), [F(1, 2), F(1, 2), F(1, 2)], ["sums to 3/2"]),
        (rps_matrix(), [F(1, 2), F(1, 2)], ["2 entries", "expected 3"]),
    ],
)
def test_validation_names_the_defect(P: list[list[Fraction]], ref: list[Fraction] | None,
                                     fragments: list[str]) -> None:
    with pytest.raises(InputError) as info:
        make_game(ACTIONS, [ctx(P, ref)])
    msg = str(info.value)
    for frag in fragments:
        assert frag in msg, (frag, msg)
    # The single-context messages do not mention a context; the multi-context ones do.
    good = ctx(rps_matrix(), name="good", weight=F(1, 2))
    bad = Context("broken", F(1, 2), ctx(P, ref).preference, ctx(P, ref).reference)
    with pytest.raises(InputError) as info2:
        make_game(ACTIONS, [good, bad])
    assert "'broken'" in str(info2.value)
    for frag in fragments:
        assert frag in str(info2.value)


@pytest.mark.parametrize(
    ("actions", "contexts", "fragment"),
    [
        ((), [], "at least one action"),
        (("a", "a", "c"), [ctx(rps_matrix())], "distinct"),
        (ACTIONS, [], "at least one context"),
        (ACTIONS, [ctx(rps_matrix(), name="x", weight=H), ctx(rps_matrix(), name="x", weight=H)], "distinct"),
        (ACTIONS, [ctx(rps_matrix(), name="p", weight=F(0)), ctx(rps_matrix(), name="q", weight=F(1))],
         "'p'"),
        (ACTIONS, [ctx(rps_matrix(), name="p", weight=F(-1, 2)), ctx(rps_matrix(), name="q", weight=F(3, 2))],
         "'p'"),
        (ACTIONS, [ctx(rps_matrix(), name="p", weight=H), ctx(rps_matrix(), name="q", weight=F(1, 3))],
         "sum to 5/6"),
        (("a", "b"), [ctx(rps_matrix())], "expected 2"),
    ],
)
def test_game_level_defects(actions: tuple[str, ...], contexts: list[Context], fragment: str) -> None:
    with pytest.raises(InputError) as info:
        make_game(actions, contexts)
    assert fragment in str(info.value)


def test_with_reference_is_validated() -> None:
    g = single(rps_matrix())
    g2 = g.with_reference([[F(1, 2), F(1, 4), F(1, 4)]])
    assert g2.contexts[0].reference == (F(1, 2), F(1, 4), F(1, 4))
    with pytest.raises(InputError):
        g.with_reference([[F(1, 2), F(1, 2), F(0)]])
    with pytest.raises(InputError):
        g.with_reference([])


# ------------------------------------------------------------------ JSON


def write(tmp_path: Path, text: str, name: str = "game.json") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_json_single_format_exact(tmp_path: Path) -> None:
    data = {
        "actions": ["r", "p", "s"],
        "preference": [["1/2", "0", "1"], ["1", "1/2", "0"], ["0", "1", "1/2"]],
        "reference": ["1/2", "1/3", "1/6"],
    }
    g = load_game_file(write(tmp_path, json.dumps(data), "rps.json"))
    assert g.actions == ("r", "p", "s")
    assert g.label == "rps"
    assert len(g.contexts) == 1
    c = g.contexts[0]
    assert c.weight == 1
    assert c.reference == (F(1, 2), F(1, 3), F(1, 6))
    assert c.preference[0] == (H, F(0), F(1))


def test_json_number_literals_are_exact(tmp_path: Path) -> None:
    # 0.3 + 0.6 + 0.1 is not 1 in binary floating point, but it is exactly 1 in rationals.
    assert 0.3 + 0.6 + 0.1 != 1.0
    text = """{
      "preference": [[0.5, 0.1, 1e-1], [0.9, 0.5, 0.3], [9e-1, 0.7, 0.5]],
      "reference": [0.3, 0.6, 0.1]
    }"""
    g = load_game_file(write(tmp_path, text))
    c = g.contexts[0]
    assert c.reference == (F(3, 10), F(6, 10), F(1, 10))
    assert c.preference[0] == (H, F(1, 10), F(1, 10))
    assert c.preference[1][2] == F(3, 10)
    assert all(isinstance(p, Fraction) for row in c.preference for p in row)
    assert g.actions == ("y0", "y1", "y2")


def test_json_contextual_format(tmp_path: Path) -> None:
    data = {
        "actions": ["a", "b"],
        "contexts": [
            {"name": "second", "weight": "2/3", "preference": [["1/2", "1/4"], ["3/4", "1/2"]],
             "reference": ["1/5", "4/5"]},
            {"name": "first", "weight": "1/3", "preference": [["1/2", 1], [0, "1/2"]]},
        ],
    }
    g = load_game_file(write(tmp_path, json.dumps(data)))
    assert [c.name for c in g.contexts] == ["second", "first"]  # file order kept
    assert [c.weight for c in g.contexts] == [F(2, 3), F(1, 3)]
    assert g.contexts[0].reference == (F(1, 5), F(4, 5))
    assert g.contexts[1].reference == (H, H)  # default: uniform
    assert g.contexts[0].preference[0][1] == F(1, 4)


@pytest.mark.parametrize("const", ["NaN", "Infinity", "-Infinity"])
def test_json_nonfinite_constants_rejected(tmp_path: Path, const: str) -> None:
    text = f'{{"preference": [[0.5, {const}], [0.5, 0.5]]}}'
    with pytest.raises(InputError, match="not allowed"):
        load_game_file(write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"preference": [[0.5, 1], [0, 0.5]', "invalid JSON"),
        ("", "invalid JSON"),
        ("{'preference': []}", "invalid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"reference": ["1"]}', "preference"),
        ('{"preference": [], "reference": []}', "non-empty"),
        ('{"preference": [["1/2"]], "contexts": []}', "not both"),
        ('{"contexts": []}', "non-empty"),
        ('{"contexts": [5]}', "contexts[0]"),
        ('{"contexts": [{"name": "q", "preference": [["1/2"]]}]}', "'q'"),
        ('{"contexts": [{"name": "q", "weight": 1}]}', "'q'"),
        ('{"preference": [["1/2", "1/0"], ["1/2", "1/2"]]}', "division by zero"),
        ('{"preference": [["1/2", "__import__(\'os\')"], ["1/2", "1/2"]]}', "not a number"),
        ('{"preference": [["1/2", true], [false, "1/2"]]}', "boolean"),
        ('{"preference": [["1/2", null], [null, "1/2"]]}', "preference[0][1]"),
        ('{"preference": [["1/2", 0], [1, "1/2"]], "actions": "ab"}', "actions"),
        ('{"preference": [["1/2", 0], [1, "1/2"]], "actions": ["a", "b", "c"]}', "expected 3"),
        ('{"preference": [["1/2", 0], 7]}', "preference[1]"),
    ],
)
def test_json_malformed(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        load_game_file(write(tmp_path, text))
    assert fragment in str(info.value), str(info.value)


def test_json_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_game_file(tmp_path / "nope.json")


def test_json_not_utf8(tmp_path: Path) -> None:
    p = tmp_path / "bin.json"
    p.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError):
        load_game_file(p)


def test_json_empty_action_list_is_input_error() -> None:
    """`"actions": []` with a default reference must be refused cleanly, not crash."""
    with pytest.raises(InputError):
        game_from_dict({"actions": [], "preference": [["1/2"]]})


def test_json_huge_integer_literal_is_input_error(tmp_path: Path) -> None:
    """A JSON integer beyond Python's int-string limit must be an InputError, not a ValueError."""
    text = '{"preference": [["1/2", 0], [1, "1/2"]], "reference": [' + "1" * 5000 + ", 1]}"
    with pytest.raises(InputError):
        load_game_file(write(tmp_path, text))


@settings(max_examples=40, deadline=None)
@given(games(max_contexts=3))
def test_json_round_trip(g: Game) -> None:
    again = game_from_dict(json.loads(json.dumps(game_to_dict(g))), label=g.label)
    assert again == g


# ------------------------------------------------------------------ families


def assert_valid_preference(g: Game) -> None:
    """Independent re-check of P + Pᵀ = 1, diag ½, entries in [0,1], π_ref a full-support distribution."""
    assert sum(c.weight for c in g.contexts) == 1
    for c in g.contexts:
        P = c.preference
        n = len(P)
        assert n == g.n
        for i in range(n):
            assert P[i][i] == H
            for j in range(n):
                assert P[i][j] + P[j][i] == 1
                assert 0 <= P[i][j] <= 1
        assert sum(c.reference) == 1
        assert all(r > 0 for r in c.reference)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_family_default_and_example(name: str) -> None:
    for spec in (name, FAMILIES[name].example):
        g = build_family(spec)
        assert_valid_preference(g)
        assert g.label == spec
        assert load_game(spec) == g


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_family_skew_and_ref(name: str) -> None:
    g = build_family(f"{name}:skew=1/3")
    assert_valid_preference(g)
    n = g.n
    ref = g.contexts[0].reference
    # π_ref ∝ (1/3)^i in the first context.
    for i in range(n - 1):
        assert ref[i + 1] == ref[i] / 3
    explicit = "+".join(["1/2"] + [f"1/{2 * (n - 1)}"] * (n - 1)) if n > 1 else "1"
    g2 = build_family(f"{name}:ref={explicit}")
    assert_valid_preference(g2)
    for c in g2.contexts:
        assert c.reference[0] == (H if n > 1 else 1)


def test_family_contents() -> None:
    rps = build_family("rps").contexts[0].preference
    assert rps[0][1] == 1 and rps[1][2] == 1 and rps[2][0] == 1 and rps[0][2] == 0
    cyc = build_family("cyclic:n=4").contexts[0].preference
    assert cyc[0][2] == H and cyc[0][1] == 1 and cyc[0][3] == 0
    tr = build_family("transitive:n=4").contexts[0].preference
    assert all(tr[i][j] == 1 for i in range(4) for j in range(i + 1, 4))
    bt = build_family("bradley-terry:scores=1+2+5/2").contexts[0].preference
    assert bt[0][1] == F(1, 3) and bt[1][2] == F(2, F(9, 2)) and bt[2][0] == F(5, 7)
    assert build_family("bradley-terry:n=3").contexts[0].preference[0][2] == F(1, 4)
    ties = build_family("ties:n=4").contexts[0].preference
    assert all(p == H for row in ties for p in row)
    dc = build_family("disjoint-cycles:m=3,k=2,dominant=1").contexts[0].preference
    assert all(dc[i][j] == 1 for i in range(3) for j in range(3, 6))
    dc0 = build_family("disjoint-cycles:m=3,k=2").contexts[0].preference
    assert all(dc0[i][j] == H for i in range(3) for j in range(3, 6))
    assert dc0[3][4] == 1 and dc0[4][5] == 1


def test_random_family_seeded() -> None:
    a = build_family("random:n=6,seed=3,denominator=5")
    b = build_family("random:n=6,seed=3,denominator=5")
    c = build_family("random:n=6,seed=4,denominator=5")
    assert a == b
    assert a.contexts[0].preference != c.contexts[0].preference
    P = a.contexts[0].preference
    assert all((P[i][j] * 5).denominator == 1 for i in range(6) for j in range(6) if i != j)


def test_contextual_family_weights_and_rotated_skew() -> None:
    g = build_family("contextual:n=4,contexts=3,skew=1/2")
    assert len(g.contexts) == 3
    assert [c.weight for c in g.contexts] == [F(1, 6), F(2, 6), F(3, 6)]
    # Context c gets π_ref ∝ (1/2)^((i + c) mod n): a rotation of the first context's reference.
    r0 = g.contexts[0].reference
    r1 = g.contexts[1].reference
    assert r1 == r0[1:] + r0[:1]
    g2 = build_family("contextual:n=3,contexts=2,weights=1/4+3/4")
    assert [c.weight for c in g2.contexts] == [F(1, 4), F(3, 4)]


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("nosuch", "unknown game family"),
        ("cyclic:m=3", "'m'"),
        ("rps:n=3", "'n'"),
        ("cyclic:n=abc", "integer"),
        ("cyclic:n=1", "[2,"),
        ("random:n=0", "n=0"),
        ("random:seed=-1", "seed"),
        ("cyclic:n", "key=value"),
        ("cyclic:=3", "key=value"),
        ("rps:skew=0", "skew"),
        ("rps:skew=-1/2", "skew"),
        ("rps:skew=abc", "skew"),
        ("rps:ref=1/2+1/2", "2 entries"),
        ("rps:ref=1/2+1/4+1/2", "sums to"),
        ("rps:ref=1/2+1/2+0", "full support"),
        ("bradley-terry:scores=1+0+2", "> 0"),
        ("bradley-terry:scores=1+x", "not a number"),
        ("contextual:contexts=3,weights=1/2+1/2", "2 entries"),
        ("contextual:contexts=3,weights=1/2+1/2+1/2", "sum to 3/2"),
        ("contextual:contexts=2,weights=1+0", "must be > 0"),
    ],
)
def test_family_errors(spec: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        build_family(spec)
    assert fragment in str(info.value), str(info.value)


def test_parse_spec() -> None:
    assert parse_spec("cyclic: n = 5 , skew=1/3") == ("cyclic", {"n": "5", "skew": "1/3"})
    assert parse_spec("rps") == ("rps", {})


def test_load_game_dispatch(tmp_path: Path) -> None:
    p = write(tmp_path, json.dumps({"preference": [["1/2", "1/3"], ["2/3", "1/2"]]}), "two.json")
    g = load_game(str(p))
    assert g.contexts[0].preference[0][1] == F(1, 3)
    with pytest.raises(InputError, match="not found"):
        load_game(str(tmp_path / "missing.json"))
    with pytest.raises(InputError):
        load_game("definitely-not-a-family")
