"""Size limits from memory: estimate what a command will allocate and refuse, with the estimate, when
it does not fit.

Every command that takes a game asks :func:`require_fits` before it starts. The estimate is bytes
per preference entry (n² per context, measured peak resident memory over the loaded game, see
:data:`BYTES_PER_ENTRY`) plus a term per stored iterate, against what the machine can give: the
kernel's ``MemAvailable`` (``/proc/meminfo``, else ``os.sysconf``), and the address-space limit
``RLIMIT_AS`` when one is set. The game itself is already loaded when the check runs (its size is
bounded by ``MAX_ACTIONS`` when it is parsed).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from .errors import InputError

#: Peak bytes per preference entry above the loaded game, per backend, at 50 digits (measured with
#: ``ru_maxrss`` on random games: balls 312–395 for π*_β and a certified run with every metric at
#: n = 256–1024, float64 56–57 at n = 1024–2048, mpmath 90–134 at n = 128–256), rounded up.
BYTES_PER_ENTRY = {"arb": 420, "mpmath": 160, "float": 72, "winner": 400}
#: Extra bytes per entry for each bit of working precision above 64 (ball midpoints and mpmath
#: mantissas are stored per entry; balls measured 615 at 1677 bits and 659 at 6660 bits per entry,
#: so this over-estimates at high precision rather than under).
BYTES_PER_ENTRY_BIT = {"arb": 0.2, "mpmath": 0.25, "float": 0.0, "winner": 0.0}
#: Bytes per stored scalar of a trajectory (policies, products, metrics: about 8 vectors per step).
BYTES_PER_SCALAR = {"arb": 120, "mpmath": 120, "float": 8, "winner": 0}
VECTORS_PER_STEP = 8
#: Fixed overhead of a command beyond the interpreter (imports such as scipy for β = 0).
BASE_BYTES = 64 << 20
#: Keep this share of the available memory free (other processes, allocator slack).
HEADROOM = 0.85


@dataclass(frozen=True)
class Estimate:
    """Bytes a command will need and bytes the machine offers (None: unknown, nothing is refused)."""

    needed: int
    available: int | None

    @property
    def fits(self) -> bool:
        return self.available is None or self.needed <= self.available * HEADROOM


def estimate_bytes(n: int, contexts: int, backend: str, digits: int = 50, steps: int = 0) -> int:
    """Peak bytes a command on an n-action game with ``contexts`` contexts needs in ``backend``.

    ``backend`` is ``arb``, ``mpmath``, ``float`` or ``winner`` (β = 0); ``steps`` iterates are kept.
    """
    if backend not in BYTES_PER_ENTRY:
        raise ValueError(f"unknown backend {backend!r}")
    bits = math.ceil(digits * math.log2(10)) + 16
    per_entry = BYTES_PER_ENTRY[backend] + BYTES_PER_ENTRY_BIT[backend] * max(0, bits - 64)
    per_scalar = BYTES_PER_SCALAR[backend] + (bits / 8 if backend in ("arb", "mpmath") else 0)
    trajectory = (steps + 1) * VECTORS_PER_STEP * n * contexts * per_scalar
    return int(BASE_BYTES + per_entry * n * n * contexts + trajectory)


def available_bytes() -> int | None:
    """Memory this process may still allocate: MemAvailable, capped by RLIMIT_AS minus what is mapped."""
    avail = _meminfo_available()
    limit = _address_space_left()
    if avail is None:
        return limit
    return avail if limit is None else min(avail, limit)


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, AttributeError):
        return None


def _address_space_left() -> int | None:
    try:
        import resource
    except ImportError:  # not on POSIX
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    mapped = 0
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    mapped = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return max(0, soft - mapped)


def check_size(n: int, contexts: int, backend: str, digits: int = 50, steps: int = 0) -> Estimate:
    """The estimate for a command, against the memory available now."""
    return Estimate(estimate_bytes(n, contexts, backend, digits, steps), available_bytes())


def require_fits(n: int, contexts: int, backend: str, digits: int = 50, steps: int = 0,
                 what: str = "this command") -> Estimate:
    """Raise :class:`InputError` (exit 2) with the estimate when the command would not fit in memory."""
    est = check_size(n, contexts, backend, digits, steps)
    if not est.fits:
        assert est.available is not None
        hint = "; use --backend float for larger games" if backend in ("arb", "mpmath") else ""
        raise InputError(f"{what} on {n} actions × {contexts} context(s) needs about {_gb(est.needed)} of memory "
                         f"and {_gb(int(est.available * HEADROOM))} is available{hint}")
    return est


def _gb(x: int) -> str:
    return f"{x / 2**30:.1f} GB" if x >= 2**30 else f"{x / 2**20:.0f} MB"
