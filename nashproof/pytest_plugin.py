"""The pytest plugin: nashproof check suites become pytest items, one per task (entry point ``pytest11``).

In any repository with nashproof installed, ``pytest`` collects as suites the ``.toml`` files whose
name matches ``pattern`` (default ``nashproof_*.toml``) and every ``.toml`` file at or below a path
listed in ``suites``, both read from the ``[tool.nashproof]`` table of the ``pyproject.toml`` at
pytest's rootdir::

    [tool.nashproof]
    suites = ["checks"]                         # suite files or directories, relative to pyproject.toml
    claims_modules = ["claims/my_claims.py"]    # .py files (relative to pyproject.toml) or import paths
    pattern = "nashproof_*.toml"                # "" collects only the listed suites

One item per task: a (game, β, solver, step) combination of a ``[[run]]`` block, or one
``[[dimension]]`` block. An item fails when a claim is violated or inconclusive and the suite did not
declare that outcome in ``expect``; the failure shows the claim, the game, the iterate, the margin
(bound − observed) and how the verdict was obtained, and every verdict becomes JUnit properties
(``CLAIM.outcome``, ``CLAIM.margin``, ``CLAIM.method``, ...). ``slow = true`` in a suite gives its
items the ``slow`` marker. ``--nashproof-method`` and ``--nashproof-jobs`` set the engine.

Nothing heavy is imported until a suite file is collected: pytest loads this module in every
environment nashproof is installed in.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .errors import NashproofError

if TYPE_CHECKING:
    from .claims import Catalogue
    from .suite import DimensionTask, Task
    from .verify import Verdict

DEFAULT_PATTERN = "nashproof_*.toml"
METHODS = ("certified", "estimated")
_KEYS = {"suites": "a list of paths", "claims_modules": "a list of .py paths or import paths", "pattern": "a string"}


@dataclasses.dataclass(frozen=True)
class Settings:
    """``[tool.nashproof]`` and the command-line options, resolved."""

    suites: tuple[Path, ...] = ()
    claims_modules: tuple[str, ...] = ()
    pattern: str = DEFAULT_PATTERN
    method: str = "certified"
    jobs: int = 1

    def is_suite(self, path: Path) -> bool:
        if path.suffix != ".toml" or path.name == "pyproject.toml":
            return False
        if self.pattern and fnmatch.fnmatch(path.name, self.pattern):
            return True
        path = path.resolve()
        return any(path == s or s in path.parents for s in self.suites)


SETTINGS = pytest.StashKey[Settings]()


def read_table(pyproject: Path) -> Settings:
    """The ``[tool.nashproof]`` table of ``pyproject`` (defaults if the file or the table is absent)."""
    if not pyproject.is_file():
        return Settings()
    where = f"[tool.nashproof] in {pyproject}"
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:  # pytest itself refuses such a file
        raise pytest.UsageError(f"{pyproject}: cannot be read as TOML ({exc})") from None
    table = data.get("tool", {}).get("nashproof", {})
    if not isinstance(table, dict):
        raise pytest.UsageError(f"{where}: must be a table")
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise pytest.UsageError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(_KEYS)})")
    lists = {}
    for key in ("suites", "claims_modules"):
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise pytest.UsageError(f"{where}: {key!r} must be {_KEYS[key]}, got {value!r}"[:300])
        lists[key] = value
    pattern = table.get("pattern", DEFAULT_PATTERN)
    if not isinstance(pattern, str):
        raise pytest.UsageError(f"{where}: 'pattern' must be a string such as \"nashproof_*.toml\"")
    base = pyproject.parent
    suites = []
    for entry in lists["suites"]:
        path = (base / Path(entry).expanduser()).resolve()
        if not path.exists():
            raise pytest.UsageError(f"{where}: suite path {entry!r} not found (relative to {base})")
        suites.append(path)
    modules = tuple(str((base / m).resolve()) if m.endswith(".py") or "/" in m or "\\" in m else m
                    for m in lists["claims_modules"])
    for m in modules:
        if m.endswith(".py") and not Path(m).is_file():
            raise pytest.UsageError(f"{where}: claims module {m} not found")
    return Settings(tuple(suites), modules, pattern)


def _jobs(text: str) -> int:
    if text == "auto":
        from .parallel import default_jobs

        return default_jobs()
    if not text.isdigit() or int(text) < 1:
        raise pytest.UsageError(f"--nashproof-jobs must be a positive integer or 'auto', got {text!r}")
    return int(text)


# ------------------------------------------------------------------ hooks


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nashproof", "nashproof check suites ([tool.nashproof] in pyproject.toml)")
    group.addoption("--nashproof-method", choices=METHODS, default="certified",
                    help="how verdicts are obtained: certified (ball arithmetic, default) or estimated "
                         "(precision doubling)")
    group.addoption("--nashproof-jobs", default="1", metavar="N",
                    help="run each suite file's selected tasks in N processes ('auto': every core; default 1). "
                         "Ignored under pytest-xdist (-n), whose workers already share the tasks")


def pytest_configure(config: pytest.Config) -> None:
    inipath = config.inipath
    pyproject = inipath if inipath is not None and inipath.name == "pyproject.toml" else \
        config.rootpath / "pyproject.toml"
    settings = read_table(pyproject)
    jobs = 1 if hasattr(config, "workerinput") else _jobs(str(config.getoption("nashproof_jobs")))
    settings = dataclasses.replace(settings, method=str(config.getoption("nashproof_method")), jobs=jobs)
    config.stash[SETTINGS] = settings
    if not any(str(line).split(":")[0].strip() == "slow" for line in config.getini("markers")):
        config.addinivalue_line("markers", "slow: an expensive nashproof suite task (slow = true in the suite)")
    if config.args_source == pytest.Config.ArgsSource.TESTPATHS:  # plain `pytest`: the listed suites too
        roots = [Path(a).resolve() for a in config.args]
        config.args.extend(str(s) for s in settings.suites
                           if not any(s == r or r in s.parents for r in roots))


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix == ".toml" and parent.config.stash[SETTINGS].is_suite(file_path):
        return SuiteFile.from_parent(parent, path=file_path)
    return None


# ------------------------------------------------------------------ collectors and items


class SuiteFile(pytest.File):
    """One suite file; its catalogue holds the built-in claims, the configured claims modules and the
    suite's own ``claim_modules``."""

    catalogue: Catalogue
    modules: tuple[str, ...]

    def collect(self) -> Iterator[pytest.Item]:
        from .claims import builtin_catalogue
        from .suite import load_suite

        settings = self.config.stash[SETTINGS]
        self.catalogue = builtin_catalogue()
        for module in settings.claims_modules:
            self.catalogue.load(module)
        suite = load_suite(self.path, self.catalogue)
        self.modules = (*settings.claims_modules, *suite.claim_modules)
        self.results: dict[str, list[Verdict]] = {}  # computed, not yet reported
        self.ran: set[str] = set()
        tasks: list[Task | DimensionTask] = [*suite.tasks, *suite.dimensions]
        for task in tasks:
            item = TaskItem.from_parent(self, name=task.label, task=dataclasses.replace(task, method=settings.method))
            if task.slow:
                item.add_marker(pytest.mark.slow)
            yield item

    def verdicts(self, item: TaskItem) -> list[Verdict]:
        """The item's verdicts; with --nashproof-jobs N > 1, the first item of this file to run computes
        every selected task of the file in N processes."""
        from .suite import Task, run_dimension, run_task

        if item.nodeid not in self.results:
            batch = [i for i in self.session.items if isinstance(i, TaskItem) and i.parent is self
                     and isinstance(i.task, Task) and i.nodeid not in self.ran] \
                if self.config.stash[SETTINGS].jobs > 1 and isinstance(item.task, Task) else []
            if len(batch) > 1:
                self._run_batch(batch)
            elif isinstance(item.task, Task):
                self.results[item.nodeid] = run_task(item.task, self.catalogue)
            else:
                self.results[item.nodeid] = [run_dimension(item.task, self.catalogue)]
        self.ran.add(item.nodeid)
        return self.results.pop(item.nodeid)

    def _run_batch(self, batch: list[TaskItem]) -> None:
        from .parallel import run_check_tasks
        from .verify import Verdict

        out = run_check_tasks([i.task for i in batch], self.catalogue, self.modules, self.config.stash[SETTINGS].jobs)
        for i, verdicts in zip(batch, out):
            self.results[i.nodeid] = [v for v in verdicts if isinstance(v, Verdict)]

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: object = None) -> str:
        if isinstance(excinfo.value, NashproofError):
            return f"error: {excinfo.value}"
        return str(super().repr_failure(excinfo))


class TaskItem(pytest.Item):
    """One task of a suite: every claim it checks must pass (or have the outcome the suite expects)."""

    def __init__(self, *, task: Task | DimensionTask, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.task = task

    def runtest(self) -> None:
        assert isinstance(self.parent, SuiteFile)
        verdicts = self.parent.verdicts(self)
        for v in verdicts:
            self.user_properties.extend(properties(v))
        bad = [v for v in verdicts if v.outcome in ("violated", "inconclusive")
               or (v.expected is not None and v.outcome != "expected")]
        if bad:
            raise SuiteFailure(bad, self.parent.catalogue)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: object = None) -> str:
        if isinstance(excinfo.value, SuiteFailure):
            return excinfo.value.describe()
        if isinstance(excinfo.value, NashproofError):
            return f"error: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, self.name


def properties(v: Verdict) -> list[tuple[str, object]]:
    """A verdict as JUnit properties ``CLAIM.outcome``, ``CLAIM.margin``, ... (only those it has)."""
    fields = {"outcome": v.outcome, "method": v.method, "first_k": v.first_k, "observed": v.observed,
              "bound": v.bound, "margin": v.margin, "error": v.error, "expected": v.expected}
    return [(f"{v.claim}.{key}", value) for key, value in fields.items() if value not in (None, "")]


class SuiteFailure(Exception):
    """Verdicts that were not as expected, shown the way pytest shows a failed assertion."""

    def __init__(self, verdicts: list[Verdict], catalogue: Catalogue) -> None:
        super().__init__(f"{len(verdicts)} unexpected verdict(s)")
        self.verdicts = verdicts
        self.catalogue = catalogue

    def describe(self) -> str:
        from .claims import human

        blocks = []
        for v in self.verdicts:
            claim = self.catalogue.get(v.claim)
            expected = v.expected or "pass"
            lines = [f"{v.claim} [{v.provenance}] {v.status} ({v.method}); expected {expected}",
                     f"    claim     {human(claim.text())}",
                     f"    game      {v.game} | {v.solver} | β = {v.beta} | η = {v.eta}"]
            if v.first_k is not None:
                lines.append(f"    iterate   k = {v.first_k}" + (" (the first that fails)" if v.status == "violated"
                                                                  else " (the first undecided)"))
            if v.observed or v.bound:
                lines.append(f"    observed  {v.observed or '-'} vs bound {v.bound or '-'}")
            if v.margin or v.error:
                lines.append(f"    margin    {v.margin or '-'} (bound − observed; error or radius {v.error or '-'})")
            if v.fitted_rate or v.claimed_rate:
                lines.append(f"    rate      fitted {v.fitted_rate or '-'} vs claimed {v.claimed_rate or '-'}")
            lines.append(f"    method    {v.method}" + (f", {v.certified_at}" if v.certified_at else ""))
            note = v.note.replace(v.failed_hypothesis, human(v.failed_hypothesis)) if v.failed_hypothesis else v.note
            if note:
                lines.append(f"    note      {note}")
            blocks.append("\n".join(lines))
        return "\n".join(blocks)
