"""Verdict semantics: the statuses, their precedence, their exit codes, and the verdict record."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import mpmath

from ..errors import EXIT_INCONCLUSIVE, EXIT_OK, EXIT_VIOLATION

mp = mpmath.mp


#: ``equality``: the claim holds, with its two sides equal at some point by a proved identity of the
#: game (never from numerical evidence alone). Exit code 0, like ``pass``.
STATUSES = ("pass", "equality", "violated", "inconclusive", "not-applicable")

#: The one table of verdict semantics: status -> (what it certifies, exit code, precedence). A run's
#: exit code is that of its worst status (highest precedence); ``pass`` and ``violated`` are certain
#: for the method that gave them, ``inconclusive`` is the honest answer when nothing decides.
SEMANTICS: dict[str, tuple[str, int, int]] = {
    "violated": ("the claim fails at some point, beyond every error the method accounts for", EXIT_VIOLATION, 4),
    "inconclusive": ("nothing decided: rounding, too few points or runs, or evidence only", EXIT_INCONCLUSIVE, 3),
    "equality": ("holds, with both sides equal at some point by a proved identity", EXIT_OK, 2),
    "pass": ("holds at every evaluated point, beyond every error the method accounts for", EXIT_OK, 1),
    "not-applicable": ("a hypothesis is false, or the claim is not about this solver", EXIT_OK, 0),
}
EXIT_CODES = {status: code for status, (_, code, _) in SEMANTICS.items()}


def worst_status(statuses: Iterable[str]) -> str:
    """The status of highest precedence (``not-applicable`` for none)."""
    return max(statuses, key=lambda s: SEMANTICS[s][2], default="not-applicable")


def exit_code(statuses: Iterable[str]) -> int:
    """The exit code of a set of verdicts: that of the worst status."""
    return EXIT_CODES[worst_status(statuses)]


@dataclass
class Verdict:
    """The outcome of one claim on one run."""

    claim: str
    status: str
    provenance: str
    kind: str
    game: str = ""
    solver: str = ""
    beta: str = ""
    eta: str = ""
    first_k: int | None = None
    observed: str | None = None
    bound: str | None = None
    margin: str | None = None
    error: str | None = None
    tightness: str | None = None
    fitted_rate: str | None = None
    claimed_rate: str | None = None
    min_constant: str | None = None
    slower: bool = False
    needed_digits: int | None = None
    failed_hypothesis: str | None = None
    evaluated: str = ""
    note: str = ""
    expected: str | None = None
    extra: dict[str, object] = field(default_factory=dict)
    method: str = "estimated"  # certified | estimated | screened
    certified_at: str | None = None  # certified: on the exact trajectory or at exactly represented points

    @property
    def outcome(self) -> str:
        """``status``, or ``expected`` when the suite declared this very outcome."""
        return "expected" if self.expected is not None and self.expected == self.status else self.status

    def as_dict(self) -> dict[str, object]:
        d = {k: v for k, v in self.__dict__.items() if v is not None and v != "" and v != {}}
        d["outcome"] = self.outcome
        return d


def fmt_num(x: mpmath.mpf, d: int = 6) -> str:
    return str(mp.nstr(x, d))
