"""Shared strategies and helpers: random exact games for property tests."""

from __future__ import annotations

from fractions import Fraction

import hypothesis.strategies as st

from nashproof.games import Context, Game, make_game


@st.composite
def games(draw: st.DrawFn, min_n: int = 2, max_n: int = 5, max_contexts: int = 2) -> Game:
    """A random valid game with rational entries and a full-support, often skewed, π_ref."""
    n = draw(st.integers(min_n, max_n))
    k = draw(st.integers(1, max_contexts))
    den = draw(st.sampled_from([1, 2, 4, 7, 10]))
    contexts = []
    raw_w = [draw(st.integers(1, 5)) for _ in range(k)]
    for c in range(k):
        P = [[Fraction(1, 2)] * n for _ in range(n)]
        for i in range(n):
            for j in range(i + 1, n):
                p = Fraction(draw(st.integers(0, den)), den)
                P[i][j], P[j][i] = p, 1 - p
        raw = [draw(st.integers(1, 9)) for _ in range(n)]
        ref = tuple(Fraction(r, sum(raw)) for r in raw)
        contexts.append(Context(f"x{c}", Fraction(raw_w[c], sum(raw_w)), tuple(tuple(r) for r in P), ref))
    return make_game([f"a{i}" for i in range(n)], contexts, "hypothesis")
