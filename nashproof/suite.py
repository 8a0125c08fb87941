"""Declarative check suites (TOML). Numbers are exact strings; nothing in a suite is executed.

A suite holds ``[[run]]`` blocks (games × β × solvers, a horizon, digits and claims) and
``[[dimension]]`` blocks (one family over several sizes n, for NMP-DIM). See checks/default.toml.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from .claims import Catalogue
from .errors import InputError
from .families import load_game
from .games import Game
from .numbers import fraction_str, parse_positive
from .solvers import SOLVERS, Solver, make_solver
from .verify import (
    MAX_RETRY_DIGITS,
    Verdict,
    check_claim,
    check_dimension,
    check_dimension_certified,
    collect,
    eta_bar_below,
)


@dataclass(frozen=True)
class Task:
    """One (game, β, solver, step) combination and the claims to check on it."""

    game: str
    beta: Fraction
    solver: str
    eta: Fraction | None
    steps: int
    digits: int
    claims: tuple[str, ...]
    ignore_hypotheses: bool = False
    until_floor: bool = True
    expect: tuple[tuple[str, str], ...] = ()
    source: str = ""
    block: int = 0
    method: str = "certified"  # certified (balls) or estimated (precision doubling)

    @property
    def label(self) -> str:
        eta = fraction_str(self.eta) if self.eta is not None else "default"
        return f"run{self.block} | {self.game} | {self.solver} | β={fraction_str(self.beta)} | η={eta}"


@dataclass(frozen=True)
class DimensionTask:
    family: str
    sizes: tuple[int, ...]
    beta: Fraction
    eta: Fraction
    steps: int
    digits: int
    claim: str = "NMP-DIM"
    source: str = ""
    method: str = "certified"

    @property
    def label(self) -> str:
        return f"{self.family} | n={','.join(map(str, self.sizes))} | β={fraction_str(self.beta)}"


@dataclass
class Suite:
    name: str
    description: str
    tasks: list[Task] = field(default_factory=list)
    dimensions: list[DimensionTask] = field(default_factory=list)
    claim_modules: list[str] = field(default_factory=list)


def parse_eta(text: object, beta: Fraction) -> Fraction | None:
    """``default`` (None), a rational, ``max`` (just below η̄(β)) or ``r*max``."""
    if text is None or text == "default":
        return None
    if not isinstance(text, str | int):
        raise InputError(f"eta must be a string such as \"2\", \"max\" or \"3*max\", got {text!r}")
    raw = str(text).strip()
    if raw == "max":
        return eta_bar_below(beta)
    if raw.endswith("*max"):
        factor = parse_positive(raw[: -len("*max")], "eta factor")
        return factor * eta_bar_below(beta)
    return parse_positive(raw, "eta")


def _list(block: dict[str, object], key: str, where: str, default: object = None) -> list[object]:
    value = block.get(key, default)
    if value is None:
        raise InputError(f"{where}: missing '{key}'")
    if not isinstance(value, list):
        value = [value]
    return list(value)


def _int(block: dict[str, object], key: str, default: int, where: str) -> int:
    value = block.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InputError(f"{where}: '{key}' must be a positive integer")
    return value


_RUN_KEYS = {"games", "betas", "solvers", "steps", "digits", "claims", "ignore_hypotheses", "until_floor", "expect"}
_DIM_KEYS = {"family", "sizes", "beta", "eta", "steps", "digits", "claim"}


def load_suite(path: str | Path, catalogue: Catalogue) -> Suite:
    """Parse and validate a TOML suite against the catalogue."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"suite not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML ({exc})") from None
    suite = Suite(str(data.get("name", p.stem)), str(data.get("description", "")))
    suite.claim_modules = [str(m) for m in _list(data, "claim_modules", str(p), [])]
    for module in suite.claim_modules:
        catalogue.load(module)
    defaults = {key: data[key] for key in ("steps", "digits", "until_floor") if key in data}
    for i, raw in enumerate(data.get("run", [])):
        where = f"{p.name} run #{i + 1}"
        block = {**defaults, **raw}
        unknown = set(raw) - _RUN_KEYS
        if unknown:
            raise InputError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        claims_raw = block.get("claims", "all")
        claims = tuple(catalogue.ids()) if claims_raw == "all" else tuple(str(c) for c in _list(block, "claims", where))
        for c in claims:
            catalogue.get(c)
        expect_raw = block.get("expect", {})
        if not isinstance(expect_raw, dict):
            raise InputError(f"{where}: 'expect' must be a table claim = status")
        expect = tuple((str(key), str(val)) for key, val in expect_raw.items())
        steps, digits = _int(block, "steps", 60, where), _int(block, "digits", 40, where)
        for game in _list(block, "games", where):
            for beta_raw in _list(block, "betas", where):
                beta = parse_positive(beta_raw, f"{where} beta")
                for solver_raw in _list(block, "solvers", where):
                    if isinstance(solver_raw, dict):
                        name, eta_raw = str(solver_raw.get("name")), solver_raw.get("eta")
                    else:
                        name, eta_raw = str(solver_raw), None
                    if name not in SOLVERS:
                        raise InputError(f"{where}: unknown solver {name!r}")
                    suite.tasks.append(Task(str(game), beta, name, parse_eta(eta_raw, beta), steps, digits, claims,
                                            bool(block.get("ignore_hypotheses", False)),
                                            bool(block.get("until_floor", True)), expect, str(p), i + 1))
    for i, raw in enumerate(data.get("dimension", [])):
        where = f"{p.name} dimension #{i + 1}"
        unknown = set(raw) - _DIM_KEYS
        if unknown:
            raise InputError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        sizes = tuple(int(str(s)) for s in _list(raw, "sizes", where))
        beta = parse_positive(raw.get("beta", "1/10"), f"{where} beta")
        eta = parse_eta(raw.get("eta", "2"), beta) or Fraction(2)
        suite.dimensions.append(DimensionTask(str(raw["family"]), sizes, beta, eta, _int(raw, "steps", 30, where),
                                              _int(raw, "digits", 30, where), str(raw.get("claim", "NMP-DIM")),
                                              str(p)))
    if not suite.tasks and not suite.dimensions:
        raise InputError(f"{path}: the suite has no [[run]] or [[dimension]] block")
    return suite


def run_task(task: Task, catalogue: Catalogue, on_step: Callable[[int], None] | None = None) -> list[Verdict]:
    """Check every claim of a task; verdicts carry the declared expectation, if any."""
    game = load_game(task.game)
    solver = make_solver(task.solver, task.beta, task.eta)
    certified = task.method == "certified"
    data = collect(game, solver, task.steps, task.digits, backend="arb" if certified else "mpmath", on_step=on_step)
    expect = dict(task.expect)
    out = []
    for cid in task.claims:
        v = check_claim(catalogue.get(cid), data, task.ignore_hypotheses, task.until_floor)
        v.expected = expect.get(cid)
        out.append(v)
    if certified:
        out = retry_certified(task, game, solver, catalogue, out)
    return out


def retry_certified(task: Task, game: Game, solver: Solver, catalogue: Catalogue, verdicts: list[Verdict],
                    rounds: int = 2) -> list[Verdict]:
    """Re-run at the precision an inconclusive certified verdict asks for (up to MAX_RETRY_DIGITS)."""
    digits = task.digits
    for _ in range(rounds):
        redo = [i for i, v in enumerate(verdicts) if v.status == "inconclusive" and v.expected != "inconclusive"
                and v.needed_digits is not None and v.needed_digits > digits]
        if not redo:
            break
        digits = min(MAX_RETRY_DIGITS, max(verdicts[i].needed_digits or 0 for i in redo))
        data = collect(game, solver, task.steps, digits, backend="arb")
        for i in redo:
            v = check_claim(catalogue.get(verdicts[i].claim), data, task.ignore_hypotheses, task.until_floor)
            v.expected = verdicts[i].expected
            v.note = (v.note + f" (retried at --digits {digits})").strip()
            verdicts[i] = v
        if digits >= MAX_RETRY_DIGITS:
            break
    return verdicts


def run_dimension(task: DimensionTask, catalogue: Catalogue) -> Verdict:
    if task.method == "certified":
        return check_dimension_certified(catalogue.get(task.claim), task.family, list(task.sizes), task.beta,
                                         task.eta, task.steps, task.digits)
    return check_dimension(catalogue.get(task.claim), task.family, list(task.sizes), task.beta, task.eta,
                           task.steps, task.digits)


def iter_suite_files(targets: list[str]) -> Iterator[Path]:
    """Expand directories into their ``*.toml`` files (sorted)."""
    for target in targets:
        p = Path(target)
        if p.is_dir():
            files = sorted(p.glob("*.toml"))
            if not files:
                raise InputError(f"no *.toml suite in {target}")
            yield from files
        elif p.exists():
            yield p
        else:
            raise InputError(f"suite not found: {target}")
