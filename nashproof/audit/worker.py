"""Run an audited candidate in a separate worker process, so that it cannot control the audit.

The worker is a forked child with a memory limit (``resource.setrlimit``), a fresh temporary working
directory, its own process group, its own standard streams (files in that directory: nothing it writes
to fd 1 or 2 reaches the auditor's output, ``--json`` included) and no other descriptor of the parent
but its pipe. On Linux it asks the kernel (``prctl(PR_SET_PDEATHSIG, SIGKILL)``) to be killed when the
auditor dies, so a SIGKILL of ``nashproof audit`` leaves no worker behind. The parent sends
requests (pickled: the parent trusts itself) and reads answers as a JSON header plus raw float64
bytes, never a pickle: the child is untrusted, and what it sends is parsed, then validated again
here. Each call has a hard time limit: on expiry the whole process group is killed with SIGKILL,
which a candidate cannot catch or ignore, and a fresh worker is started for the next call.
``sys.exit`` or ``os._exit`` in the candidate ends (at most) the worker; the parent's report and
exit code are computed only in the parent.

Not covered: the candidate still runs as the same user, so it can write files elsewhere, open
network connections, or start processes in a new session that outlive the kill.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import multiprocessing as mp
import os
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType

import numpy as np
import numpy.typing as npt

from ..errors import InputError

F64 = npt.NDArray[np.float64]
Update = Callable[..., object]
#: Largest answer accepted from the worker (bytes): far above any audited array.
MAX_ANSWER = 1 << 22


class PreferenceOracle:
    """What a sampling candidate receives instead of P: draws of "y beats y′", never P itself.

    ``compare(y, y2)`` is 1 with probability P(y ≻ y2); ``compare_many(ys, ys2)`` does it for arrays
    of indices; ``n`` is the number of actions. Batched calls receive one oracle per context.
    """

    def __init__(self, P: F64, rng: np.random.Generator) -> None:
        self._P = P
        self._rng = rng
        self.n = P.shape[0]
        self.queries = 0

    def compare(self, y: int, y2: int) -> int:
        self.queries += 1
        return int(self._rng.random() < self._P[int(y), int(y2)])

    def compare_many(self, ys: npt.ArrayLike, ys2: npt.ArrayLike) -> npt.NDArray[np.int64]:
        a, b = np.asarray(ys, dtype=np.int64), np.asarray(ys2, dtype=np.int64)
        self.queries += int(a.size)
        return (self._rng.random(a.shape) < self._P[a, b]).astype(np.int64)


# ------------------------------------------------------------------ child side


def _load(spec: str, cwd: str) -> Update:
    from ..plugins import import_user_module

    target, sep, name = spec.rpartition(":")
    if not sep or not target or not name:
        raise InputError(f"--solver must look like path/to/file.py:update or package.module:update, got {spec!r}")
    path = Path(target) if Path(target).is_absolute() else Path(cwd) / target
    if target.endswith(".py") or path.is_file():
        if path.is_dir():
            raise InputError(f"solver module is a directory: {target}")
        sys.path.insert(0, str(path.resolve().parent))  # a solver file may import modules beside it
        module: ModuleType = import_user_module(str(path), "solver module")
    else:
        sys.path.insert(0, cwd)
        module = import_user_module(target, "solver module")
    fn = getattr(module, name, None)
    if not callable(fn):
        raise InputError(f"{target} has no callable {name!r}")
    return fn  # type: ignore[no-any-return]


def _accepts(fn: Update) -> set[str]:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return set()
    names = {p.name for p in params.values() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        names |= {"t", "state"}
    return names & {"t", "state"}


def _as_array(raw: object) -> tuple[npt.NDArray[np.generic] | None, str]:
    """The candidate's output as a numpy array of its own dtype, or a problem."""
    obj = raw
    for attr in ("detach", "cpu"):  # torch tensors, even ones that require grad
        method = getattr(obj, attr, None)
        if callable(method):
            obj = method()
    to_numpy = getattr(obj, "numpy", None)
    if not isinstance(obj, np.ndarray) and callable(to_numpy):
        obj = to_numpy()
    arr = np.asarray(obj)
    kind = arr.dtype.kind
    if kind == "c":
        return None, "returned complex values"
    if kind == "O":
        if any(isinstance(x, int) and not isinstance(x, bool) for x in arr.ravel().tolist()):
            return None, "returned integers too large for any float type (overflow)"
        return None, f"returned objects ({type(raw).__name__}), not a numeric array"
    if kind in "iu":
        return arr.astype(np.float64), ""
    if kind != "f":
        return None, f"returned an array of dtype {arr.dtype}, not floating point"
    if arr.dtype.itemsize < 4:
        return None, f"returned {arr.dtype}: too few digits to audit (float32 or float64 needed)"
    return arr, ""


def _reply(conn: Connection, header: dict[str, object], payload: bytes = b"") -> None:
    conn.send_bytes(json.dumps(header).encode() + b"\n" + payload)


def _die_with_parent(parent: int) -> None:
    """Linux: SIGKILL this process when the parent dies (then check the parent did not die already)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    if os.getppid() != parent:
        os._exit(0)


def _own_streams(conn: Connection, work: str) -> None:
    """fd 0 from /dev/null, fd 1 and 2 to files of the worker's directory; every other inherited
    descriptor but the pipe closed (the parent's stdout may hide behind a duplicate)."""
    fd_in = os.open(os.devnull, os.O_RDONLY)
    fd_out = os.open(os.path.join(work, "stdout"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    fd_err = os.open(os.path.join(work, "stderr"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for src, dst in ((fd_in, 0), (fd_out, 1), (fd_err, 2)):
        os.dup2(src, dst)
    keep = conn.fileno()
    os.closerange(3, keep)
    os.closerange(keep + 1, max(keep + 1, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 4096))


def _child(conn: Connection, target: Update | str, cwd: str, work: str, memory_mb: int, seed: int,
           parent: int) -> None:
    try:
        os.setpgid(0, 0)
        _die_with_parent(parent)
        _own_streams(conn, work)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        limit = memory_mb * 1024 * 1024
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        os.chdir(work)
        random.seed(seed)
        np.random.seed(seed % 2**32)
        rng = np.random.default_rng(seed)
        try:
            fn = _load(target, cwd) if isinstance(target, str) else target
        except InputError as exc:
            _reply(conn, {"load_error": str(exc)})
            return
        except BaseException as exc:
            _reply(conn, {"load_error": f"cannot import solver module: {type(exc).__name__}: {exc}"})
            return
        if "torch" in sys.modules:
            with contextlib.suppress(Exception):
                sys.modules["torch"].manual_seed(seed)
        accepts = _accepts(fn)
        _reply(conn, {"ready": True, "accepts": sorted(accepts)})
        states: dict[str, object] = {}
        while True:
            req = conn.recv()
            if req is None:
                return
            slot, pi, P, ref, beta, eta, t, sampled = req
            if sampled:
                P_arg: object = ([PreferenceOracle(p, rng) for p in P] if P.ndim == 3 else PreferenceOracle(P, rng))
            else:
                P_arg = P
            kwargs: dict[str, object] = {}
            if "t" in accepts:
                kwargs["t"] = t
            if "state" in accepts:
                kwargs["state"] = states.get(slot) if slot else None
            try:
                raw = fn(pi, P_arg, ref, beta, eta, **kwargs)
            except BaseException as exc:  # SystemExit and KeyboardInterrupt included: reported, not obeyed
                _reply(conn, {"problem": f"raised {type(exc).__name__}: {str(exc)[:120]}"})
                continue
            if "state" in accepts and isinstance(raw, tuple) and len(raw) == 2:
                raw, new_state = raw
                if slot:
                    states[slot] = new_state
            try:
                arr, problem = _as_array(raw)
            except BaseException as exc:
                arr, problem = None, f"returned something that is not a numeric array ({type(exc).__name__})"
            if arr is None:
                _reply(conn, {"problem": problem})
                continue
            dtype = "float32" if arr.dtype == np.float32 else "float64"
            out = np.ascontiguousarray(arr, dtype=np.float64)
            _reply(conn, {"shape": list(out.shape), "dtype": dtype}, out.tobytes())
    except BaseException:
        pass
    finally:
        os._exit(0)


# ------------------------------------------------------------------ parent side


@dataclass
class Answer:
    out: F64 | None
    problem: str | None
    dtype: str = "float64"
    fatal: bool = False  # the worker had to be killed (a hang) or died
    budget: bool = False  # the audit's total time budget ran out


class Worker:
    """A candidate behind a process boundary: ``call`` returns a validated array or a problem."""

    def __init__(self, target: Update | str, timeout: float, memory_mb: int = 4096, seed: int = 0,
                 load_timeout: float = 50.0, budget: float = math.inf) -> None:
        self.target = target
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.seed = seed
        self.load_timeout = max(load_timeout, timeout)
        self.cwd = os.getcwd()
        self.workdir = tempfile.mkdtemp(prefix="nashproof-audit-")
        self.accepts: set[str] = set()
        self.died = False
        self.calls = 0
        self.restarts = 0
        self._proc: mp.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._start()
        self.deadline = time.monotonic() + budget  # the calls' budget starts once the module is loaded

    def _start(self) -> None:
        ctx = mp.get_context("fork")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_child, args=(child, self.target, self.cwd, self.workdir, self.memory_mb,
                                                self.seed + 7919 * self.restarts, os.getpid()), daemon=True)
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        header, _ = self._read(self.load_timeout)
        if header is None:
            self.close()
            raise InputError("the solver module did not load: the worker process "
                             + ("timed out" if self._proc is None else "died") + " while importing it")
        if "load_error" in header:
            self.close()
            raise InputError(str(header["load_error"])[:400])
        acc = header.get("accepts")
        self.accepts = {a for a in acc if a in ("t", "state")} if isinstance(acc, list) else set()

    def _read(self, timeout: float) -> tuple[dict[str, object] | None, bytes]:
        conn = self._conn
        assert conn is not None
        self.died = False
        try:
            if not conn.poll(timeout):
                self._kill()
                return None, b""
            data = conn.recv_bytes(MAX_ANSWER)
        except (EOFError, OSError):
            self.died = True
            self._kill()
            return None, b""
        head, _, payload = data.partition(b"\n")
        try:
            header = json.loads(head.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return {"problem": "the worker sent an unreadable answer"}, b""
        if not isinstance(header, dict):
            return {"problem": "the worker sent an unreadable answer"}, b""
        return header, payload

    def _kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.join(5)
        if self._conn is not None:
            self._conn.close()
        self._proc, self._conn = None, None

    def close(self) -> None:
        if self._conn is not None and self._proc is not None:
            with contextlib.suppress(OSError, ValueError):
                self._conn.send(None)
            self._proc.join(0.5)
        self._kill()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, pi: F64, P: F64, ref: F64, beta: float, eta: float, t: int = 0, slot: str = "",
             sampled: bool = False) -> Answer:
        """One call; ``pi``/``ref`` of shape (n,) or (k, n), ``P`` of shape (n, n) or (k, n, n)."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            return Answer(None, "the audit's time budget ran out", fatal=True, budget=True)
        if self._conn is None:
            self.restarts += 1
            self._start()
        assert self._conn is not None
        self.calls += 1
        try:
            self._conn.send((slot, pi.copy(), P.copy(), ref.copy(), beta, eta, t, sampled))
        except (OSError, ValueError):
            self._kill()
            return Answer(None, "the worker process died", fatal=True)
        header, payload = self._read(min(self.timeout, left))
        if header is None:
            if left < self.timeout and not self.died:
                return Answer(None, "the audit's time budget ran out", fatal=True, budget=True)
            if self.died:
                return Answer(None, "the worker process ended during the call (the candidate exited or crashed)",
                              fatal=True)
            return Answer(None, f"did not return within {self.timeout:g} s (killed)", fatal=True)
        if "problem" in header:
            return Answer(None, str(header["problem"])[:200])
        shape = header.get("shape")
        dtype = header.get("dtype")
        if (not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape)
                or dtype not in ("float32", "float64")):
            return Answer(None, "the worker sent an unreadable answer")
        if tuple(shape) != pi.shape:
            return Answer(None, f"returned shape {tuple(shape)}, expected {pi.shape}")
        if len(payload) != 8 * int(np.prod(shape)):
            return Answer(None, "the worker sent an unreadable answer")
        out = np.frombuffer(payload, dtype=np.float64).reshape(pi.shape).copy()
        problem = validate(out, 2.0**-23 if dtype == "float32" else 2.0**-52)
        return Answer(None if problem else out, problem, str(dtype))


def validate(out: F64, u: float) -> str | None:
    """A distribution per row, up to rounding at unit roundoff ``u``, with full support."""
    if not np.all(np.isfinite(out)):
        return "returned NaN or infinite entries"
    if np.any(out < 0):
        return f"returned a negative probability ({out.min():.3g})"
    n = out.shape[-1]
    totals = np.atleast_1d(out.sum(axis=-1))
    worst = float(np.max(np.abs(totals - 1)))
    if worst > 64 * n * max(u, 2.0**-23):  # a sanity check: conformance judges the precision
        return f"returned probabilities summing to {float(totals[np.argmax(np.abs(totals - 1))])!r}, not 1"
    if np.any(out == 0):
        return "returned a zero probability (the maps keep full support)"
    return None
