#!/usr/bin/env python3
"""An integration that leaves processes behind: what certification must clean up when a scenario ends.

`forking.py PIDFILE`: forks a child that sleeps (same session), and a child that calls setsid and
forks a grandchild that sleeps (a daemon's double fork: the grandchild is in a new session and its
parent is gone); writes their pids to PIDFILE (one a line, written whole by a rename), then runs the
reference flow and exits with its status.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

SLEEP_SECONDS = 600


def _sleep_forever() -> None:
    time.sleep(SLEEP_SECONDS)
    os._exit(0)


def _daemon(pipe: int) -> None:
    """In the first child: setsid, fork the grandchild that sleeps, hand its pid up, exit."""
    os.setsid()
    grandchild = os.fork()
    if grandchild == 0:
        os.close(pipe)
        _sleep_forever()
    os.write(pipe, f"{grandchild}\n".encode())
    os._exit(0)


def main(pidfile: Path) -> int:
    sleeper = os.fork()
    if sleeper == 0:
        _sleep_forever()
    read, write = os.pipe()
    if os.fork() == 0:
        os.close(read)
        _daemon(write)
    os.close(write)
    with os.fdopen(read) as pipe:
        grandchild = int(pipe.readline())
    partial = pidfile.with_name(pidfile.name + ".partial")
    partial.write_text(f"{sleeper}\n{grandchild}\n")
    partial.replace(pidfile)
    from conformance.client.__main__ import main as flow  # noqa: PLC0415 - after the forks, as a vendor's would

    return flow()


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
