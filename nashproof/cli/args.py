"""Strict argument types shared by the sub-commands: every count has a stated range.

``type=int`` would accept ``1_000``, ``٣`` (other scripts' digits) and any size at all; these types
accept ASCII digits only, within the range the help text states, and argparse reports a bad value
as one ``error:`` line (exit 2) before any work starts.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ..errors import InputError
from ..numbers import MAX_DIGITS, MIN_DIGITS, parse_int

#: Most local worker processes (more than any machine's cores is a typo).
MAX_JOBS = 1024


def count(low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer in [low, high], written in ASCII digits."""

    def parse(text: str) -> int:
        try:
            return parse_int(text, "the value", low, high)
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = f"integer in [{low}, {high}]"
    return parse


#: ``--digits``: the working precision range shared by every command.
DIGITS = count(MIN_DIGITS, MAX_DIGITS)
#: ``--jobs``.
JOBS = count(1, MAX_JOBS)
