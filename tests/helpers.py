"""Helpers shared by several test files: the CLI called in-process, and the audit's test implementations."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from nashproof.audit import AuditOptions, AuditReport, StepSpec, audit_update
from nashproof.cli import main
from nashproof.families import load_game

#: The implementations the audit is tested on (good, bad, corpus, hostile).
IMPLS = Path(__file__).parent / "audit_impls"
HAS_TORCH = importlib.util.find_spec("torch") is not None


def call(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)`` in-process: (exit code, stdout, stderr); anything escaping main fails the test (a traceback
    for the user). No test times the machine: a slow answer is a bench figure, not a failure."""
    try:
        rc = main(argv)
    except BaseException as exc:  # anything escaping main is a traceback for the user
        pytest.fail(f"{type(exc).__name__} escaped main: {exc}")
    out, err = capsys.readouterr()
    return rc, out, err


def load_impl(name: str) -> ModuleType:
    """The module ``audit_impls/<name>.py``, loaded in this process."""
    spec = importlib.util.spec_from_file_location(f"audit_impl_{name}", IMPLS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def float_context(spec: str = "cyclic:n=5,skew=1/3") -> tuple[np.ndarray, np.ndarray]:
    """(P, π_ref) of a game's first context in float64."""
    ctx = load_game(spec).contexts[0]
    return (np.array([[float(p) for p in row] for row in ctx.preference]),
            np.array([float(r) for r in ctx.reference]))


def audit_impl(target: str, declared: str, eta: str | None, games: tuple[str, ...], **opts: object) -> AuditReport:
    """An audit of ``audit_impls/<target>`` with claims off; generous time limits (a loaded CI machine must not
    turn a slow call into a finding)."""
    opts.setdefault("timeout", 120)
    opts.setdefault("budget", 3600)
    return audit_update(str(IMPLS / target), declared, StepSpec.parse(eta, declared), games=games,
                        options=AuditOptions(with_claims=False, **opts))  # type: ignore[arg-type]
