"""Terminal output: aligned tables and a progress bar that only draws on a terminal."""

from __future__ import annotations

import math
import os
import re
import shutil
import sys
import textwrap
import time
from collections.abc import Sequence
from typing import TextIO

#: Terminal output fits this many columns.
WIDTH = 100


def table(headers: Sequence[str], rows: Sequence[Sequence[str | None]], width: int = WIDTH) -> str:
    """A plain aligned text table that fits ``width`` columns.

    ``None`` cells print as ``-``; numbers are right-aligned; when the rows are too wide, the widest
    text columns are narrowed and their cells wrapped at word boundaries onto continuation lines
    (never cut mid-word; a single word longer than its column keeps its length).
    """
    cells = [[_cell(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    if not widths:
        return ""
    # The narrowest each column may become: its longest word (numbers and headers are never wrapped).
    floor = [max([len(h) if i != len(widths) - 1 else min(len(h), 10)]
                 + [len(c) if _numeric(c) else max((len(w) for w in c.split()), default=1) for c in col])
             for i, (h, col) in enumerate(zip(headers, zip(*cells) if cells else [()] * len(widths)))]
    floor = [min(f, w) for f, w in zip(floor, widths)]
    while sum(widths) + 2 * (len(widths) - 1) > width:
        wide = max(range(len(widths)), key=lambda i: (widths[i] - floor[i] > 0, widths[i]))
        if widths[wide] <= floor[wide]:
            break
        widths[wide] -= 1

    def line(row: Sequence[str], header: bool = False) -> list[str]:
        parts = [[c] if len(c) <= w or _numeric(c) else
                 textwrap.wrap(c, w, break_long_words=False, break_on_hyphens=False) or [""]
                 for c, w in zip(row, widths)]
        out = []
        for k in range(max(len(p) for p in parts)):
            texts = [p[k] if k < len(p) else "" for p in parts]
            out.append("  ".join(t.rjust(w) if _numeric(t) and not header else t.ljust(w)
                                 for t, w in zip(texts, widths)).rstrip())
        return out

    rule = "  ".join("-" * w for w in widths)
    body = [text for row in cells for text in line(row)]
    return "\n".join([*line(list(headers), header=True), rule, *body])


def wrap(text: str, width: int = WIDTH, indent: str = "", hang: str | None = None) -> str:
    """A paragraph wrapped at word boundaries to ``width`` columns (continuation lines indented by ``hang``)."""
    return textwrap.fill(text, width, initial_indent=indent, subsequent_indent=indent if hang is None else hang,
                         break_long_words=False, break_on_hyphens=False)


def _cell(value: str | None) -> str:
    return "-" if value is None or value == "None" else value


_NUMBER = re.compile(r"^[-+−]?(\d[\d,./]*|\.\d+)(e[-+]?\d+)?%?$", re.IGNORECASE)


def _numeric(cell: str) -> bool:
    return bool(_NUMBER.match(cell))


class Progress:
    """``with Progress(total, "label") as bar: bar.update(k)``.

    On a terminal, a bar redrawn in place. Otherwise (CI logs, pipes), one plain line every
    ``interval`` seconds (default 30, or the environment's ``NASHPROOF_PROGRESS_SECONDS``; 0 = silent),
    so a long run never stays quiet for minutes.
    """

    def __init__(self, total: int | None, label: str = "", stream: TextIO | None = None, force: bool = False,
                 interval: float | None = None) -> None:
        self.total = None if total is None else max(total, 1)  # None: unknown, a counter only
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = force or _isatty(self.stream)
        self.interval = _interval() if interval is None else interval
        self.enabled = self.tty or self.interval > 0
        self.start = time.monotonic()
        self._last = 0.0 if self.tty else self.start
        self._width = min(shutil.get_terminal_size((100, 24)).columns, 160) - 1

    def __enter__(self) -> Progress:
        return self

    def update(self, done: int, note: str = "") -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        elapsed = now - self.start
        if not self.tty:
            if now - self._last >= self.interval:
                self._last = now
                total = self.total
                rest = elapsed * (total - done) / done if total is not None and 0 < done < total else None
                left = f", about {_duration(rest)} left" if rest is not None else ""
                of = f"/{total}" if total is not None else ""
                self._write(f"{self.label}: {done}{of} done after {_duration(elapsed)}{left}"
                            + (f"; now {note}" if note else "") + "\n")
            return
        if now - self._last < 0.1 and (self.total is None or done < self.total):
            return
        self._last = now
        if self.total is None:
            line = f"\r{self.label} {done} {elapsed:5.1f}s {note}"
        else:
            bar = "#" * int(30 * min(done / self.total, 1.0))
            line = f"\r{self.label} [{bar:<30}] {done}/{self.total} {elapsed:5.1f}s {note}"
        self._write(line[: self._width + 1])

    def __exit__(self, *exc: object) -> None:
        if self.tty and self.enabled:
            self._write("\r" + " " * self._width + "\r")

    def _write(self, text: str) -> None:
        """Progress is a courtesy: a closed or broken stream silences it, never stops the run."""
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _interval() -> float:
    raw = os.environ.get("NASHPROOF_PROGRESS_SECONDS", "30")
    try:
        value = float(raw)
    except ValueError:
        return 30.0
    return value if math.isfinite(value) and value >= 0 else 30.0


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def html_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain HTML table with escaped cells."""
    from html import escape

    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_page(title: str, sections: Sequence[tuple[str, str]]) -> str:
    """A self-contained HTML page: each section is (heading, inner HTML)."""
    from html import escape

    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;margin:1em 0;font-size:13px}"
             "td,th{border:1px solid #ccc;padding:3px 7px;text-align:left}th{background:#f3f3f3}"
             "figure{margin:1.5em 0}figcaption{font-size:13px;color:#444}img{max-width:100%}")
    parts = "".join(f"<h2>{escape(h)}</h2>{inner}" for h, inner in sections)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{style}</style></head><body><h1>{escape(title)}</h1>{parts}</body></html>")
