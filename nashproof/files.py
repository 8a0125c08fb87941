"""Reading and writing the user's files safely: regular files only, size-limited, checked up front.

A FIFO, a device (``/dev/zero``), a directory or a file larger than the limit is refused with one
``error:`` line instead of being read forever; output paths are checked *before* a long run.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .errors import InputError

#: Largest input file read (game files, suites, traces), in bytes.
MAX_FILE_BYTES = 64 * 1024 * 1024


def read_text(path: str | Path, what: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``max_bytes`` bytes, or an :class:`InputError`."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError(f"{what} not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {what} {path}: {_reason(exc)}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{what} {path} is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{what} {path} is not a regular file (a FIFO, device or socket); give a regular file")
    if st.st_size > max_bytes:
        raise InputError(f"{what} {path} has {st.st_size} bytes, more than the limit of {max_bytes}")
    try:
        # O_NONBLOCK: if the path was swapped for a FIFO after stat(), open() must not wait for a writer.
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise InputError(f"{what} {path} is not a regular file; give a regular file")
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {_reason(exc)}") from None
    if len(raw) > max_bytes:
        raise InputError(f"{what} {path} is larger than the limit of {max_bytes} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{what} {path} is not UTF-8 text (a binary file?)") from None


def _no_broken_link(p: Path, what: str) -> None:
    """Refuse a symbolic link that leads nowhere (dangling) or to itself (a loop), and a path that cannot be
    examined at all (too long, a loop in a parent, a NUL byte)."""
    try:
        if p.is_symlink():
            os.stat(p)  # follows the link: FileNotFoundError (dangling) or ELOOP (a loop)
        else:
            os.lstat(p.parent if str(p.parent) else ".")
    except FileNotFoundError:
        if p.is_symlink():
            raise InputError(f"{what} {p} is a symbolic link to a missing file (a dangling link)") from None
    except (OSError, ValueError) as exc:
        if isinstance(exc, OSError) and exc.errno == errno.ELOOP:
            raise InputError(f"{what} {p} is a loop of symbolic links") from None
        raise InputError(f"{what} {p}: {_reason(exc)}") from None


def check_output_file(path: str, what: str, suffixes: tuple[str, ...] = ()) -> Path:
    """Fail now, not after the run, if ``path`` cannot be written: its directory must exist and be writable,
    and it must not be a dangling symbolic link or a loop of links."""
    p = Path(path)
    if suffixes and p.suffix.lower() not in suffixes:
        raise InputError(f"{what} {path} must end in {' or '.join(suffixes)}")
    _no_broken_link(p, what)
    if not path or p.is_dir():
        raise InputError(f"{what} {path!r} is a directory; give a file name")
    if p.exists() and not p.is_file():
        raise InputError(f"{what} {path} exists and is not a regular file")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"{what} {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise InputError(f"{what} {path}: permission denied")
    return p


def check_output_dir(path: str, what: str) -> Path:
    """Fail now if ``path`` cannot become a writable directory (created later, with its parents)."""
    p = Path(path)
    if not path:
        raise InputError(f"{what}: empty directory name")
    _no_broken_link(p, what)
    if p.exists() and not p.is_dir():
        raise InputError(f"{what} {path} exists and is not a directory")
    probe = p
    while not probe.exists():
        _no_broken_link(probe, what)
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise InputError(f"{what} {path}: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"{what} {path}: permission denied in {probe}")
    return p


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
