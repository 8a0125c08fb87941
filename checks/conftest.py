"""Collect every ``checks/*.toml`` suite as pytest items: one per (game, β, solver) task.

An item fails when any claim's outcome is ``violated`` or ``inconclusive`` and the suite did not
declare that outcome in its ``expect`` table. Items of a suite, ``[[run]]`` or ``[[dimension]]`` block
with ``slow = true`` carry the ``slow`` marker (deselected by default; ``python -m pytest -m slow``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nashproof.claims import builtin_catalogue
from nashproof.suite import DimensionTask, Task, load_suite, run_dimension, run_task
from nashproof.verify import Verdict


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix == ".toml":
        return SuiteFile.from_parent(parent, path=file_path)
    return None


class SuiteFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        suite = load_suite(self.path, builtin_catalogue())
        tasks: list[Task | DimensionTask] = [t for t in [*suite.tasks, *suite.dimensions]  # not included ones
                                             if Path(t.source).resolve() == self.path.resolve()]
        for task in tasks:
            item = TaskItem.from_parent(self, name=task.label, task=task)
            if task.slow:
                item.add_marker(pytest.mark.slow)
            yield item


class TaskItem(pytest.Item):
    def __init__(self, *, task: Task | DimensionTask, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.task = task

    def runtest(self) -> None:
        cat = builtin_catalogue()
        verdicts: list[Verdict] = (run_task(self.task, cat) if isinstance(self.task, Task)
                                   else [run_dimension(self.task, cat)])
        bad = [v for v in verdicts if v.outcome in ("violated", "inconclusive")
               or (v.expected is not None and v.outcome != "expected")]
        if bad:
            raise SuiteFailure(bad)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: object = None) -> str:
        if isinstance(excinfo.value, SuiteFailure):
            return "\n".join(
                f"{v.claim} [{v.provenance}]: {v.outcome} (expected {v.expected or 'pass'}) first k={v.first_k} "
                f"observed={v.observed} bound={v.bound} margin={v.margin} error={v.error} {v.note}"
                for v in excinfo.value.verdicts)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, self.name


class SuiteFailure(Exception):
    def __init__(self, verdicts: list[Verdict]) -> None:
        super().__init__(f"{len(verdicts)} unexpected verdict(s)")
        self.verdicts = verdicts
