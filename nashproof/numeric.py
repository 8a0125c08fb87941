"""A game brought into a backend, policies as log-probabilities, and the counted oracle."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from .backends import Backend, Scalar, Vec
from .errors import InputError, SolverError
from .games import Game

#: A policy: one vector of normalised log-probabilities per context.
LogPolicy = list[Vec]
#: How many queried vectors a NumericGame remembers π and Pπ of (two per context and Nash-MP step).
PRODUCTS_KEPT = 4096


@dataclass
class NumericGame:
    """The game's numbers in one backend: P, π_ref, log π_ref and ρ for each context."""

    game: Game
    backend: Backend
    P: list[Vec] = field(init=False)
    ref: list[Vec] = field(init=False)
    logref: list[Vec] = field(init=False)
    weights: list[Scalar] = field(init=False)
    #: π = exp(log π) and Pπ of recently queried vectors (keyed by the vector's id; the vector is kept),
    #: so the metrics of an iterate reuse what the iteration computed. π is not kept (None) where the
    #: backend's exp is cheap (float64: recomputing it costs less than keeping one more vector a step).
    products: OrderedDict[int, tuple[Vec, Vec | None, Vec]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        b = self.backend
        self.products = OrderedDict()
        self.P = [b.matrix(c.preference) for c in self.game.contexts]
        self.ref = [b.vector(c.reference) for c in self.game.contexts]
        self.logref = [_log_reference(b, c.reference, r) for c, r in zip(self.game.contexts, self.ref)]
        self.weights = [b.scalar(c.weight) for c in self.game.contexts]

    @property
    def n(self) -> int:
        return self.game.n

    @property
    def k(self) -> int:
        return len(self.game.contexts)

    def average(self, values: Sequence[Scalar]) -> Scalar:
        """ρ-average of per-context values."""
        total: Scalar = self.backend.scalar(0)
        for w, v in zip(self.weights, values):
            total = total + w * v
        return total

    def field_of(self, c: int, logpi: Vec) -> tuple[Vec, Vec]:
        """π = exp(log π) and Pπ in context c, computed once per vector and remembered."""
        hit = self.products.get(id(logpi))
        if hit is not None and hit[0] is logpi:
            return (hit[1] if hit[1] is not None else self.backend.exp(logpi)), hit[2]
        pi = self.backend.exp(logpi)
        out = self.P[c] @ pi
        self.products[id(logpi)] = (logpi, None if self.backend.cheap_exp else pi, out)
        while len(self.products) > PRODUCTS_KEPT:
            self.products.popitem(last=False)
        return pi, out

    def product(self, c: int, logpi: Vec) -> Vec:
        """Pπ in context c (:meth:`field_of` without π)."""
        hit = self.products.get(id(logpi))
        if hit is not None and hit[0] is logpi:
            return hit[2]
        return self.field_of(c, logpi)[1]

    def forget(self, logpi: LogPolicy) -> None:
        """Drop what :meth:`field_of` remembers of ``logpi`` (a half step: nothing reads its Pπ again)."""
        for lp in logpi:
            hit = self.products.get(id(lp))
            if hit is not None and hit[0] is lp:
                del self.products[id(lp)]

    def probs(self, logpi: LogPolicy) -> list[Vec]:
        return [self.backend.exp(lp) for lp in logpi]

    def policy_from_fractions(self, policy: Sequence[Sequence[Fraction]]) -> LogPolicy:
        """Log-probabilities of an exact policy given per context (full support required)."""
        if len(policy) != self.k:
            raise InputError(f"initial policy: expected {self.k} contexts, got {len(policy)}")
        out = []
        for c, p in enumerate(policy):
            if len(p) != self.n:
                raise InputError(f"initial policy, context {c}: expected {self.n} entries, got {len(p)}")
            if any(x <= 0 for x in p) or sum(p) != 1:
                raise InputError(f"initial policy, context {c}: must be positive and sum to 1")
            out.append(self.backend.log(self.backend.vector(p)))
        return out


def _log_reference(b: Backend, exact: Sequence[Fraction], ref: Vec) -> Vec:
    """log π_ref; an entry that underflows the backend (e.g. 1e-330 in float64) keeps a finite log."""
    out = b.log(ref)
    if b.is_finite(out):
        return out
    fixed = [math.log(x.numerator) - math.log(x.denominator) for x in exact]
    return b.vector([fixed[i] if not math.isfinite(float(v)) else v for i, v in enumerate(out)])


_CACHE: OrderedDict[tuple[int, int], tuple[Game, Backend, NumericGame]] = OrderedDict()


def numeric_game(game: Game, backend: Backend) -> NumericGame:
    """``NumericGame(game, backend)``, built once per (game, backend) and reused (a few are kept).

    Every float backend shares one entry per game: converting a large exact game is the costly
    part of float screening. The cache holds the game and backend, so their ids stay unique.
    """
    key = (id(game), -1 if backend.name == "float" else id(backend))
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is game:
        _CACHE.move_to_end(key)
        return hit[2]
    ng = NumericGame(game, backend)
    _CACHE[key] = (game, backend, ng)
    while len(_CACHE) > 4:
        _CACHE.popitem(last=False)
    return ng


class Oracle:
    """Preference queries: one query returns P(y ≻ σ | x) for every y and x, for one opponent σ."""

    def __init__(self, ng: NumericGame) -> None:
        self.ng = ng
        self.count = 0
        self.samples = 0  # individual duels, for sampled oracles (nashproof.solvers.inexact)

    def query(self, logsigma: LogPolicy) -> list[Vec]:
        self.count += 1
        return [self.ng.product(c, ls) for c, ls in enumerate(logsigma)]


def check_log_policy(ng: NumericGame, logpi: LogPolicy, who: str) -> None:
    """Raise :class:`SolverError` unless ``logpi`` is a distribution per context."""
    b = ng.backend
    if len(logpi) != ng.k:
        raise SolverError(f"{who} returned {len(logpi)} contexts, expected {ng.k}")
    n = ng.n
    for c, lp in enumerate(logpi):
        if getattr(lp, "shape", None) != (n,):
            raise SolverError(f"{who} returned a policy of shape {getattr(lp, 'shape', '?')} in context {c}")
        if not b.is_finite(lp):
            raise SolverError(f"{who} returned a non-finite or zero probability in context {c}")
        total = ng.field_of(c, lp)[0].sum()  # π and Pπ are kept for the next query and the metrics
        if abs(total - 1) > 1000 * b.eps * n:
            raise SolverError(f"{who} returned probabilities summing to {b.to_str(total, 8)} in context {c}")
