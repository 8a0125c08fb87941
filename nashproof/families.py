"""Built-in game families, usable by name wherever a game file is accepted.

A family spec is ``name`` or ``name:key=value,key=value``. List values use ``+`` as a
separator, e.g. ``bradley-terry:scores=1+2+5/2``. Every family accepts ``skew=r`` (π_ref ∝ rⁱ,
a skewed reference) or ``ref=a+b+...`` (an explicit reference policy).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from .errors import InputError
from .games import HALF, Context, Game, Matrix, load_game_file, make_game
from .numbers import (
    MAX_ACTIONS,
    MAX_NUMBER_BITS,
    MAX_NUMBER_DIGITS,
    parse_int,
    parse_rational,
    plural,
    short,
    too_large,
)

Params = dict[str, str]


@dataclass(frozen=True)
class Family:
    name: str
    summary: str
    params: str
    example: str
    build: Callable[[Params], list[Matrix]]


ONE, ZERO = Fraction(1), Fraction(0)


def _int(params: Params, key: str, default: int, low: int = 1, high: int = MAX_ACTIONS) -> int:
    raw = params.get(key)
    if raw is None:
        return default
    what = f"family parameter {key}={short(raw)}" + (f" (at most {MAX_ACTIONS} actions)" if high == MAX_ACTIONS else "")
    return parse_int(raw, what, low, high)


def _cyclic(n: int) -> Matrix:
    """i beats the next ⌊(n−1)/2⌋ actions cyclically; with even n, opposite actions tie."""
    rows = []
    for i in range(n):
        row = []
        for j in range(n):
            d = (j - i) % n
            if d == 0 or 2 * d == n:
                row.append(HALF)
            else:
                row.append(ONE if 2 * d < n else ZERO)
        rows.append(tuple(row))
    return tuple(rows)


def _transitive(n: int) -> Matrix:
    return tuple(
        tuple(HALF if i == j else ONE if i < j else ZERO for j in range(n)) for i in range(n)
    )


def _two_action(params: Params) -> Matrix:
    """[[1/2, p], [1 − p, 1/2]]: every 2-action preference game is one of these."""
    p = parse_rational(params.get("p", "3/4"), "p")
    if not 0 <= p <= 1:
        raise InputError(f"family parameter p={short(params['p'])} must lie in [0, 1]")
    return ((HALF, p), (1 - p, HALF))


def _bradley_terry(scores: list[Fraction]) -> Matrix:
    return tuple(tuple(si / (si + sj) for sj in scores) for si in scores)


def _random(n: int, seed: int, denominator: int) -> Matrix:
    rng = random.Random(seed)
    P = [[HALF] * n for _ in range(n)]
    # randrange(d + 1) draws exactly what randint(0, d) draws; each value's Fraction is built once.
    if denominator <= 4096:
        values = [Fraction(k, denominator) for k in range(denominator + 1)]
        complements = [1 - v for v in values]
    for i in range(n):
        row = P[i]
        for j in range(i + 1, n):
            k = rng.randrange(denominator + 1)
            if denominator <= 4096:
                row[j], P[j][i] = values[k], complements[k]
            else:
                p = Fraction(k, denominator)
                row[j], P[j][i] = p, 1 - p
    return tuple(tuple(r) for r in P)


def _ties(n: int) -> Matrix:
    return tuple(tuple([HALF] * n) for _ in range(n))


def _disjoint_cycles(m: int, k: int, dominant: bool) -> Matrix:
    n = m * k
    base = _cyclic(m)
    P = [[HALF] * n for _ in range(n)]
    for a in range(k):
        for i in range(m):
            for j in range(m):
                P[a * m + i][a * m + j] = base[i][j]
    if dominant:
        for i in range(m):
            for j in range(m, n):
                P[i][j], P[j][i] = ONE, ZERO
    return tuple(tuple(r) for r in P)


def _cycles(params: Params) -> tuple[int, int, bool]:
    m, k = _int(params, "m", 3, 1), _int(params, "k", 2, 1)
    if m * k > MAX_ACTIONS:
        raise InputError(f"disjoint-cycles: m·k = {m * k} actions, more than the limit {MAX_ACTIONS}")
    return m, k, _int(params, "dominant", 0, 0, 1) == 1


def _scores(params: Params) -> list[Fraction]:
    if "scores" in params:
        items = params["scores"].split("+")
        if len(items) > MAX_ACTIONS:
            raise InputError(f"bradley-terry: {len(items)} scores, more than the limit of {MAX_ACTIONS} actions")
        scores = [parse_rational(s, "bradley-terry score") for s in items]
    else:
        scores = [Fraction(i + 1) for i in range(_int(params, "n", 4))]
    if any(s <= 0 for s in scores):
        raise InputError("bradley-terry scores must be > 0")
    if any(too_large(s) for s in scores):
        raise InputError(f"bradley-terry scores may have at most {MAX_NUMBER_DIGITS} digits")
    return scores


def _contextual(params: Params) -> list[Matrix]:
    n = _int(params, "n", 4, 2, 512)
    k = _int(params, "contexts", 3, 1, 64)
    if k * n * n > MAX_ACTIONS**2:
        raise InputError(f"contextual: contexts·n² = {k * n * n} preference entries, more than the limit "
                         f"{MAX_ACTIONS}²")
    seed = _int(params, "seed", 0, 0, 2**31)
    makers: list[Callable[[int], Matrix]] = [
        _cyclic, _transitive, lambda m: _random(m, seed + m, 8), lambda m: _bradley_terry(
            [Fraction(i + 1) for i in range(m)])
    ]
    return [makers[c % len(makers)](n) for c in range(k)]


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in [
        Family("rps", "rock-paper-scissors (3-action cyclic tournament)", "", "rps:skew=1/2",
               lambda p: [_cyclic(3)]),
        Family("cyclic", "n-action cyclic 0/1 tournament (even n: opposite actions tie)", "n=5",
               "cyclic:n=7,skew=1/3", lambda p: [_cyclic(_int(p, "n", 5, 2))]),
        Family("transitive", "transitive 0/1 game: action i beats every j > i", "n=4",
               "transitive:n=6", lambda p: [_transitive(_int(p, "n", 4, 1))]),
        Family("bradley-terry", "Bradley–Terry game P_ij = s_i/(s_i+s_j)", "n=4 or scores=a+b+...",
               "bradley-terry:scores=1+2+5/2", lambda p: [_bradley_terry(_scores(p))]),
        Family("random", "seeded random game, upper triangle k/denominator", "n=5,seed=0,denominator=8",
               "random:n=8,seed=3", lambda p: [_random(_int(p, "n", 5, 1),
                                                      _int(p, "seed", 0, 0, 2**31),
                                                      _int(p, "denominator", 8, 1, 10**6))]),
        Family("ties", "every pair tied (all entries 1/2)", "n=3", "ties:n=4,skew=1/2",
               lambda p: [_ties(_int(p, "n", 3, 1))]),
        Family("disjoint-cycles", "k disjoint m-cycles; dominant=1 makes the first cycle beat the rest",
               "m=3,k=2,dominant=0", "disjoint-cycles:m=3,k=3,dominant=1",
               lambda p: [_disjoint_cycles(*_cycles(p))]),
        Family("two-action", "every 2-action game: P = [[1/2, p], [1−p, 1/2]]; r=a sets π_ref = (a, 1−a)",
               "p=3/4,r=1/2", "two-action:p=9/10,r=1/3", lambda p: [_two_action(p)]),
        Family("contextual", "several contexts (cyclic, transitive, random, Bradley–Terry) with weights",
               "n=4,contexts=3,seed=0", "contextual:n=5,contexts=4,skew=1/2", _contextual),
    ]
}

_COMMON = {"skew", "ref", "weights"}
_ALLOWED = {
    "rps": set(), "cyclic": {"n"}, "transitive": {"n"}, "bradley-terry": {"n", "scores"},
    "random": {"n", "seed", "denominator"}, "ties": {"n"}, "disjoint-cycles": {"m", "k", "dominant"},
    "contextual": {"n", "contexts", "seed"}, "two-action": {"p", "r"},
}


def parse_spec(spec: str) -> tuple[str, Params]:
    name, _, rest = spec.partition(":")
    params: Params = {}
    if rest:
        for item in rest.split(","):
            key, eq, value = item.partition("=")
            if not eq or not key.strip():
                raise InputError(f"family parameter {item!r} must look like key=value")
            params[key.strip()] = value.strip()
    return name.strip(), params


def _reference(params: Params, n: int, index: int) -> tuple[Fraction, ...]:
    if "r" in params:
        if "ref" in params or "skew" in params:
            raise InputError("give the reference once: r=a, ref=... or skew=...")
        r = parse_rational(params["r"], "r")
        if not 0 < r < 1:
            raise InputError(f"family parameter r={short(params['r'])} must lie strictly between 0 and 1")
        return (r, 1 - r)
    if "ref" in params:
        ref = tuple(parse_rational(s, "ref") for s in params["ref"].split("+"))
        if len(ref) != n:
            raise InputError(f"ref has {plural(len(ref), 'entry')}, the game has {plural(n, 'action')}")
        return ref
    skew = parse_rational(params.get("skew", "1"), "skew")
    if skew <= 0:
        raise InputError("skew must be > 0")
    size = max(skew.numerator.bit_length(), skew.denominator.bit_length()) * (n - 1)
    if size > MAX_NUMBER_BITS:
        raise InputError(f"skew={short(params['skew'])} with {n} actions makes π_ref entries of about "
                         f"{int(size * 0.30103)} digits; the limit is {MAX_NUMBER_DIGITS} (use a simpler skew "
                         "or ref=a+b+...)")
    # Contexts of a contextual game get differently rotated skews.
    raw = [skew ** ((i + index) % n) for i in range(n)]
    total = sum(raw, Fraction(0))
    return tuple(r / total for r in raw)


def build_family(spec: str) -> Game:
    """Build a game from a family spec such as ``cyclic:n=5,skew=1/3``."""
    name, params = parse_spec(spec)
    family = FAMILIES.get(name)
    if family is None:
        raise InputError(f"unknown game family {name!r}; `nashproof games` lists them")
    unknown = set(params) - _ALLOWED[name] - _COMMON
    if unknown:
        raise InputError(f"family {name!r} has no parameter {sorted(unknown)[0]!r}")
    matrices = family.build(params)
    n = len(matrices[0])
    k = len(matrices)
    if "weights" in params:
        weights = [parse_rational(w, "weights") for w in params["weights"].split("+")]
        if len(weights) != k:
            raise InputError(f"weights has {plural(len(weights), 'entry')}, the game has {plural(k, 'context')}")
    else:
        raw = [Fraction(c + 1) for c in range(k)]
        weights = [w / sum(raw) for w in raw]
    contexts = [
        Context(f"x{c}", weights[c], matrices[c], _reference(params, n, c if k > 1 else 0))
        for c in range(k)
    ]
    return make_game([f"y{i}" for i in range(n)], contexts, label=spec)


def _exists(spec: str) -> bool:
    try:
        return Path(spec).exists()
    except (OSError, ValueError):  # a name too long for the file system, or with a NUL byte
        return False


def load_game(spec: str) -> Game:
    """A game from a file path (JSON) or a family spec."""
    if len(spec) > 4096 or "\x00" in spec:
        raise InputError(f"game {spec[:40]!r}…: a spec or path of {len(spec)} characters is not a game")
    name = parse_spec(spec)[0]
    exists = _exists(spec)
    if name in FAMILIES and not exists:
        return build_family(spec)
    if Path(spec).suffix.lower() == ".json" or exists or "/" in spec:
        return load_game_file(spec)
    raise InputError(f"{spec!r} is neither a game file nor a known family; `nashproof games` lists them")
