#!/usr/bin/env python3
"""An integration that leaves processes behind: what certification must clean up when a scenario ends.

`forking.py PIDFILE`: forks a child that sleeps (same session); a child that calls setsid and
forks a grandchild that sleeps (a daemon's double fork: the grandchild is in a new session and its
parent is gone); and the same again, but the grandchild execs `sleep` with an empty environment
(nothing it carries says where it came from). Writes their pids to PIDFILE (one a line, written
whole by a rename), then runs the reference flow and exits with its status.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

SLEEP_SECONDS = 600
SLEEP = "/bin/sleep"


def _sleep_forever() -> None:
    time.sleep(SLEEP_SECONDS)
    os._exit(0)


def _daemon(pipe: int, *, clear_environment: bool) -> None:
    """In a child: setsid, fork the grandchild that sleeps, hand its pid up, exit."""
    os.setsid()
    grandchild = os.fork()
    if grandchild == 0:
        os.close(pipe)
        if clear_environment:
            os.execve(SLEEP, [SLEEP, str(SLEEP_SECONDS)], {})  # noqa: S606 - a daemon that hides its origin
        _sleep_forever()
    os.write(pipe, f"{grandchild}\n".encode())
    os._exit(0)


def _spawn_daemon(*, clear_environment: bool) -> int:
    """The pid of a setsid grandchild that sleeps."""
    read, write = os.pipe()
    if os.fork() == 0:
        os.close(read)
        _daemon(write, clear_environment=clear_environment)
    os.close(write)
    with os.fdopen(read) as pipe:
        return int(pipe.readline())


def main(pidfile: Path) -> int:
    sleeper = os.fork()
    if sleeper == 0:
        _sleep_forever()
    grandchildren = [_spawn_daemon(clear_environment=clear) for clear in (False, True)]
    partial = pidfile.with_name(pidfile.name + ".partial")
    partial.write_text("".join(f"{pid}\n" for pid in (sleeper, *grandchildren)))
    partial.replace(pidfile)
    from conformance.client.__main__ import main as flow  # noqa: PLC0415 - after the forks, as a vendor's would

    return flow()


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
