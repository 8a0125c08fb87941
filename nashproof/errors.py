"""Errors with a one-line message and a distinct process exit code."""

from __future__ import annotations

#: Exit codes shared by every command.
EXIT_OK = 0
EXIT_VIOLATION = 1
EXIT_BAD_INPUT = 2
EXIT_INCONCLUSIVE = 3
EXIT_SOLVER = 4


class NashproofError(Exception):
    """Base class: the message is shown as one ``error:`` line."""

    exit_code: int = EXIT_BAD_INPUT


class InputError(NashproofError):
    """Bad user input: a malformed game, number, parameter or file."""


class SolverError(NashproofError):
    """A solver returned something that is not a distribution, raised, or did not converge."""

    exit_code: int = EXIT_SOLVER


class ViolationError(NashproofError):
    """A computation contradicts a claim where the command cannot go on (e.g. a predicted count)."""

    exit_code: int = EXIT_VIOLATION
