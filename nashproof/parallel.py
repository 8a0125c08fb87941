"""Embarrassingly parallel maps: in this process, in local worker processes, or on a Dask cluster.

Results never depend on the number of workers: tasks are independent, each one is seeded by its
own identity (:func:`task_seed`), and results come back in task order. ``--dask ADDRESS`` needs the
optional extra ``nashproof[dask]`` (dask.distributed) and an existing scheduler; the functions and
tasks sent must be importable and picklable on the workers (module-level functions, dataclasses).
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from .errors import InputError

T = TypeVar("T")
R = TypeVar("R")


def task_seed(*identity: object) -> int:
    """A 32-bit seed from a task's identity (its parameters), the same on every machine and run."""
    return int.from_bytes(hashlib.sha256(repr(identity).encode()).digest()[:4], "big")


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def check_jobs(jobs: int | None) -> int:
    if jobs is None:
        return default_jobs()
    if jobs < 1:
        raise InputError(f"--jobs must be ≥ 1, got {jobs}")
    return jobs


def pmap(fn: Callable[[T], R], items: Sequence[T], jobs: int | None = None, dask: str | None = None,
         on_done: Callable[[int], None] | None = None) -> list[R]:
    """``[fn(x) for x in items]``, spread over ``jobs`` processes or the Dask scheduler at ``dask``.

    ``on_done(count)`` is called in this process as results arrive. Exceptions raised by a task are
    re-raised here (the first to fail). On SIGTERM the local workers are terminated with the command
    (and a worker whose parent dies is sent SIGTERM by the kernel, on Linux).
    """
    if dask is not None:
        return _dask_map(fn, items, dask, on_done)
    workers = min(check_jobs(jobs), len(items))
    if workers <= 1:
        out = []
        for i, x in enumerate(items):
            out.append(fn(x))
            if on_done is not None:
                on_done(i + 1)
        return out
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    results: list[R | None] = [None] * len(items)
    with _terminated_on_sigterm(), ctx.Pool(workers, initializer=_worker_init) as pool:  # exit: terminate()
        indexed = pool.imap_unordered(_call_indexed, [(fn, i, x) for i, x in enumerate(items)])
        for done, (i, r) in enumerate(indexed, 1):
            results[i] = r
            if on_done is not None:
                on_done(done)
    return _all(results)


def _call_indexed(item: tuple[Callable[[T], R], int, T]) -> tuple[int, R]:
    fn, i, x = item
    return i, fn(x)


def _worker_init() -> None:
    """A pool worker: default SIGTERM, and SIGTERM from the kernel when its parent dies (Linux)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which terminates the pool
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the parent's SIGTERM handler still ends the pool
        pass


class _Terminated(SystemExit):
    """Raised in the main process on SIGTERM, so that the pool's context manager terminates the workers."""


@contextlib.contextmanager
def _terminated_on_sigterm() -> Iterator[None]:
    """SIGTERM raises :class:`_Terminated` (exit status 128 + 15) while the block runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise _Terminated(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _all(results: list[R | None]) -> list[R]:
    out: list[R] = []
    for r in results:
        assert r is not None
        out.append(r)
    return out


def _dask_map(fn: Callable[[T], R], items: Sequence[T], address: str,
              on_done: Callable[[int], None] | None) -> list[R]:
    try:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise InputError("--dask needs the optional extra: pip install 'nashproof[dask]'") from None
    client = _connect(Client, address)
    try:
        futures = client.map(fn, list(items), pure=False)
        if on_done is not None:
            for done, _ in enumerate(dask_completed(futures), 1):  # type: ignore[no-untyped-call]
                on_done(done)
        gathered: list[R] = client.gather(futures)
        return list(gathered)
    finally:
        client.close()


#: Seconds to wait for a Dask scheduler's handshake (an HTTP server or a silent listener never answers).
DASK_CONNECT_SECONDS = 3


def _connect(client_cls: Callable[..., Any], address: str) -> Any:
    """A Dask client, or one :class:`InputError` when the address does not answer as a scheduler in time.

    dask.distributed's own timeout does not cover a peer that accepts the connection but never speaks
    the protocol; the client is therefore made in a daemon thread with a deadline.
    """
    box: dict[str, Any] = {}

    def make() -> None:
        try:
            box["client"] = client_cls(address, timeout=f"{DASK_CONNECT_SECONDS}s")
        except BaseException as exc:  # reported below, in this thread
            box["error"] = exc

    thread = threading.Thread(target=make, name="dask-connect", daemon=True)
    thread.start()
    thread.join(DASK_CONNECT_SECONDS + 1)
    if thread.is_alive():
        raise InputError(f"cannot reach the Dask scheduler at {address}: no scheduler answered within "
                         f"{DASK_CONNECT_SECONDS} s (is the address a Dask scheduler, e.g. tcp://host:8786?)")
    if "error" in box:
        exc = box["error"]
        raise InputError(f"cannot reach the Dask scheduler at {address}: {type(exc).__name__}: {exc}") from None
    return box["client"]


# ------------------------------------------------------------------ check suites


def run_check_tasks(tasks: Sequence[object], catalogue: object, claim_modules: Sequence[str], jobs: int | None = None,
                    dask: str | None = None, on_done: Callable[[int], None] | None = None) -> list[list[object]]:
    """``[run_task(t, catalogue) for t in tasks]``; workers rebuild the catalogue from ``claim_modules``."""
    from .suite import run_task

    if dask is None and min(check_jobs(jobs), len(tasks)) <= 1:
        out: list[list[object]] = []
        for i, t in enumerate(tasks):
            out.append(list(run_task(t, catalogue)))  # type: ignore[arg-type]
            if on_done is not None:
                on_done(i + 1)
        return out
    return pmap(_check_worker, [(t, tuple(claim_modules)) for t in tasks], jobs, dask, on_done)


_CATALOGUES: dict[tuple[str, ...], object] = {}


def _check_worker(item: tuple[object, tuple[str, ...]]) -> list[object]:
    from .claims import builtin_catalogue
    from .suite import run_task

    task, modules = item
    cat = _CATALOGUES.get(modules)
    if cat is None:
        cat = builtin_catalogue()
        for m in modules:
            cat.load(m)
        _CATALOGUES[modules] = cat
    return list(run_task(task, cat))  # type: ignore[arg-type]
