"""Reading what a vendor's command writes (stdout, stderr, its log) with a cap: its head and its tail.

A client may write gigabytes; certification keeps the first and the last bytes of each stream,
counts the rest, and says in the bundle how much it skipped. Reading streams in chunks, so memory
holds at most the cap, whatever the size. The log must be a regular file: a FIFO, a device or a
directory at its path (or a symlink to one) is refused before it is opened, so it cannot block.
"""

from __future__ import annotations

import os
import selectors
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from conformance.core.errors import UsageError

CHUNK = 64 * 1024
# Kept of each of stdout and stderr, per scenario: its first and its last bytes. A client's output
# is evidence, not the subject: enough to see how it started and how it ended.
STREAM_HEAD = STREAM_TAIL = 64 * 1024
# Kept of the client's log, per scenario: bytes, and lines (short lines would otherwise be many,
# and judging pairs each line with each attempt). A correct log is one line per attempt, and the
# harness stops a scenario after a few dozen attempts: a few kilobytes, under a hundred lines.
LOG_HEAD = LOG_TAIL = 256 * 1024
LOG_HEAD_LINES, LOG_TAIL_LINES = 1000, 200
# After the command's processes are gone, a pipe still open (held by a process that escaped) is
# read at most this long more.
DRAIN_SECONDS = 1.0


@dataclass(frozen=True)
class Captured:
    """What was kept of one stream: `head` and `tail` bytes of `total`; the middle was skipped."""

    name: str
    head: bytes
    tail: bytes
    total: int
    newlines: int  # in the whole stream, so that the tail's lines keep their numbers

    @property
    def skipped(self) -> int:
        return self.total - len(self.head) - len(self.tail)

    def text(self) -> str:
        """The kept bytes as text, with a line saying how much was skipped between head and tail."""
        head = self.head.decode("utf-8", errors="replace")
        if not self.skipped:
            return head + self.tail.decode("utf-8", errors="replace")
        marker = f"\n[... {self.skipped} bytes of {self.name} skipped: {self.total} written in all ...]\n"
        return head + marker + self.tail.decode("utf-8", errors="replace")

    def line_blocks(self) -> Iterator[tuple[int, str]]:
        """(number of its first line, text) of the whole lines kept: the head's, then the tail's."""
        if not self.skipped:
            yield 1, (self.head + self.tail).decode("utf-8", errors="replace")
            return
        head = self.head[: self.head.rfind(b"\n") + 1]  # a line cut by the skip is not a line
        tail = self.tail[self.tail.find(b"\n") + 1 :] if b"\n" in self.tail else b""
        yield 1, head.decode("utf-8", errors="replace")
        yield self.newlines - tail.count(b"\n") + 1, tail.decode("utf-8", errors="replace")

    def to_json(self, *, with_text: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "bytes": self.total,
            "truncated": self.skipped > 0,
            "skipped_bytes": self.skipped,
        }
        if with_text:
            data["text"] = self.text()
        return data


class HeadTail:
    """An accumulator keeping the first `head` and the last `tail` bytes fed to it."""

    def __init__(self, name: str, head: int, tail: int) -> None:
        self._name = name
        self._head_cap, self._tail_cap = head, tail
        self._head = bytearray()
        self._tail = bytearray()
        self._total = 0
        self._newlines = 0

    def feed(self, chunk: bytes) -> None:
        self._total += len(chunk)
        self._newlines += chunk.count(b"\n")
        room = self._head_cap - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self._tail += chunk[-self._tail_cap :]
            del self._tail[: max(0, len(self._tail) - self._tail_cap)]

    def captured(self) -> Captured:
        return Captured(self._name, bytes(self._head), bytes(self._tail), self._total, self._newlines)


class PipeReader:
    """Reads a child's pipe on a thread, keeping head and tail, until EOF or `stop` and a drain."""

    def __init__(self, name: str, pipe: IO[bytes], head: int = STREAM_HEAD, tail: int = STREAM_TAIL) -> None:
        self._pipe = pipe
        self._kept = HeadTail(name, head, tail)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name=f"certify-{name}", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        fd = self._pipe.fileno()
        os.set_blocking(fd, False)
        drain_until: float | None = None
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while drain_until is None or time.monotonic() < drain_until:
                if drain_until is None and self._stop.is_set():
                    drain_until = time.monotonic() + DRAIN_SECONDS
                if not selector.select(timeout=0.1):
                    continue
                try:
                    chunk = os.read(fd, CHUNK)
                except BlockingIOError:
                    continue
                if not chunk:
                    return
                self._kept.feed(chunk)

    def finish(self) -> Captured:
        """Stop reading (after a short drain if the pipe is still open) and close; what was kept."""
        self._stop.set()
        self._thread.join()
        self._pipe.close()
        return self._kept.captured()


def read_log(path: Path, scenario: str, head: int = LOG_HEAD, tail: int = LOG_TAIL) -> Captured | None:
    """The client's log, capped; None when there is none. UsageError when it is no regular file.

    Checked before it is opened (a FIFO would block the open) and again on the open descriptor (it
    could have been swapped in between); opened non-blocking, so even then nothing can block.
    """
    try:
        kind = file_kind(path.stat().st_mode)  # follows a symlink: to a FIFO it is refused too
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _refused(path, scenario, f"cannot be read: {exc.strerror or exc}") from None
    if kind is not None:
        raise _refused(path, scenario, f"is {kind}, not a regular file")
    kept = HeadTail("log", head, tail)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        raise _refused(path, scenario, f"cannot be read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb", buffering=0) as file:
        kind = file_kind(os.fstat(fd).st_mode)
        if kind is not None:
            raise _refused(path, scenario, f"is {kind}, not a regular file")
        while chunk := file.read(CHUNK):
            kept.feed(chunk)
    return _within_lines(kept.captured(), LOG_HEAD_LINES, LOG_TAIL_LINES)


def _within_lines(kept: Captured, head_lines: int, tail_lines: int) -> Captured:
    """`kept` with at most `head_lines` lines in its head and `tail_lines` whole lines in its tail."""
    if kept.skipped:
        head, tail = _lines(kept.head), _lines(kept.tail)
    else:
        whole = _lines(kept.head)
        if len(whole) <= head_lines + tail_lines:
            return kept
        head, tail = whole[:head_lines], whole[head_lines:]
    # The tail's first piece counts as cut by the skip (`line_blocks` drops it): one more is kept.
    trimmed = b"".join(head[:head_lines]), b"".join(tail[-(tail_lines + 1) :])
    if len(trimmed[0]) + len(trimmed[1]) == len(kept.head) + len(kept.tail):
        return kept
    return Captured(kept.name, *trimmed, kept.total, kept.newlines)


def _lines(data: bytes) -> list[bytes]:
    """`data` cut after each newline (the last piece lacks one, when `data` does not end with one)."""
    pieces = data.split(b"\n")
    return [piece + b"\n" for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])


def file_kind(mode: int) -> str | None:
    """None for a regular file, else what it is, in words."""
    if stat.S_ISREG(mode):
        return None
    kinds = {
        stat.S_ISFIFO: "a FIFO (named pipe)",
        stat.S_ISDIR: "a directory",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISSOCK: "a socket",
    }
    return next((words for test, words in kinds.items() if test(mode)), "not a file")


def _refused(path: Path, scenario: str, problem: str) -> UsageError:
    return UsageError(
        path,
        f"the client's log (LA_LOG_FILE) in scenario {scenario}",
        problem,
        "write the log as a plain file at the path given (LA_LOG_FILE or {log_file}), "
        "one JSON line per attempt",
    )
