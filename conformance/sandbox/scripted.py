"""Scripted answers per endpoint in front of a sandbox, and a journal of every attempt a client made.

Certification plays a scenario: the first attempts of an endpoint get scripted answers (a row of
the error table, or a committed request whose answer is lost), later ones the sandbox's own. Unlike
the fault queue, a script step can answer any row (400, 404 and 412 have several) and can last for
ever. The journal keeps what judging a client needs and the sandbox's own journal does not: the
request's activity_id and body digest, when it arrived and when (if ever) its answer left.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from conformance.core.clock import rfc3339
from conformance.sandbox.app import send_reply
from conformance.sandbox.assemble import Sandbox
from conformance.sandbox.faults import Fault
from conformance.sandbox.replies import Replies


@dataclass(frozen=True)
class ScriptStep:
    """Answer `row` (`times` attempts; None: every attempt from here on), or commit and lose the answer."""

    row: str | None = None
    times: int | None = 1
    lose: bool = False


@dataclass
class _Pending:
    step: ScriptStep
    remaining: int | None


class Script:
    """Per endpoint, the steps still to play, in order; thread-safe."""

    def __init__(self, steps: Mapping[str, Sequence[ScriptStep]]) -> None:
        self._lock = threading.Lock()
        self._pending = {e: [_Pending(s, s.times) for s in ss] for e, ss in steps.items()}

    def take(self, endpoint: str) -> ScriptStep | None:
        with self._lock:
            queue = self._pending.get(endpoint, [])
            if not queue:
                return None
            head = queue[0]
            if head.remaining is not None:
                head.remaining -= 1
                if head.remaining <= 0:
                    queue.pop(0)
            return head.step


@dataclass(frozen=True)
class Attempt:
    """One request of the client, as the sandbox saw it; `answered` None means no answer left."""

    sequence: int
    endpoint: str
    activity_id: str | None  # the request body's
    body_sha256: str
    received: datetime
    answered: datetime | None
    status: int | None
    code: str | None  # the answer body's `code`
    error: str | None  # the answer body's `error`
    row: str | None  # the error-table row answered; None for a success or a lost answer
    returned_activity_id: str | None  # a /register answer's
    scripted: str | None  # "answer ROW", "lost", or None when the sandbox answered itself

    def to_json(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "endpoint": self.endpoint,
            "activity_id": self.activity_id,
            "body_sha256": self.body_sha256,
            "received": rfc3339(self.received, exact=True),
            "answered": None if self.answered is None else rfc3339(self.answered, exact=True),
            "status": self.status,
            "code": self.code,
            "error": self.error,
            "row": self.row,
            "returned_activity_id": self.returned_activity_id,
            "scripted": self.scripted,
        }


class AttemptJournal:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[Attempt] = []
        self._sequence = itertools.count(1)

    def record(self, **fields: Any) -> None:
        with self._lock:
            self._entries.append(Attempt(sequence=next(self._sequence), **fields))

    def entries(self) -> list[Attempt]:
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class ScriptedSandbox:
    """An ASGI app: the script's answers in front of `sandbox.app`, every customer attempt journaled.

    A lost answer is the sandbox's own drop-after-commit fault, queued for this very request (the
    client under certification sends one request at a time).
    """

    def __init__(self, sandbox: Sandbox, script: Script, journal: AttemptJournal) -> None:
        self._sandbox = sandbox
        self._app = sandbox.app
        self._script = script
        self.journal = journal
        contract = sandbox.contract
        self._endpoints = {path: name for name, path in contract.paths.items()}
        self._replies = Replies(contract, sandbox.settings.messages, sandbox.settings.readings)
        self._rows = {(r.status, r.code): r.id for r in contract.table.rows}
        self._success = contract.behaviour.success_status

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self._endpoints.get(scope.get("path", "")) if scope["type"] == "http" else None
        if endpoint is None:
            await self._app(scope, receive, send)
            return
        body = await _read_all(receive, self._sandbox.settings.max_body_bytes)
        received = self._sandbox.control.now()
        step = self._script.take(endpoint)
        request = {"endpoint": endpoint, "activity_id": _field(body, "activity_id"), "received": received}
        request["body_sha256"] = hashlib.sha256(body).hexdigest()
        if step is not None and step.row is not None:
            reply = self._replies.error(step.row)
            answered = self._sandbox.control.now()
            self._record(request, answered, reply.status, reply.encoded(), f"answer {step.row}")
            await send_reply(send, reply, answered)
            return
        if step is not None and step.lose:
            self._sandbox.control.inject(endpoint, Fault.drop())
            try:
                # The original `send`: under uvicorn the drop closes the connection through it.
                await self._app(scope, _replay(body, receive), send)
            finally:
                self._record(request, None, None, b"", "lost")
            return
        answer: dict[str, Any] = {"status": None, "body": bytearray(), "answered": None}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["answered"] = self._sandbox.control.now()
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")
            await send(message)

        try:
            await self._app(scope, _replay(body, receive), capture)
        finally:
            self._record(request, answer["answered"], answer["status"], bytes(answer["body"]), None)

    def _record(
        self,
        request: dict[str, Any],
        answered: datetime | None,
        status: int | None,
        body: bytes,
        scripted: str | None,
    ) -> None:
        code, error = _field(body, "code"), _field(body, "error")
        row = None if status is None or status == self._success else self._rows.get((status, code))
        self.journal.record(
            **request,
            answered=answered,
            status=status,
            code=code,
            error=error,
            row=row,
            returned_activity_id=_field(body, "activity_id") if status == self._success else None,
            scripted=scripted,
        )


async def _read_all(receive: Receive, limit: int) -> bytes:
    """The body, or its first `limit` + 1 bytes when it is longer: enough for the sandbox to refuse it
    as too large, while a client sending gigabytes cannot fill our memory (the rest is drained)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        if size <= limit:
            chunks.append(chunk[: limit + 1 - size])
        size += len(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body already read, then whatever the connection says next."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _field(body: bytes, name: str) -> str | None:
    """A string field of a JSON object body, else None."""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return None
    value = data.get(name) if isinstance(data, dict) else None
    return value if isinstance(value, str) else None
