"""A hostile target for the self-tests: the embedded sandbox, served on loopback, behind an ASGI front
that starts misbehaving after its first `after` requests (so that the preflight, or the first tests,
see a well-behaved API), or (`spare_empty`) with the first request that has a body.

Modes: `drip` (the body one byte per `interval` seconds), `hang` (never answers), `close` (closes
the connection half-way through a body), `huge` (a `size`-byte body), `invalid` (200 with a body
that is no JSON), `echo` (every error's `code` and `error` carry the request's API key), `markup`
(every error's `code` and `error` carry workflow commands, terminal escapes and Markdown), `jump`
(the sandbox's clock, and so its `Date` header, `jump` seconds ahead from then on), `created`
(every 200 becomes a 201, its body unchanged: each success fails, its body, insider ids and all,
in the failure).

Run it by hand for the measurements of docs/hostile-targets.md:

    python -m tests.self.hostile.hostile_server drip --after 20 --directory /tmp/hostile
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conformance.core.clock import SystemClock
from conformance.profile.target_profile import load_profile
from conformance.sandbox import SandboxConfig, build_sandbox
from conformance.sandbox.serve import running
from tests.self.reference import bundled_contract

MODES = ("drip", "hang", "close", "huge", "invalid", "echo", "markup", "jump", "created")
# What the `markup` mode writes into codes and messages: a workflow command, an ANSI escape that
# clears the screen, a carriage return that overwrites the line, and Markdown links and emphasis.
MARKUP = "::error::x \x1b[2J\x1b[31mred\rover **bold** [link](https://example.invalid) `code`"
POLL_SECONDS = 0.05
CHUNK = 1 << 16


class JumpingClock(SystemClock):
    """The machine's clock, `offset` ahead once the `jump` mode has begun."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return super().now() + self.offset


@dataclass
class Hostile:
    """ASGI front: passes the first `after` API requests through, then misbehaves as `mode` says."""

    app: ASGIApp
    mode: str
    key_header: str
    after: int = 0
    interval: float = 1.0
    size: int = 30 << 20
    jump: float = 3600.0
    # Pass every request with an empty body (the preflight's and the clock calibration's) through,
    # and count only the others: the tests' own requests meet the mode from the first on.
    spare_empty: bool = False
    seen: int = 0
    clock: JumpingClock = field(default_factory=JumpingClock)
    release: threading.Event = field(default_factory=threading.Event)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        empty = dict(scope.get("headers", [])).get(b"content-length") == b"0"
        if scope["type"] != "http" or scope["path"].startswith("/_control") or (self.spare_empty and empty):
            await self.app(scope, receive, send)
            return
        self.seen += 1
        if self.seen <= self.after:
            await self.app(scope, receive, send)
            return
        await getattr(self, "_" + self.mode)(scope, receive, send)

    async def _buffered(self, scope: Scope, receive: Receive) -> tuple[Message, bytes]:
        """The sandbox's answer: its start message and whole body."""
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, keep)
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        return messages[0], body

    async def _answer(self, send: Send, start: Message, body: bytes, **replace: str) -> None:
        headers = [
            (k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-length", *replace)
        ]
        headers += [(k.encode(), v.encode()) for k, v in replace.items()]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _drip(self, scope: Scope, receive: Receive, send: Send) -> None:
        start, body = await self._buffered(scope, receive)
        await send(start)
        for n in range(len(body)):
            if self.release.is_set():
                return
            await send({"type": "http.response.body", "body": body[n : n + 1], "more_body": True})
            await asyncio.sleep(self.interval)
        await send({"type": "http.response.body", "body": b""})

    async def _hang(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: ARG002 - one signature per mode
        while not self.release.is_set():
            await asyncio.sleep(POLL_SECONDS)

    async def _close(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: ARG002 - one signature per mode
        headers = [(b"content-type", b"application/json"), (b"content-length", b"100")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"half":', "more_body": True})
        raise ConnectionAbortedError("the hostile target closes the connection")

    async def _huge(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: ARG002 - one signature per mode
        headers = [(b"content-type", b"application/json"), (b"content-length", str(self.size).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        left = self.size
        while left > 0 and not self.release.is_set():
            piece = min(CHUNK, left)
            left -= piece
            await send({"type": "http.response.body", "body": b" " * piece, "more_body": left > 0})

    async def _invalid(self, scope: Scope, receive: Receive, send: Send) -> None:
        start, _ = await self._buffered(scope, receive)
        await self._answer(send, {**start, "status": 200}, b'{"activity_id": "a", not json')

    async def _echo(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = dict(scope["headers"]).get(self.key_header.lower().encode(), b"").decode()
        await self._rewritten(scope, receive, send, f"{key} was refused", f"key {key} is bad")

    async def _markup(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._rewritten(scope, receive, send, MARKUP, MARKUP)

    async def _rewritten(self, scope: Scope, receive: Receive, send: Send, code: str, error: str) -> None:
        """The sandbox's answer, with `code` and `error` replaced in an error body."""
        start, body = await self._buffered(scope, receive)
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and "code" in parsed:
            body = json.dumps({**parsed, "code": code, "error": error}).encode()
        await self._answer(send, start, body)

    async def _created(self, scope: Scope, receive: Receive, send: Send) -> None:
        start, body = await self._buffered(scope, receive)
        await self._answer(
            send, {**start, "status": 201 if start["status"] == 200 else start["status"]}, body
        )

    async def _jump(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.clock.offset = timedelta(seconds=self.jump)  # the sandbox judges by it, and stamps Date
        await self.app(scope, receive, send)


@dataclass(frozen=True)
class Served:
    url: str
    profile: Path
    front: Hostile


def profile_text(url: str, limits: dict[str, float] | None = None) -> str:
    """The sandbox's profile, pointed at `url`, with no control API (a live target has none) and the
    given `limits`."""
    reference = (bundled_contract().directory / "targets" / "sandbox.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^base_url = ".*"$', f'base_url = "{url}"', reference)
    text = re.sub(r"(?m)^control = .*\n", "", text)
    if limits:
        table = ", ".join(f"{k} = {v}" for k, v in limits.items())
        text = text.replace("\n[accounts]", f"\nlimits = {{ {table} }}\n\n[accounts]", 1)
    return text


@contextmanager
def served_hostile(
    directory: Path, mode: str, *, limits: dict[str, float] | None = None, **settings: Any
) -> Iterator[Served]:
    """The sandbox (real clock, jumping in the `jump` mode) behind a `Hostile` front on a loopback
    port, and its profile."""
    contract = bundled_contract()
    path = directory / f"hostile-{mode}.toml"
    path.write_text(profile_text("http://127.0.0.1:1", limits), encoding="utf-8")
    clock = JumpingClock()
    sandbox = build_sandbox(contract, load_profile(path, contract), clock=clock, config=SandboxConfig())
    front = Hostile(sandbox.app, mode, contract.api_key_header, clock=clock, **settings)
    try:
        with running(dataclasses.replace(sandbox, app=front)) as url:
            path.write_text(profile_text(url, limits), encoding="utf-8")
            yield Served(url, path, front)
    finally:
        front.release.set()


def main(argv: list[str]) -> int:
    """Serve a hostile target until Ctrl-C, printing its profile's path."""
    parser = argparse.ArgumentParser(prog="python -m tests.self.hostile.hostile_server")
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("--after", type=int, default=0)
    parser.add_argument("--size", type=int, default=30 << 20)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--directory", type=Path, default=Path())
    options = parser.parse_args(argv)
    options.directory.mkdir(parents=True, exist_ok=True)
    settings = {"after": options.after, "size": options.size, "interval": options.interval}
    with served_hostile(options.directory, options.mode, **settings) as served:
        print(f"serving {options.mode} at {served.url}; profile {served.profile}", flush=True)  # noqa: T201
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
