"""A sandbox served on loopback from this process, and a live run of the suite against it to interrupt.

Served from this process (the same app and uvicorn server as `conformance sandbox serve`) so that a
test can read the sandbox's activities directly: its HTTP control API lists requests, not activities.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from conformance.core.clock import SystemClock
from conformance.profile.target_profile import load_profile
from conformance.sandbox import Sandbox, SandboxConfig, build_sandbox
from conformance.sandbox.serve import running
from tests.self.reference import bundled_contract
from tests.self.suite.suite_runner import TOKEN_VARIABLE

TOKEN = "interrupt-test-control-token"
STARTED = "STARTED"
# Hang guards, not timings: a run that needs more than this to stop is broken, not slow.
STOP_SECONDS = 20.0
REACH_SECONDS = 120.0
POLL_SECONDS = 0.02
# Tests that start activities early: the run reaches an interruptible state in seconds.
SELECTION = "eligibility_and_sync or lifecycle"
# The device whose token never syncs: an activity started on it alone cannot be ended by anyone
# (every /end answers "not synced"), so the interrupt tests serve a sandbox without it.
NEVER_SYNCS = re.compile(
    r'\[\[insiders\.eligible\]\]\ninsider_id = "[^"]+"\ndevices = \[[^\n]*syncs = false[^\n]*\n'
)


class HoldEnd:
    """ASGI middleware: once `hold` is set, every /end request waits, and then is refused unseen.

    This is how a test catches the suite's cleanup in the middle, deterministically.
    """

    def __init__(self, app: ASGIApp, path: str) -> None:
        self.app = app
        self.path = path
        self.hold = threading.Event()
        self.release = threading.Event()
        self.held = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or not self.hold.is_set():
            await self.app(scope, receive, send)
            return
        self.held += 1
        while not self.release.is_set():
            await asyncio.sleep(POLL_SECONDS)
        await PlainTextResponse("held by the test", 503)(scope, receive, send)


@dataclass(frozen=True)
class Served:
    url: str
    sandbox: Sandbox
    profile: Path
    gate: HoldEnd

    def started(self) -> set[str]:
        """The ids of the activities STARTED on the sandbox now."""
        return {a.activity_id for a in self.sandbox.control.activities() if a.state == STARTED}

    def live_args(self, results: Path) -> list[str]:
        return [
            *("--target", "live", "--base-url", self.url, "--target-profile", str(self.profile)),
            *("--results", str(results), "-p", "no:cacheprovider", "-k", SELECTION),
        ]


@contextmanager
def served_sandbox(directory: Path) -> Iterator[Served]:
    """The sandbox (real clock, control token known) on an ephemeral loopback port, and its profile."""
    contract = bundled_contract()
    reference = (contract.directory / "targets" / "sandbox.toml").read_text(encoding="utf-8")
    reduced, removed = NEVER_SYNCS.subn("", reference)
    assert removed == 1, "the sandbox profile's never-syncing insider moved: update NEVER_SYNCS"
    path = directory / "interrupted-sandbox.toml"
    path.write_text(reduced, encoding="utf-8")
    sandbox = build_sandbox(
        contract, load_profile(path, contract), clock=SystemClock(), config=SandboxConfig(control_token=TOKEN)
    )
    gate = HoldEnd(sandbox.app, contract.paths["end"])
    with running(dataclasses.replace(sandbox, app=gate)) as url:
        path.write_text(re.sub(r'(?m)^base_url = ".*"$', f'base_url = "{url}"', reduced), encoding="utf-8")
        try:
            yield Served(url, sandbox, path, gate)
        finally:
            gate.release.set()


@contextmanager
def started_run(
    command: list[str], directory: Path, *, control: bool = True
) -> Iterator[subprocess.Popen[bytes]]:
    """`command` in its own process group (as a shell starts a job), its output to output.txt;
    `control`: with the sandbox's control token (parallel workers are refused it)."""
    environment = {k: v for k, v in os.environ.items() if k != TOKEN_VARIABLE}
    with (directory / "output.txt").open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=directory,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**environment, TOKEN_VARIABLE: TOKEN} if control else environment,
            process_group=0,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def wait_until(condition: Callable[[], Any], what: str, seconds: float = REACH_SECONDS) -> Any:
    """Poll `condition` until it holds (returning its value); fail naming `what` if it never does."""
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        assert time.monotonic() < deadline, f"gave up waiting {seconds:.0f} s for {what}"
        time.sleep(POLL_SECONDS)
    return value
