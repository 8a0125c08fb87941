"""``nashproof init [DIR]``: a starter for checking one's own claims in one's own repository's CI.

Writes a claims module with one claim (statement, hypotheses, provenance), a suite that checks it on
two games, the ``[tool.nashproof]`` table that tells nashproof's pytest plugin where they are (a new
``pyproject.toml``, or appended to an existing one that has no such table), and a GitHub Actions
workflow whose steps install nashproof and run ``pytest``. It never overwrites a file: if any file
it would write exists, it writes nothing.
"""

from __future__ import annotations

import argparse
import json
import shlex
import tomllib
from pathlib import Path
from typing import Any

from ..errors import InputError

CLAIMS_FILE = "claims/my_claims.py"
SUITE_FILE = "claims/suite.toml"
WORKFLOW_FILE = ".github/workflows/nashproof.yml"
CLAIM_ID = "MY-KL-RATE"
PYTHON_VERSION = "3.11"

CLAIMS_MODULE = f'''"""The claims of my paper, checked by nashproof (written by `nashproof init`: edit freely).

A claim is a sympy relation over nashproof's symbols (``nashproof.claims.SYMBOLS``: ``KL`` is
KL(π*‖π_k), ``KL0`` is KL(π*‖π_0), ``beta``, ``eta``, ``k`` the iteration, ...). Its hypotheses say when
it applies (a run whose parameters break them gives the verdict not-applicable), and its provenance
carries a tag: A a paper's abstract, S a secondary summary, D derived by you, L another paper,
E empirical. Show it with `nashproof claims --claims-module {CLAIMS_FILE} {CLAIM_ID}`.
"""

import sympy as sp

from nashproof.claims import KL, KL0, Claim, beta, eta, k

CLAIMS = [
    Claim(
        id="{CLAIM_ID}",
        title="Nash-MP with a step η ≤ 2 contracts KL(π*‖π_k) at least by (1 + ηβ/2)^(−k)",
        kind="bound",  # checked at every iterate k of every run
        metric="kl",
        statements=(sp.Le(KL, (1 + eta * beta / 2) ** (-k) * KL0),),
        hypotheses=(sp.Le(eta, 2),),
        solvers=("nash-mp",),
        provenance="D",
        source="Lemma 1 of my paper (replace with the reference of your claim)",
        derivation="Weaker than nashproof's NMP-KL, KL_k ≤ (1 + ηβ)^(−k) KL_0, since 1 + ηβ/2 ≤ 1 + ηβ.",
    ),
]
'''

SUITE = f'''# A bound-check suite (written by `nashproof init`): pytest runs one test per (game, β, solver) task.
# Numbers are exact strings, nothing here is executed. `nashproof games` lists the game families; a game
# may also be a JSON file of exact rationals, named relative to this file.
name = "my-claims"
description = "{CLAIM_ID} on two games"

[[run]]
games = ["rps:skew=1/2", "cyclic:n=5,skew=1/3"]
betas = ["1/10"]
solvers = [{{ name = "nash-mp", eta = "2" }}]
steps = 30
digits = 40
claims = ["{CLAIM_ID}"]
'''

TABLE = f'''
# Written by `nashproof init`: nashproof's pytest plugin collects these suites (one test per task), with
# these claims modules loaded.
[tool.nashproof]
suites = ["{Path(SUITE_FILE).parent}"]
claims_modules = ["{CLAIMS_FILE}"]
'''


def workflow(install: str) -> str:
    """The CI workflow: check out, set up Python, then exactly two commands: install and run pytest."""
    steps = [f"python -m pip install pytest {shlex.quote(install)}", "python -m pytest"]
    return (f"# Written by `nashproof init`: run the bound checks on every push and pull request.\n"
            f"name: nashproof\n"
            f"on:\n  push:\n  pull_request:\n"
            f"jobs:\n  bound-checks:\n    runs-on: ubuntu-latest\n    steps:\n"
            f"      - uses: actions/checkout@v4\n"
            f"      - uses: actions/setup-python@v5\n        with:\n          python-version: \"{PYTHON_VERSION}\"\n"
            + "".join(f"      - run: {json.dumps(step)}\n" for step in steps))


def _pyproject(path: Path) -> tuple[str, str]:
    """What to do with DIR/pyproject.toml: ("create", text) or ("append", text); refuses when the file is
    not TOML or already has a [tool.nashproof] table."""
    if not path.exists():
        return "create", TABLE.lstrip("\n")
    if not path.is_file():
        raise InputError(f"{path} exists and is not a regular file")
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path} exists and cannot be read as TOML ({exc}); nothing written") from None
    if "nashproof" in data.get("tool", {}):
        raise InputError(f"{path} already has a [tool.nashproof] table; nothing written (add the suites and "
                         f"claims modules to it yourself, or run `nashproof init` in another directory)")
    addition = ("" if text.endswith("\n") or not text else "\n") + TABLE
    try:
        merged = tomllib.loads(text + addition)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: a [tool.nashproof] table cannot be appended ({exc}); nothing written") from None
    if merged.get("tool", {}).get("nashproof", {}).get("suites") is None:
        raise InputError(f"{path}: a [tool.nashproof] table cannot be appended; nothing written")
    return "append", addition


def init(directory: Path, install: str) -> list[tuple[str, str]]:
    """Write the starter into ``directory``; return (file, what) rows. Nothing is written if any file exists."""
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory} exists and is not a directory")
    files = {CLAIMS_FILE: CLAIMS_MODULE, SUITE_FILE: SUITE, WORKFLOW_FILE: workflow(install)}
    for name in files:
        if (directory / name).exists() or (directory / name).is_symlink():
            raise InputError(f"{directory / name} exists; nashproof init never overwrites a file (nothing written)")
    mode, table = _pyproject(directory / "pyproject.toml")
    try:
        for name, text in files.items():
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            with open(directory / name, "x", encoding="utf-8") as f:  # "x": fails rather than overwrite
                f.write(text)
        with open(directory / "pyproject.toml", "x" if mode == "create" else "a", encoding="utf-8") as f:
            f.write(table)
    except OSError as exc:
        raise InputError(f"cannot write in {directory}: {exc.strerror or exc}") from None
    return [(CLAIMS_FILE, f"a claims module: one claim, {CLAIM_ID}, with its hypotheses and provenance"),
            (SUITE_FILE, f"a suite checking {CLAIM_ID} on two games (one pytest test per game)"),
            ("pyproject.toml", ("created with" if mode == "create" else "appended") + " a [tool.nashproof] table"),
            (WORKFLOW_FILE, "CI: installs nashproof and pytest, runs pytest")]


def cmd_init(args: argparse.Namespace) -> int:
    if any(c in args.install for c in "\n\r\0") or not args.install.strip():
        raise InputError("--install must be one pip requirement, e.g. nashproof or 'nashproof @ git+https://...'")
    directory = Path(args.dir)
    rows = init(directory, args.install.strip())
    width = max(len(name) for name, _ in rows) + 2
    print(f"nashproof init: wrote in {directory}")
    for name, what in rows:
        print(f"  {name.ljust(width)}{what}")
    print(f"next: cd {shlex.quote(str(directory))} && python -m pytest    (needs pytest; the suite runs in seconds)\n"
          f"      edit {CLAIMS_FILE} to state your claim, {SUITE_FILE} to choose games, β and steps;\n"
          f"      the same check from the command line: nashproof check {SUITE_FILE} --claims-module {CLAIMS_FILE}")
    return 0


EPILOG = """examples:
  nashproof init                      # in the current directory
  nashproof init my-paper-checks
  nashproof init . --install "nashproof @ git+https://github.com/OWNER/nashproof"
"""


def register(sub: Any) -> None:
    p = sub.add_parser("init", help="write a starter: a claim of your own, a suite, [tool.nashproof], a CI workflow",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", nargs="?", default=".", metavar="DIR", help="where to write (default: here); created "
                   "if absent; an existing pyproject.toml gets a [tool.nashproof] table appended")
    p.add_argument("--install", default="nashproof", metavar="REQUIREMENT",
                   help="what the CI workflow pip-installs (default: nashproof), e.g. 'nashproof @ git+https://...' "
                        "or a path")
    p.set_defaults(handler=cmd_init)
