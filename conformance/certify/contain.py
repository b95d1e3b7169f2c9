"""Running the vendor's command contained: its own session, a mark in its environment, and at the end
of the scenario every process it left behind killed, forked and `setsid` children included.

A process group alone is not enough: a child may call `setsid` (a daemon does) and leave the group,
and the shell may exit before its children. So each command gets a random mark in its environment
(`CONFORMANCE_CERTIFY_RUN`), which every descendant inherits through fork, setsid and exec, and on
Linux the sweep scans /proc for every process of its session, every descendant of it still alive,
and every process carrying the mark. Those are stopped first (SIGSTOP: a stopped process cannot
fork), the scan repeated until it finds nothing new, then all are killed. A process that both
leaves the session and clears its environment is not found (a cgroup would be needed); elsewhere
than Linux only the process group is killed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from conformance.certify.capped import Captured, PipeReader

MARK = "CONFORMANCE_CERTIFY_RUN"
PROC = Path("/proc")
# A stopped command gets this long to end after SIGTERM before everything left is killed.
TERMINATE_GRACE_SECONDS = 2.0
# Rounds of the stop-and-scan sweep before it kills what it has (a fork bomb outrunning SIGSTOP).
SWEEP_ROUNDS = 100


@dataclass(frozen=True)
class Ended:
    """What a contained command left: its exit status (None if killed) and what it wrote, capped."""

    returncode: int | None
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
        code = self.process.wait()
        stdout, stderr = (reader.finish() for reader in self._readers)
        return Ended(None if code < 0 else code, stdout, stderr)


def sweep(mark: str, session: int) -> set[int]:
    """Stop, then kill, every process of `session`, descending from it, or carrying `mark`; their pids."""
    if not PROC.is_dir():
        return set()
    me = os.getpid()
    found: set[int] = set()
    for _ in range(SWEEP_ROUNDS):
        new = {pid for pid in _members(mark, session) if pid != me} - found
        if not new:
            break
        for pid in new:
            _signal(pid, signal.SIGSTOP)
        found |= new
    for pid in found:
        _signal(pid, signal.SIGKILL)
    return found


def _members(mark: str, session: int) -> set[int]:
    """Live processes in `session`, descended from its leader, or whose environment carries `mark`."""
    needle = f"{MARK}={mark}".encode()
    parents: dict[int, int] = {}
    members = set()
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        fields = _stat(entry)
        if fields is None or fields[0] == "Z":  # gone, or a zombie: nothing left to kill
            continue
        parents[pid] = int(fields[1])
        if int(fields[3]) == session or needle in _environ(entry).split(b"\0"):
            members.add(pid)
    for pid in parents:
        if _descends(pid, session, parents):
            members.add(pid)
    return members


def _stat(entry: Path) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name: state, ppid, pgrp, session, ..."""
    try:
        raw = (entry / "stat").read_bytes()
    except OSError:
        return None
    return raw[raw.rfind(b")") + 2 :].decode("ascii", errors="replace").split()


def _environ(entry: Path) -> bytes:
    try:
        return (entry / "environ").read_bytes()
    except OSError:  # another user's process, or gone
        return b""


def _descends(pid: int, ancestor: int, parents: Mapping[int, int]) -> bool:
    seen = set()
    while pid in parents and pid not in seen:
        seen.add(pid)
        pid = parents[pid]
        if pid == ancestor:
            return True
    return False


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)
