"""Exact preference games: contexts, validation and the JSON file format.

A game has ``n`` actions and one or more contexts. Each context ``x`` has a weight ρ(x), a
preference matrix ``P`` with ``P[i][j] = P(y_i ≻ y_j | x)`` and a reference policy π_ref.
Every number is an exact :class:`fractions.Fraction`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from .errors import InputError
from .files import read_text
from .numbers import (
    MAX_ACTIONS,
    MAX_LOGIT,
    MAX_NUMBER_BITS,
    MAX_NUMBER_DIGITS,
    approx_str,
    fraction_str,
    parse_rational,
    short,
    too_large,
)

HALF = Fraction(1, 2)

Matrix = tuple[tuple[Fraction, ...], ...]
Distribution = tuple[Fraction, ...]


@dataclass(frozen=True)
class Context:
    """One prompt: its weight, its preference matrix and its reference policy."""

    name: str
    weight: Fraction
    preference: Matrix
    reference: Distribution
    #: Exact logits of the starting policy π_0 ∝ exp(start) (None: π_0 = π_ref).
    start: tuple[Fraction, ...] | None = None

    @property
    def n(self) -> int:
        return len(self.reference)

    def starts_at_reference(self) -> bool:
        """Exactly: is π_0 = π_ref? (e^q is irrational for rational q ≠ 0, so logits must be equal.)"""
        return self.start is None or (len(set(self.start)) == 1 and len(set(self.reference)) == 1)

    def skew(self) -> Matrix:
        """The skew-symmetric part A = P − ½𝟙𝟙ᵀ."""
        return tuple(tuple(p - HALF for p in row) for row in self.preference)


@dataclass(frozen=True)
class Game:
    """A validated preference game (construct with :func:`make_game`)."""

    actions: tuple[str, ...]
    contexts: tuple[Context, ...]
    label: str = "game"

    @property
    def n(self) -> int:
        return len(self.actions)

    def min_reference(self) -> Fraction:
        return min(min(c.reference) for c in self.contexts)

    def starts_at_reference(self) -> bool:
        return all(c.starts_at_reference() for c in self.contexts)

    def with_start(self, logits: Sequence[Sequence[Fraction]] | None) -> Game:
        """The same game started from π_0 ∝ exp(logits) per context (None: from π_ref)."""
        if logits is not None and len(logits) != len(self.contexts):
            raise InputError(f"start_logits: expected {len(self.contexts)} contexts, got {len(logits)}")
        starts: list[tuple[Fraction, ...] | None] = (
            [tuple(lg) for lg in logits] if logits is not None else [None] * len(self.contexts))
        ctx = tuple(Context(c.name, c.weight, c.preference, c.reference, st) for c, st in zip(self.contexts, starts))
        return make_game(self.actions, ctx, self.label)

    def with_reference(self, refs: Sequence[Sequence[Fraction]]) -> Game:
        """The same game with other reference policies (validated)."""
        if len(refs) != len(self.contexts):
            raise InputError(f"expected {len(self.contexts)} reference policies, got {len(refs)}")
        ctx = tuple(
            Context(c.name, c.weight, c.preference, tuple(r), c.start) for c, r in zip(self.contexts, refs)
        )
        return make_game(self.actions, ctx, self.label)


def _where(ctx: Context, multi: bool) -> str:
    return f"context {ctx.name!r}: " if multi else ""


def validate_context(ctx: Context, n: int, multi: bool = False) -> None:
    """Raise :class:`InputError` naming the context, row and column of the first defect.

    The n² checks use the integer numerators and denominators directly (a Fraction operation per
    entry would take seconds at n = 1024).
    """
    w = _where(ctx, multi)
    P = ctx.preference
    if len(P) != n:
        raise InputError(f"{w}preference matrix has {len(P)} rows, expected {n} (one per action)")
    for i, row in enumerate(P):
        if len(row) != n:
            raise InputError(f"{w}preference row {i} has {len(row)} entries, expected {n}")
    # Integer comparisons on numerator and denominator (exact, and fast for large n).
    for i in range(n):
        for j, p in enumerate(P[i]):
            if not 0 <= p.numerator <= p.denominator:
                raise InputError(f"{w}preference[{i}][{j}] = {fraction_str(p)} is outside [0, 1]")
            if p.denominator.bit_length() > MAX_NUMBER_BITS:
                raise InputError(f"{w}preference[{i}][{j}] has a denominator of more than {MAX_NUMBER_DIGITS} digits")
    for i in range(n):
        if P[i][i] != HALF:
            raise InputError(f"{w}preference[{i}][{i}] = {fraction_str(P[i][i])}, the diagonal must be 1/2")
    for i in range(n):
        row = P[i]
        for j in range(i + 1, n):
            a, b = row[j], P[j][i]
            if a.numerator * b.denominator + b.numerator * a.denominator != a.denominator * b.denominator:
                raise InputError(
                    f"{w}preference[{i}][{j}] + preference[{j}][{i}] = "
                    f"{fraction_str(a + b)}, must be 1 (P + Pᵀ = 1)"
                )
    ref = ctx.reference
    if len(ref) != n:
        raise InputError(f"{w}reference policy has {len(ref)} entries, expected {n}")
    for i, r in enumerate(ref):
        if r <= 0:
            raise InputError(
                f"{w}reference[{i}] = {fraction_str(r)}; the reference policy needs full support (> 0)"
            )
        if too_large(r):
            raise InputError(f"{w}reference[{i}] has a numerator or denominator of more than "
                             f"{MAX_NUMBER_DIGITS} digits")
    if sum(ref) != 1:
        raise InputError(f"{w}reference policy sums to {fraction_str(sum(ref, Fraction(0)))}, not 1")
    if ctx.start is not None and len(ctx.start) != n:
        raise InputError(f"{w}start_logits has {len(ctx.start)} entries, expected {n}")
    for i, x in enumerate(ctx.start or ()):
        if abs(x) > MAX_LOGIT:
            raise InputError(f"{w}start_logits[{i}] = {approx_str(x)} is outside [-1e12, 1e12] (π_0 ∝ exp(logits): "
                             "a logit difference of 10¹² already gives probabilities of e^(−10¹²))")


def make_game(actions: Sequence[str], contexts: Sequence[Context], label: str = "game") -> Game:
    """Validate and build a game."""
    n = len(actions)
    if n < 1:
        raise InputError("a game needs at least one action")
    if n > MAX_ACTIONS:
        raise InputError(f"a game may have at most {MAX_ACTIONS} actions, this one has {n}")
    if len(set(actions)) != n:
        raise InputError("action names must be distinct")
    if not contexts:
        raise InputError("a game needs at least one context")
    multi = len(contexts) > 1
    names = [c.name for c in contexts]
    if len(set(names)) != len(names):
        raise InputError("context names must be distinct")
    if len(contexts) * n * n > MAX_ACTIONS * MAX_ACTIONS:
        raise InputError(f"{len(contexts)} contexts of {n} actions: more than {MAX_ACTIONS}² preference entries "
                         "in all, the limit")
    for c in contexts:
        if c.weight <= 0 or too_large(c.weight):
            raise InputError(f"context {c.name!r}: weight {fraction_str(c.weight)} must be > 0 "
                             f"(with at most {MAX_NUMBER_DIGITS} digits)")
        validate_context(c, n, multi)
    total = sum((c.weight for c in contexts), Fraction(0))
    if total != 1:
        raise InputError(f"context weights sum to {fraction_str(total)}, not 1")
    return Game(tuple(actions), tuple(contexts), label)


def single(P: Sequence[Sequence[Fraction | int]], ref: Sequence[Fraction | int] | None = None,
           actions: Sequence[str] | None = None, label: str = "game") -> Game:
    """Convenience constructor for a one-context game (uniform π_ref by default)."""
    n = len(P)
    reference = tuple(Fraction(r) for r in ref) if ref is not None else _uniform(n)
    names = tuple(actions) if actions is not None else tuple(f"y{i}" for i in range(n))
    matrix = tuple(tuple(Fraction(p) for p in row) for row in P)
    return make_game(names, [Context("x0", Fraction(1), matrix, reference)], label)


# ---------------------------------------------------------------- JSON format


def _reject_constant(name: str) -> object:
    raise InputError(f"{name} is not allowed in a game file")


def _json_number(text: str) -> Fraction:
    return parse_rational(text, "a number in the game file")


def _num_list(value: object, what: str) -> tuple[Fraction, ...]:
    if not isinstance(value, list):
        raise InputError(f"{what}: expected a list of numbers")
    return tuple(parse_rational(v, f"{what}[{i}]") for i, v in enumerate(value))


def _matrix(value: object, what: str) -> Matrix:
    if not isinstance(value, list) or not value:
        raise InputError(f"{what}: expected a non-empty list of rows")
    if len(value) > MAX_ACTIONS:
        raise InputError(f"{what}: {len(value)} rows; a game may have at most {MAX_ACTIONS} actions")
    return tuple(_num_list(row, f"{what}[{i}]") for i, row in enumerate(value))


def game_from_dict(data: object, label: str = "game") -> Game:
    """Build a game from the parsed JSON object (see the README for the format)."""
    if not isinstance(data, dict):
        raise InputError("a game file must hold a JSON object")
    if isinstance(data.get("instance"), dict) and "game" in data["instance"]:  # `nashproof search --json`
        data = data["instance"]["game"]
        if not isinstance(data, dict):
            raise InputError("instance.game must be a JSON object")
    multi = "contexts" in data
    if multi and "preference" in data:
        raise InputError("give either 'preference' or 'contexts', not both")
    _known_keys(data, _TOP_MULTI if multi else _TOP_SINGLE, "the game file",
                "; with 'contexts', 'reference' and 'start_logits' go inside each context" if multi else "")
    actions_raw = data.get("actions")
    if actions_raw is None:
        first = data.get("preference")
        if first is None and isinstance(data.get("contexts"), list) and data["contexts"]:
            first = data["contexts"][0].get("preference") if isinstance(data["contexts"][0], dict) else None
        size = len(first) if isinstance(first, list) else 0
        actions_raw = [f"y{i}" for i in range(size)]
    if not isinstance(actions_raw, list) or not all(isinstance(a, str) for a in actions_raw):
        raise InputError("'actions' must be a list of strings")
    actions = tuple(actions_raw)
    n = len(actions)
    contexts: list[Context] = []
    if "contexts" in data:
        raw = data["contexts"]
        if not isinstance(raw, list) or not raw:
            raise InputError("'contexts' must be a non-empty list")
        for idx, c in enumerate(raw):
            if not isinstance(c, dict):
                raise InputError(f"contexts[{idx}] must be an object")
            _known_keys(c, _CONTEXT_KEYS, f"contexts[{idx}]")
            name_raw = c.get("name", f"x{idx}")
            if not isinstance(name_raw, str):
                raise InputError(f"contexts[{idx}]: 'name' must be a string")
            name = name_raw
            for key in ("weight", "preference"):
                if key not in c:
                    raise InputError(f"context {name!r}: missing '{key}'")
            weight = parse_rational(c["weight"], f"context {name!r} weight")
            P = _matrix(c["preference"], f"context {name!r} preference")
            ref = (
                _num_list(c["reference"], f"context {name!r} reference")
                if "reference" in c
                else _uniform(n)
            )
            contexts.append(Context(name, weight, P, ref, _start(c, f"context {name!r} start_logits")))
    else:
        if "preference" not in data:
            raise InputError("a game file needs 'preference' (one context) or 'contexts'")
        P = _matrix(data["preference"], "preference")
        ref = _num_list(data["reference"], "reference") if "reference" in data else _uniform(n)
        contexts.append(Context("x0", Fraction(1), P, ref, _start(data, "start_logits")))
    return make_game(actions, contexts, label)


#: The keys a game file may use (anything else, e.g. a misspelt "refrence", is an error, not ignored);
#: "name", "description" and "witness" (written by `search --corpus`) are annotations, not read.
_TOP_SINGLE = frozenset({"actions", "preference", "reference", "start_logits", "name", "description", "witness"})
_TOP_MULTI = frozenset({"actions", "contexts", "name", "description", "witness"})
_CONTEXT_KEYS = frozenset({"name", "weight", "preference", "reference", "start_logits"})


def _known_keys(block: dict[str, object], allowed: frozenset[str], where: str, hint: str = "") -> None:
    unknown = sorted(str(key) for key in block if key not in allowed)
    if unknown:
        raise InputError(f"{where}: unknown key {short(unknown[0])!r} (allowed: {', '.join(sorted(allowed))}){hint}")


def _start(block: dict[str, object], what: str) -> tuple[Fraction, ...] | None:
    """Optional exact starting logits (π_0 ∝ exp(logits)); huge magnitudes such as -1e7 are fine."""
    return _num_list(block["start_logits"], what) if "start_logits" in block else None


def _uniform(n: int) -> tuple[Fraction, ...]:
    return tuple([Fraction(1, n)] * n) if n > 0 else ()


def load_game_file(path: str | Path) -> Game:
    """Read a JSON game file. Numbers are exact: JSON number literals are read as rationals."""
    p = Path(path)
    text = read_text(p, "game file")
    try:
        data = json.loads(text, parse_float=_json_number, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{path}: unreadable number or structure ({exc})") from None
    return game_from_dict(data, label=p.stem)


def game_to_dict(game: Game) -> dict[str, object]:
    """The JSON-ready form of a game, numbers as exact strings."""

    def row(xs: Sequence[Fraction]) -> list[str]:
        return [fraction_str(x) for x in xs]

    return {
        "actions": list(game.actions),
        "contexts": [
            {
                "name": c.name,
                "weight": fraction_str(c.weight),
                "preference": [row(r) for r in c.preference],
                "reference": row(c.reference),
                **({"start_logits": row(c.start)} if c.start is not None else {}),
            }
            for c in game.contexts
        ],
    }
