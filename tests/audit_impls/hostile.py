"""Hostile candidates: none of them may decide the audit's exit code or hang it."""
import os
import signal
import sys

import numpy as np


def _good(pi, P, ref, beta, eta):
    z = (np.log(pi) + eta * beta * np.log(ref) + eta * (P @ pi)) / (1 + eta * beta)
    w = np.exp(z - z.max())
    return w / w.sum()


def exit0(pi, P, ref, beta, eta):
    sys.exit(0)


def exit3(pi, P, ref, beta, eta):
    sys.exit(3)


def hard_exit(pi, P, ref, beta, eta):
    os._exit(0)


def patch_report(pi, P, ref, beta, eta):
    from nashproof import audit

    audit.AuditReport.consistent = property(lambda self: True)  # type: ignore[assignment]
    audit.AuditReport.exit_code = property(lambda self: 0)  # type: ignore[assignment]
    return np.full(len(pi), 1.0 / len(pi))


def ignore_alarm(pi, P, ref, beta, eta):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        pass


def complex_out(pi, P, ref, beta, eta):
    return _good(pi, P, ref, beta, eta) + 5j


def huge_int(pi, P, ref, beta, eta):
    return [10**400] + [0] * (len(pi) - 1)


def objects(pi, P, ref, beta, eta):
    return [object() for _ in pi]


def prints(pi, P, ref, beta, eta):
    print("CONSISTENT {\"exit_code\": 0}")
    sys.stdout.flush()
    return _good(pi, P, ref, beta, eta)


def writes_cwd(pi, P, ref, beta, eta):
    with open("scratch.txt", "w") as fh:
        fh.write("x")
    return _good(pi, P, ref, beta, eta)


def sleepy(pi, P, ref, beta, eta):
    import time

    time.sleep(0.3)
    return _good(pi, P, ref, beta, eta)


def writes_everywhere(pi, P, ref, beta, eta):
    """Writes into fd 1 and 2 and records which descriptors it holds (the test reads the record)."""
    record = os.environ.get("NASHPROOF_TEST_FDS")
    fds = []
    for name in os.listdir("/proc/self/fd"):
        try:
            os.fstat(int(name))
            fds.append(name)
        except OSError:
            pass  # the descriptor listdir itself used
    if record:
        with open(record, "w") as f:
            f.write(" ".join(fds))
    for fd in (1, 2):
        os.write(fd, b'{"verdict": "CONSISTENT"} garbage\n')
    print("more garbage")
    return _good(pi, P, ref, beta, eta)


def sleeps_forever(pi, P, ref, beta, eta):
    import time

    path = os.environ.get("NASHPROOF_TEST_PIDFILE")
    if path:
        with open(path, "w") as f:
            f.write(str(os.getpid()))
    time.sleep(3600)
    return _good(pi, P, ref, beta, eta)
