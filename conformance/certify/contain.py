"""Running the vendor's command contained: its own session, a mark in its environment, and at the end
of the scenario every process it left behind killed, forked and `setsid` children included.

A process group alone is not enough: a child may call `setsid` (a daemon does) and leave the group,
and the shell may exit before its children. So each command gets a random mark in its environment
(`CONFORMANCE_CERTIFY_RUN`), which every descendant inherits through fork, setsid and exec, and on
Linux the sweep scans /proc for every process of its session, every descendant of it still alive,
and every process carrying the mark. Those are stopped first (SIGSTOP: a stopped process cannot
fork), the scan repeated until it finds nothing new, then all are killed. A process that both
leaves the session and clears its environment cannot be told apart there; while certify runs it
is a subreaper (PR_SET_CHILD_SUBREAPER), so such an orphan becomes its child, and is killed when
certify ends (`adopting_orphans`). Elsewhere than Linux only the process group is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from conformance.certify.capped import Captured, PipeReader

MARK = "CONFORMANCE_CERTIFY_RUN"
PROC = Path("/proc")
# A stopped command gets this long to end after SIGTERM before everything left is killed.
TERMINATE_GRACE_SECONDS = 2.0
PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER = 36, 37  # <linux/prctl.h>
# Rounds of the stop-and-scan sweep before it kills what it has (a fork bomb outrunning SIGSTOP).
SWEEP_ROUNDS = 100


@dataclass(frozen=True)
class Ended:
    """What a contained command wrote, capped."""

    stdout: Captured
    stderr: Captured


class Contained:
    """A shell command in its own session, its stdout and stderr read with caps on threads."""

    def __init__(self, command: str, *, env: Mapping[str, str], cwd: Path | None = None) -> None:
        self.mark = secrets.token_hex(16)
        self.process = subprocess.Popen(  # noqa: S602 - the vendor's command line is a shell command by design
            command,
            shell=True,
            env={**env, MARK: self.mark},
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own session and group: Ctrl-C reaches us only; we stop all of it
        )
        stdout, stderr = self.process.stdout, self.process.stderr
        if stdout is None or stderr is None:  # pragma: no cover - both are pipes, as asked above
            raise RuntimeError("the command's output pipes were not opened")
        self._readers = (PipeReader("stdout", stdout), PipeReader("stderr", stderr))

    def poll(self) -> int | None:
        return self.process.poll()

    def terminate(self) -> None:
        """SIGTERM to its process group; SIGKILL to the group if it has not ended within the grace."""
        for sig, wait in ((signal.SIGTERM, TERMINATE_GRACE_SECONDS), (signal.SIGKILL, None)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def end(self) -> Ended:
        """Kill whatever of it is left (group, session, descendants, marked), then collect its output."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        sweep(self.mark, self.process.pid)
        self.process.wait()
        stdout, stderr = (reader.finish() for reader in self._readers)
        return Ended(stdout, stderr)


def sweep(mark: str, session: int) -> set[int]:
    """Stop, then kill, every process of `session`, descending from it, or carrying `mark`; their pids."""
    needle = f"{MARK}={mark}".encode()

    def members(table: Mapping[int, _Proc]) -> set[int]:
        return {
            pid
            for pid, proc in table.items()
            if proc.session == session or _descends(pid, session, table) or needle in _environ(pid)
        }

    return _stop_then_kill(members)


@contextlib.contextmanager
def adopting_orphans() -> Iterator[None]:
    """While inside, on Linux, orphans of the commands' processes become our children, not init's
    (PR_SET_CHILD_SUBREAPER); on the way out, every process adopted since (and its descendants) is
    killed and reaped. A process that left its session and cleared its environment, which `sweep`
    cannot tell from any other, does not outlive certify: it is ours by adoption.
    """
    previous = _subreaper(True)
    if previous is None:
        yield
        return
    begin = _ticks_now()
    try:
        yield
    finally:
        try:
            killed = _stop_then_kill(lambda table: _adopted(table, begin))
            _reap(killed | _adopted(_processes(zombies=True), begin))  # and those that died by themselves
        finally:
            _subreaper(previous)


def _adopted(table: Mapping[int, _Proc], begin: int) -> set[int]:
    """Our children started since `begin` (clock ticks since boot), and their descendants."""
    me = os.getpid()
    roots = {pid for pid, proc in table.items() if proc.parent == me and proc.started >= begin}
    return roots | {pid for pid in table for root in roots if _descends(pid, root, table)}


def _stop_then_kill(find: Callable[[Mapping[int, _Proc]], set[int]]) -> set[int]:
    """SIGSTOP what `find` picks from the live processes (a stopped process cannot fork) until a scan
    finds nothing new, then SIGKILL them all; their pids. Nothing on a system without /proc."""
    if not PROC.is_dir():
        return set()
    found: set[int] = set()
    for _ in range(SWEEP_ROUNDS):
        new = find(_processes()) - found - {os.getpid()}
        if not new:
            break
        for pid in new:
            _signal(pid, signal.SIGSTOP)
        found |= new
    for pid in found:
        _signal(pid, signal.SIGKILL)
    return found


def _reap(pids: set[int]) -> None:
    """Collect the exit status of those of `pids` that are our children (adopted), so no zombie stays."""
    deadline = time.monotonic() + TERMINATE_GRACE_SECONDS
    pending = set(pids)
    while pending and time.monotonic() < deadline:
        for pid in list(pending):
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # not ours, or already collected
                done = pid
            if done:
                pending.discard(pid)
        if pending:
            time.sleep(0.01)


@dataclass(frozen=True)
class _Proc:
    parent: int
    session: int
    started: int  # clock ticks since boot


def _processes(*, zombies: bool = False) -> dict[int, _Proc]:
    """Every live process by pid; zombies (nothing in them to kill) only when asked."""
    table = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(entry)
        if fields is None or (fields[0] == "Z" and not zombies):
            continue
        table[int(entry.name)] = _Proc(parent=int(fields[1]), session=int(fields[3]), started=int(fields[19]))
    return table


def _ticks_now() -> int:
    """Clock ticks since boot, the unit of a process's start time in /proc/PID/stat."""
    uptime = float((PROC / "uptime").read_text().split()[0])
    return int(uptime * os.sysconf("SC_CLK_TCK"))


def _subreaper(on: bool) -> bool | None:
    """Set whether we adopt orphaned descendants; what it was before, None where it cannot be set."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    before = ctypes.c_int()
    if prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(before), 0, 0, 0) != 0:
        return None
    if prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) != 0:
        return None
    return bool(before.value)


def _stat(entry: Path) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name: state, ppid, pgrp, session, ..."""
    try:
        raw = (entry / "stat").read_bytes()
    except OSError:
        return None
    return raw[raw.rfind(b")") + 2 :].decode("ascii", errors="replace").split()


def _environ(pid: int) -> list[bytes]:
    """The environment a process started with, as NAME=VALUE entries; empty when we may not read it."""
    try:
        return (PROC / str(pid) / "environ").read_bytes().split(b"\0")
    except OSError:  # another user's process, or gone
        return []


def _descends(pid: int, ancestor: int, table: Mapping[int, _Proc]) -> bool:
    seen = set()
    while pid in table and pid not in seen:
        seen.add(pid)
        pid = table[pid].parent
        if pid == ancestor:
            return True
    return False


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)
