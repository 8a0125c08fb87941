"""The runner (nashproof.parallel): a scheduler that never answers is one error line; SIGTERM ends the workers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from nashproof.cli import main
from nashproof.parallel import pmap


def _square(x: int) -> int:
    return x * x


def test_pool_results_in_order_and_independent_of_jobs() -> None:
    xs = list(range(23))
    assert pmap(_square, xs, jobs=2) == pmap(_square, xs, jobs=1) == [x * x for x in xs]


def test_dask_address_that_never_answers_is_one_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("dask.distributed")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    accepted: list[socket.socket] = []

    def accept() -> None:  # a silent listener: accepts, never speaks
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        port = server.getsockname()[1]
        code = main(["check", "--game", "rps", "--solver", "nash-mp", "--beta", "1/10", "--eta", "1", "--steps", "2",
                     "--claim", "NMP-KL", "--dask", f"tcp://127.0.0.1:{port}"])
    finally:
        server.close()
        for c in accepted:
            c.close()
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: cannot reach the Dask scheduler")


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc (Linux)")
def test_sigterm_of_check_ends_its_pool_workers() -> None:
    workers: list[int] = []
    proc = subprocess.Popen([sys.executable, "-m", "nashproof", "check", "--jobs", "2"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):  # wait (≤ 60 s) until the pool has started
            workers = _children(proc.pid)
            if len(workers) >= 2 or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert len(workers) >= 2, "the pool never started"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        for _ in range(100):
            alive = [w for w in workers if Path(f"/proc/{w}").exists()
                     and "Z" not in Path(f"/proc/{w}/stat").read_text().split()[2]]
            if not alive:
                break
            time.sleep(0.1)
        assert not alive, f"workers {alive} outlived the command"
    finally:  # never leave this test's processes behind, whatever happened
        for pid in [proc.pid, *workers]:
            if Path(f"/proc/{pid}").exists():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=60)
