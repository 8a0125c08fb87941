"""Declarative check suites (TOML). Numbers are exact strings; nothing in a suite is executed.

A suite holds ``[[run]]`` blocks (games × β × solvers, a horizon, digits and claims) and
``[[dimension]]`` blocks (one family over several sizes n, for NMP-DIM). ``include = ["other.toml"]``
adds other suites' tasks (paths relative to the including file; every file is loaded once, a cycle
is an error). See checks/default.toml.
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
from .files import read_text
from .games import Game
from .limits import require_fits
from .numbers import (
    MAX_ACTIONS,
    MAX_DIGITS,
    MAX_STEPS,
    MIN_DIGITS,
    check_beta,
    eta_str,
    fraction_str,
    parse_positive,
    parse_rational,
)
from .solvers import SOLVERS, Solver, make_solver
from .solvers.inexact import INEXACT
from .verify import (
    MAX_RETRY_DIGITS,
    STATUSES,
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
    slow: bool = False
    confidence: Fraction | None = None  # inexact solvers: a probability claim's 1 − α (default 95/100)
    runs: int = 0  # inexact solvers: seeded runs R for probability claims (0: enough for the confidence)
    power: Fraction | None = None  # inexact solvers: choose R to detect a failure rate 2α with this probability
    start: tuple[tuple[Fraction, ...], ...] | None = None  # exact logits of π_0 per context
    method: str = "certified"  # certified (balls) or estimated (precision doubling)

    @property
    def label(self) -> str:
        eta = eta_str(self.eta) if self.eta is not None else "default"
        start = " | π_0 from logits" if self.start is not None else ""
        return f"run{self.block} | {self.game} | {self.solver} | β={eta_str(self.beta)} | η={eta}{start}"


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
    slow: bool = False
    method: str = "certified"

    @property
    def label(self) -> str:
        return f"{self.family.replace('{n}', 'n')} | n = {','.join(map(str, self.sizes))} | β={eta_str(self.beta)}"


@dataclass
class Suite:
    name: str
    description: str
    tasks: list[Task] = field(default_factory=list)
    dimensions: list[DimensionTask] = field(default_factory=list)
    claim_modules: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # this file, then every included file (resolved)


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


#: Outcomes a suite may declare in ``expect``.
EXPECT_STATUSES = STATUSES
#: Most seeded runs of a probability claim (a suite's 'runs', check's --runs).
MAX_RUNS = 10_000
#: Most sizes in one [[dimension]] block.
MAX_SIZES = 64

_TOP_KEYS = {"name", "description", "include", "claim_modules", "steps", "digits", "until_floor", "ignore_hypotheses",
             "slow", "run", "dimension"}
_RUN_KEYS = {"games", "betas", "solvers", "steps", "digits", "claims", "ignore_hypotheses", "until_floor", "expect",
             "slow", "confidence", "runs", "power", "start_logits"}
_DIM_KEYS = {"family", "sizes", "beta", "eta", "steps", "digits", "claim", "slow"}
_SOLVER_KEYS = {"name", "eta"}


#: Solvers whose step may be given as 'max' (Nash-MP's η̄(β); proximal point shares Nash-MP's step).
MAX_STEP_SOLVERS = ("nash-mp", "proximal-point")


def parse_step(text: str | None, solver: str, beta: Fraction, what: str = "--eta") -> Fraction | None:
    """A step option: a positive rational, or for Nash-MP ``max`` (just below η̄(β)) or ``r*max``."""
    if text is None:
        return None
    if "max" in text and solver not in MAX_STEP_SOLVERS:
        raise InputError(f"{what} {text}: 'max' is Nash-MP's largest step η̄(β) = 2(β + √(1+β²)); "
                         f"give {solver} a number")
    return parse_eta(text, beta)


def _type(value: object) -> str:
    return {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array",
            dict: "a table"}.get(type(value), type(value).__name__)


def _str(value: object, where: str, key: str) -> str:
    if value is None:
        raise InputError(f"{where}: missing '{key}'")
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: '{key}' must be a non-empty string, got {_type(value)}")
    return value


def _strings(block: dict[str, object], key: str, where: str, default: object = None) -> list[str]:
    """A string or an array of strings (numbers may also be integers)."""
    value = block.get(key, default)
    if value is None:
        raise InputError(f"{where}: missing '{key}'")
    items = value if isinstance(value, list) else [value]
    if not items:
        raise InputError(f"{where}: '{key}' is empty")
    return [_str(v, where, f"{key}[{i}]") for i, v in enumerate(items)]


def _numbers(block: dict[str, object], key: str, where: str) -> list[object]:
    value = block.get(key)
    if value is None:
        raise InputError(f"{where}: missing '{key}'")
    items = value if isinstance(value, list) else [value]
    if not items:
        raise InputError(f"{where}: '{key}' is empty")
    return list(items)


def _bool(block: dict[str, object], key: str, default: bool, where: str) -> bool:
    value = block.get(key, default)
    if not isinstance(value, bool):
        raise InputError(f"{where}: '{key}' must be true or false, got {_type(value)} {value!r}"[:200])
    return value


def _int(block: dict[str, object], key: str, default: int, where: str, high: int) -> int:
    value = block.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
        raise InputError(f"{where}: '{key}' must be an integer in [1, {high}], got {_type(value)} "
                         f"{str(value)[:40]}")
    return value


def _digits(block: dict[str, object], default: int, where: str) -> int:
    value = _int(block, "digits", default, where, MAX_DIGITS)
    if value < MIN_DIGITS:
        raise InputError(f"{where}: 'digits' must lie in [{MIN_DIGITS}, {MAX_DIGITS}], got {value}")
    return value


def _table(value: object, where: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise InputError(f"{where} must be a table, got {_type(value)}")
    return value


def _blocks(data: dict[str, object], key: str, where: str) -> list[dict[str, object]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(b, dict) for b in value):
        raise InputError(f"{where}: '{key}' must be an array of tables, written [[{key}]], got {_type(value)}")
    return list(value)


def _claim_module(entry: str, base: Path) -> str:
    """A ``.py`` path relative to the suite file resolves against the suite's directory."""
    if entry.endswith(".py") or "/" in entry or "\\" in entry:
        path = Path(entry).expanduser()
        return str(path if path.is_absolute() else base / path)
    return entry


def _solvers(block: dict[str, object], where: str) -> list[tuple[str, object]]:
    raw = block.get("solvers")
    if raw is None:
        raise InputError(f"{where}: missing 'solvers'")
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise InputError(f"{where}: 'solvers' is empty")
    out: list[tuple[str, object]] = []
    for i, item in enumerate(items):
        w = f"{where} solvers[{i}]"
        if isinstance(item, dict):
            unknown = set(item) - _SOLVER_KEYS
            if unknown:
                raise InputError(f"{w}: unknown key {sorted(unknown)[0]!r} (allowed: name, eta)")
            name, eta = _str(item.get("name"), w, "name"), item.get("eta")
        else:
            name, eta = _str(item, where, f"solvers[{i}]"), None
        if name.partition(":")[0] not in SOLVERS and name.partition(":")[0] not in INEXACT:  # nashproof.solvers.inexact
            raise InputError(f"{w}: unknown solver {name!r}; choose from {', '.join(SOLVERS)}")
        out.append((name, eta))
    return out


def _expect(block: dict[str, object], claims: tuple[str, ...], where: str) -> tuple[tuple[str, str], ...]:
    raw = _table(block.get("expect", {}), f"{where}: 'expect'")
    out = []
    for cid, status in raw.items():
        if not isinstance(status, str) or status not in EXPECT_STATUSES:
            raise InputError(f"{where}: expect.{cid} = {str(status)[:40]!r} is not an outcome; "
                             f"use one of {', '.join(EXPECT_STATUSES)}")
        if cid not in claims:
            raise InputError(f"{where}: expect names {cid!r}, which this block does not check "
                             f"(its claims: {', '.join(claims)})")
        out.append((cid, status))
    return tuple(out)


def load_suite(path: str | Path, catalogue: Catalogue, _within: tuple[Path, ...] = ()) -> Suite:
    """Parse and validate a TOML suite against the catalogue; every field is type-checked.

    Its ``include`` list is followed depth-first: the included suites' tasks come after this file's, each file
    once (a file included twice contributes once), and a file that includes itself, directly or not, is an error.
    """
    p = Path(path)
    here = p.resolve()
    text = read_text(p, "suite")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML ({exc})") from None
    except RecursionError:
        raise InputError(f"{path}: TOML nested too deeply") from None
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise InputError(f"{p.name}: unknown top-level key {sorted(unknown)[0]!r} "
                         f"(allowed: {', '.join(sorted(_TOP_KEYS))})")
    suite = Suite(_str(data.get("name", p.stem), p.name, "name"),
                  _str(data.get("description", "-"), p.name, "description"))
    suite.claim_modules = [_claim_module(m, p.parent)
                           for m in _strings(data, "claim_modules", p.name, [])] if data.get("claim_modules") else []
    for module in suite.claim_modules:
        catalogue.load(module)
    inherited = ("steps", "digits", "until_floor", "ignore_hypotheses", "slow")  # top-level defaults of [[run]]
    defaults: dict[str, object] = {key: data[key] for key in inherited if key in data}
    suite_slow = _bool(data, "slow", False, p.name)
    for i, raw in enumerate(_blocks(data, "run", p.name)):
        where = f"{p.name} run #{i + 1}"
        unknown = set(raw) - _RUN_KEYS
        if unknown:
            raise InputError(f"{where}: unknown key {sorted(unknown)[0]!r} (allowed: {', '.join(sorted(_RUN_KEYS))})")
        block: dict[str, object] = {**defaults, **raw}
        claims_raw = block.get("claims", "all")
        claims = tuple(catalogue.ids()) if claims_raw == "all" else tuple(_strings(block, "claims", where))
        for c in claims:
            catalogue.get(c)
        expect = _expect(block, claims, where)
        steps, digits = _int(block, "steps", 60, where, MAX_STEPS), _digits(block, 40, where)
        ignore, floor = _bool(block, "ignore_hypotheses", False, where), _bool(block, "until_floor", True, where)
        slow = _bool(block, "slow", suite_slow, where)
        games, solvers = [_relative_to(p, g) for g in _strings(block, "games", where)], _solvers(block, where)
        start = _start_logits(block.get("start_logits"), where)
        for beta_raw in _numbers(block, "betas", where):
            beta = check_beta(parse_positive(beta_raw, f"{where} beta"))
            for game in games:
                for name, eta_raw in solvers:
                    eta = parse_eta(eta_raw, beta)
                    confidence, runs = _inexact_options(block, where, name, beta, eta)
                    suite.tasks.append(Task(game, beta, name, eta, steps, digits, claims, ignore, floor, expect,
                                            str(p), i + 1, slow, confidence, runs, _power(block, where), start))
    for i, raw in enumerate(_blocks(data, "dimension", p.name)):
        where = f"{p.name} dimension #{i + 1}"
        unknown = set(raw) - _DIM_KEYS
        if unknown:
            raise InputError(f"{where}: unknown key {sorted(unknown)[0]!r} (allowed: {', '.join(sorted(_DIM_KEYS))})")
        family = _str(raw.get("family"), where, "family")
        if "{n}" not in family:
            raise InputError(f"{where}: 'family' must contain {{n}} where the size goes, e.g. \"cyclic:n={{n}}\"")
        sizes_raw = _numbers(raw, "sizes", where)
        if len(sizes_raw) > MAX_SIZES or not all(
                isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= MAX_ACTIONS for s in sizes_raw):
            raise InputError(f"{where}: 'sizes' must be at most {MAX_SIZES} integers in [1, {MAX_ACTIONS}]")
        sizes = tuple(int(str(s)) for s in sizes_raw)
        beta = check_beta(parse_positive(raw.get("beta", "1/10"), f"{where} beta"))
        eta = parse_eta(raw.get("eta", "2"), beta) or Fraction(2)
        claim = _str(raw.get("claim", "NMP-DIM"), where, "claim")
        catalogue.get(claim)
        suite.dimensions.append(DimensionTask(family, sizes, beta, eta, _int(raw, "steps", 30, where, MAX_STEPS),
                                              _digits(raw, 30, where), claim, str(p),
                                              _bool(raw, "slow", suite_slow, where)))
    suite.files.append(here)
    for inc in _strings(data, "include", p.name, []) if "include" in data else []:
        target = Path(inc) if Path(inc).is_absolute() else p.parent / inc
        if not target.exists():
            raise InputError(f"{p.name}: include {inc!r} not found (paths are relative to the suite's folder)")
        if target.resolve() in (*_within, here):
            chain = " -> ".join(f.name for f in (*_within, here, target.resolve()))
            raise InputError(f"{p.name}: include cycle {chain}")
        if target.resolve() in suite.files:
            continue
        sub = load_suite(target, catalogue, (*_within, here))
        fresh = {f for f in sub.files if f not in suite.files}
        suite.files.extend(f for f in sub.files if f in fresh)
        suite.tasks.extend(t for t in sub.tasks if Path(t.source).resolve() in fresh)
        suite.dimensions.extend(d for d in sub.dimensions if Path(d.source).resolve() in fresh)
        suite.claim_modules.extend(m for m in sub.claim_modules if m not in suite.claim_modules)
    if not suite.tasks and not suite.dimensions:
        raise InputError(f"{path}: the suite has no [[run]] or [[dimension]] block")
    return suite


def load_suites(targets: list[str], catalogue: Catalogue) -> list[Suite]:
    """Every suite named (directories expanded), includes followed; a file reached twice contributes once."""
    seen: set[Path] = set()
    out = []
    for f in iter_suite_files(targets):
        if f.resolve() in seen:
            continue
        s = load_suite(f, catalogue)
        s.tasks = [t for t in s.tasks if Path(t.source).resolve() not in seen]
        s.dimensions = [d for d in s.dimensions if Path(d.source).resolve() not in seen]
        seen.update(s.files)
        out.append(s)
    return out


def _relative_to(suite: Path, game: str) -> str:
    """A game file named relative to the suite's folder (if it exists there); other specs unchanged."""
    near = suite.parent / game
    return str(near) if game.endswith(".json") and not Path(game).is_absolute() and near.exists() else game


def _start_logits(raw: object, where: str) -> tuple[tuple[Fraction, ...], ...] | None:
    """``start_logits = [["0", "-10000000", "0"]]``: exact logits of π_0, one list per context."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(c, list) for c in raw):
        raise InputError(f"{where}: 'start_logits' must be an array of arrays (one per context) of exact numbers")
    return tuple(tuple(parse_rational(x, f"{where} start_logits") for x in c) for c in raw)


def _inexact_options(block: dict[str, object], where: str, solver: str, beta: Fraction,
                     eta: Fraction | None) -> tuple[Fraction | None, int]:
    """Validate an inexact solver spec at load time; read ``confidence`` and ``runs`` (issue 11)."""
    from .solvers.inexact import check_confidence

    if ":" in solver:
        make_solver(solver, beta, eta)
    confidence = check_confidence(str(block["confidence"])) if "confidence" in block else None
    runs = block.get("runs", 0)
    if not isinstance(runs, int) or isinstance(runs, bool) or not 0 <= runs <= MAX_RUNS:
        raise InputError(f"{where}: 'runs' must be an integer in [0, {MAX_RUNS}]")
    return confidence, runs


def check_power(value: object, where: str = "power") -> Fraction:
    """A wanted power in (0, 1): the run count of probability claims is chosen to detect a rate 2α this often."""
    p = parse_rational(value, where)
    if not 0 < p < 1:
        raise InputError(f"{where} must lie strictly between 0 and 1, got {fraction_str(p)}")
    return p


def _power(block: dict[str, object], where: str) -> Fraction | None:
    return check_power(str(block["power"]), f"{where} power") if "power" in block else None


def run_task(task: Task, catalogue: Catalogue, on_step: Callable[[int], None] | None = None) -> list[Verdict]:
    """Check every claim of a task; verdicts carry the declared expectation, if any."""
    from .verify import check_inexact, is_inexact

    game = load_game(task.game)
    require_fits(game.n, len(game.contexts), "arb" if task.method == "certified" else "mpmath", 2 * task.digits,
                 2 * task.steps, "a checked run")
    if task.start is not None:
        game = game.with_start(task.start)
    solver = make_solver(task.solver, task.beta, task.eta)
    expect = dict(task.expect)
    if is_inexact(solver):  # inexact and sampled solvers: statistical verdicts for probability claims
        # The game with the suite's start logits (they were ignored here once: the same run with and without).
        verdicts = check_inexact(game, solver, [catalogue.get(c) for c in task.claims],  # type: ignore[arg-type]
                                 task.steps, task.digits, task.confidence or Fraction(95, 100), task.runs,
                                 until_floor=task.until_floor, ignore_hypotheses=task.ignore_hypotheses,
                                 power=task.power)
        for v in verdicts:
            v.expected = expect.get(v.claim)
        return verdicts
    certified = task.method == "certified"
    data = collect(game, solver, task.steps, task.digits, backend="arb" if certified else "mpmath", on_step=on_step)
    out = []
    for cid in task.claims:
        v = check_claim(catalogue.get(cid), data, task.ignore_hypotheses, task.until_floor)
        v.expected = expect.get(cid)
        out.append(v)
    if certified:
        out = retry_certified(task, game, solver, catalogue, out)
    return out


def retry_certified(task: Task, game: Game, solver: Solver, catalogue: Catalogue, verdicts: list[Verdict],
                    rounds: int = 3) -> list[Verdict]:
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


def run_dimension(task: DimensionTask, catalogue: Catalogue, on_size: Callable[[int], None] | None = None) -> Verdict:
    if task.method == "certified":
        return check_dimension_certified(catalogue.get(task.claim), task.family, list(task.sizes), task.beta,
                                         task.eta, task.steps, task.digits)
    return check_dimension(catalogue.get(task.claim), task.family, list(task.sizes), task.beta, task.eta,
                           task.steps, task.digits, on_size=on_size)


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
