"""The claim catalogue: theorems as typed, symbolic (sympy) objects with hypotheses and provenance.

A claim speaks of one metric along a solver's trajectory. Its statement is a sympy relation over
the symbols of :mod:`nashproof.claims.model` (re-exported here); the checker substitutes each
iterate's values. The catalogue is open: a user module may define ``CLAIMS`` (a list of
:class:`Claim`) or ``register(catalogue)``, loaded by import path; a claim with an existing id
replaces the built-in one. Nothing is parsed from text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import sympy as sp

from ..errors import InputError
from ..plugins import import_user_module
from .constants import unenclosable
from .model import KINDS as KINDS
from .model import KL as KL
from .model import KL0 as KL0
from .model import L1 as L1
from .model import RKL as RKL
from .model import RKL0 as RKL0
from .model import SYMBOLS as SYMBOLS
from .model import TAGS as TAGS
from .model import C as C
from .model import Claim as Claim
from .model import Expl as Expl
from .model import Expl_0 as Expl_0
from .model import K_eps as K_eps
from .model import KL_next as KL_next
from .model import KL_ref_star as KL_ref_star
from .model import KL_rev as KL_rev
from .model import L1_half as L1_half
from .model import L1_sq as L1_sq
from .model import N as N
from .model import P_ref_star as P_ref_star
from .model import Q_tot as Q_tot
from .model import RKL_next as RKL_next
from .model import Span as Span
from .model import Span_next as Span_next
from .model import Step_err as Step_err
from .model import T_in as T_in
from .model import X_ctx as X_ctx
from .model import alpha as alpha
from .model import beta as beta
from .model import delta as delta
from .model import eps as eps
from .model import eta as eta
from .model import inner_pg as inner_pg
from .model import k as k
from .model import lam as lam
from .model import m_duels as m_duels
from .model import min_ref as min_ref
from .model import n as n
from .model import rho_loc as rho_loc
from .model import sched as sched
from .model import start_ref as start_ref


class Catalogue:
    """An ordered, open set of claims."""

    def __init__(self, claims: Iterable[Claim] = ()) -> None:
        self._claims: dict[str, Claim] = {}
        self._loading = False  # True while a user module adds claims: they are validated
        for c in claims:
            self.add(c)

    def add(self, claim: Claim, replace: bool = True) -> None:
        if not isinstance(claim, Claim):
            raise InputError(f"not a Claim: {type(claim).__name__} {str(claim)[:60]!r}")
        if self._loading:
            _validate(claim)
        if claim.id in self._claims and not replace:
            raise InputError(f"claim {claim.id} already exists")
        self._claims[claim.id] = claim

    def get(self, claim_id: str) -> Claim:
        try:
            return self._claims[claim_id]
        except KeyError:
            raise InputError(f"unknown claim {claim_id!r}; `nashproof claims` lists them") from None

    def __iter__(self) -> Iterator[Claim]:
        return iter(self._claims.values())

    def __len__(self) -> int:
        return len(self._claims)

    def ids(self) -> list[str]:
        return list(self._claims)

    def load(self, target: str) -> None:
        """Add the claims of a user module: ``package.module`` or ``path/to/file.py``."""
        module = import_user_module(target, "claims module")
        register = getattr(module, "register", None)
        claims = getattr(module, "CLAIMS", None)
        if register is None and claims is None:
            raise InputError(f"claims module {target} defines neither CLAIMS nor register(catalogue)")
        if register is not None and not callable(register):
            raise InputError(f"claims module {target}: register must be a function register(catalogue)")
        self._loading = True
        try:
            if claims is not None:
                if not isinstance(claims, list | tuple):
                    raise InputError(f"claims module {target}: CLAIMS must be a list of Claim, "
                                     f"got {type(claims).__name__}")
                for c in claims:
                    self.add(c)
            if register is not None:
                try:
                    register(self)
                except InputError as exc:
                    raise InputError(f"claims module {target}: {exc}") from None
                except Exception as exc:  # the user's function failed: one line, no traceback
                    raise InputError(f"claims module {target}: register() raised {type(exc).__name__}: "
                                     f"{exc}") from None
        finally:
            self._loading = False


#: Metrics a claim may speak of: every per-iterate series and static value the checker computes.
METRICS = frozenset({"kl", "kl_reverse", "l1", "l1_sq", "l1_half", "exploitability", "exploitability_unreg",
                     "span", "gap", "kl_ref_star", "p_ref_star", "min_ref"})


def _validate(claim: Claim) -> None:
    """A user claim must be made of known symbols and speak of a metric the checker computes (those of
    METRICS and SYMBOLS, and any a built-in claim uses)."""
    from .catalogue import BUILTIN

    metrics = METRICS | {c.metric for c in BUILTIN}
    symbols = set(SYMBOLS).union(*(e.free_symbols for c in BUILTIN for e in (*c.statements, *c.hypotheses)))
    if claim.metric not in metrics:
        raise InputError(f"claim {claim.id}: unknown metric {claim.metric!r}; choose from {', '.join(sorted(metrics))}")
    for expr in (*claim.statements, *claim.hypotheses):
        if not isinstance(expr, sp.Basic):
            raise InputError(f"claim {claim.id}: statements and hypotheses must be sympy relations, "
                             f"got {type(expr).__name__}")
        bad = unenclosable(expr)
        if bad is not None:
            raise InputError(f"claim {claim.id}: {bad} has no exact enclosure; write constants as integers, "
                             "Rational, Float, pi, E or log/exp/sqrt of them (nothing is approximated silently)")
        unknown = sorted(str(s) for s in expr.free_symbols if s not in symbols)
        if unknown:
            raise InputError(f"claim {claim.id}: unknown symbol {unknown[0]!r}; use the symbols of "
                             "nashproof.claims.SYMBOLS (`nashproof claims --json` shows them)")


_WORDS = (("Eq(schedule, 1)", "Nash-MD runs the schedule η_t = 2/(β(t+2))"),
          ("Eq(schedule, 0)", "Nash-MD runs a constant step (no schedule)"),
          ("Eq(start_ref, 1)", "the run starts at the reference policy (π_0 = π_ref)"),
          ("Eq(start_ref, 0)", "the run starts away from the reference policy"),
          (" <= ", " ≤ "), (" >= ", " ≥ "), (" != ", " ≠ "), ("**", "^"), ("*", "·"),
          ("beta", "β"), ("eta", "η"), ("epsilon", "ε"))


def human(expr: sp.Basic | str) -> str:
    """A relation for people: ``η^2/4 ≤ β·η + 1`` rather than ``eta**2/4 <= beta*eta + 1``;
    ``Eq(schedule, 1)`` reads "Nash-MD runs the schedule η_t = 2/(β(t+2))". Also applies to a
    text that contains sympy's rendering (a verdict's note); --json keeps sympy's form."""
    text = expr if isinstance(expr, str) else sp.sstr(expr)
    for old, new in _WORDS:
        text = text.replace(old, new)
    return text


def hypotheses_hold(claim: Claim, values: dict[sp.Symbol, sp.Expr]) -> tuple[bool, str | None]:
    """Decide the hypotheses exactly for the given parameter values; return the first that fails."""
    for h in claim.hypotheses:
        decided = h.subs(values)
        if decided is sp.true or decided == sp.true:
            continue
        if decided is sp.false or decided == sp.false:
            return False, sp.sstr(h)
        simplified = sp.simplify(decided)
        if simplified is sp.true:
            continue
        if simplified is sp.false:
            return False, sp.sstr(h)
        raise InputError(f"claim {claim.id}: cannot decide hypothesis {sp.sstr(h)} (got {simplified})")
    return True, None


def builtin_catalogue() -> Catalogue:
    from .catalogue import BUILTIN

    return Catalogue(BUILTIN)
