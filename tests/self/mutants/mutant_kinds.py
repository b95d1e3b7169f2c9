"""The three families of sandbox mutant, and what a suite run needs to load one.

A contract mutant builds the sandbox from an edited copy of `contracts/` (one textual edit of
errors.yaml or behaviour.yaml) while the suite keeps judging with the real contract. A request
mutant wraps the reference sandbox's ASGI app in `Corrupting`, which rewrites some request bodies
before the app reads them (a server that misreads what it was sent). A response mutant wraps it in
`Corrupting` too, which rewrites some answers; a `Gap` makes it a racy server whose requests overlap.
A "conforming variation" is a response mutant that changes only what the docs leave open: the suite
must pass on it. (A module rather than conftest.py, so that a suite run's plugin can import it as
`tests.self.mutants.mutant_kinds`.)
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conformance.contract import Contract, load_contract
from conformance.core.clock import Clock
from conformance.profile.target_profile import TargetProfile
from conformance.sandbox import Sandbox, SandboxConfig, SandboxControl, build_sandbox

if TYPE_CHECKING:
    from tests.self.sandbox.sandbox_support import Api

# What a probe returns: the status and the JSON body (None when empty), activity_id left out.
Answer = tuple[int, Any]


@dataclass(frozen=True)
class Bench:
    """What a probe works with: a caller of the six endpoints, and the sandbox's control."""

    api: Api
    control: SandboxControl


Probe = Callable[[Bench], Answer]


@dataclass(frozen=True)
class Seen:
    """One customer request and the sandbox's answer to it, as a corruption sees them.

    `overlapped`: another request to the same endpoint naming the same activity_id was in flight at
    some moment of this one's flight (it arrived before this one was answered, or the other way).
    """

    endpoint: str
    request: bytes
    status: int
    body: Any  # the parsed JSON body; None when the answer has none
    overlapped: bool = False


Corruption = Callable[[Seen], Seen]
# (endpoint, request body as sent) -> the request body the app reads.
Rewrite = Callable[[str, bytes], bytes]


@dataclass(frozen=True)
class Gap:
    """A racy server: the first request to `endpoint` naming an activity reaches the app `seconds`
    after it arrives.

    The reference sandbox checks and commits a request in one step, so requests sent together never
    overlap in it. A racy server leaves time between the check and the commit of the request that
    passes its check (the first for the activity, which then does the slow work); requests arriving
    meanwhile overlap it (`Seen.overlapped`). Only the first is held, so that the racy server costs a
    suite run one gap per activity rather than one per request.
    """

    endpoint: str
    seconds: float


@dataclass
class _Flight:
    overlapped: bool = False


@dataclass(frozen=True)
class ContractEdit:
    """`old` becomes `new` in one contract file; `old` must occur there exactly once."""

    file: str
    old: str
    new: str

    def applied(self, source: Path, copy: Path) -> Contract:
        """Load a copy of the contract directory `source`, made at `copy`, with the edit applied."""
        shutil.copytree(source, copy, dirs_exist_ok=True)
        path = copy / self.file
        text = path.read_text(encoding="utf-8")
        if text.count(self.old) != 1:
            raise ValueError(f"{self.old!r} occurs {text.count(self.old)} times in {self.file}, not once")
        path.write_text(text.replace(self.old, self.new), encoding="utf-8")
        return load_contract(copy)


FAMILIES = ("contract", "request", "response")


@dataclass(frozen=True, kw_only=True)
class Mutant:
    """One deliberate fault (or conforming variation): a contract edit, a request rewrite or a
    response corruption, exactly one of them.

    `probe` is a request whose answer the mutant changes. `gap` (a response mutant's only) makes
    requests to one endpoint overlap, for a corruption that reads `Seen.overlapped`. `survives` is
    set when the suite is known to miss the fault, and says which check is missing.
    """

    name: str
    category: str
    description: str
    probe: Probe
    edit: ContractEdit | None = None
    rewrite: Rewrite | None = None
    corrupt: Corruption | None = None
    gap: Gap | None = None
    survives: str | None = None

    def __post_init__(self) -> None:
        ways = (self.edit, self.rewrite, self.corrupt)
        given = [family for family, way in zip(FAMILIES, ways, strict=True) if way is not None]
        if len(given) != 1:
            raise ValueError(
                f"mutant {self.name}: give exactly one of a contract edit, a request rewrite and a "
                f"response corruption, not {given or 'none'}"
            )
        if self.gap is not None and self.corrupt is None:
            raise ValueError(f"mutant {self.name}: a gap only serves a response corruption")

    @property
    def family(self) -> str:
        """contract | request | response."""
        return "contract" if self.edit is not None else "request" if self.rewrite is not None else "response"

    def sandbox(
        self,
        contract: Contract,
        profile: TargetProfile,
        clock: Clock,
        workdir: Path,
        config: SandboxConfig | None = None,
    ) -> Sandbox:
        """The mutated sandbox, built with `config` (the reference's when None); an edited contract
        is copied under `workdir`."""
        if self.edit is not None:
            contract = self.edit.applied(contract.directory, workdir / f"contracts-{self.name}")
        sandbox = build_sandbox(contract, profile, clock=clock, config=config)
        if self.edit is not None:
            return sandbox
        endpoints = {path: name for name, path in contract.paths.items()}
        app = Corrupting(sandbox.app, endpoints, corrupt=self.corrupt, rewrite=self.rewrite, gap=self.gap)
        return dataclasses.replace(sandbox, app=app)


class Corrupting:
    """ASGI middleware around the reference app, for the customer endpoints only.

    It reads each request whole, hands the app what `rewrite` makes of it (held first where a `gap`
    says so), and, with a `corrupt`, buffers the answer and sends what `corrupt` makes of it (the
    app's headers, such as `Date`, kept). The control API passes untouched; a dropped answer (an injected
    drop) stays dropped. Under a server, a drop behind a `corrupt` hangs until the client gives up
    (the sandbox cannot close a connection it does not hold).
    """

    def __init__(
        self,
        app: ASGIApp,
        endpoints: Mapping[str, str],
        *,
        corrupt: Corruption | None = None,
        rewrite: Rewrite | None = None,
        gap: Gap | None = None,
    ) -> None:
        self._app = app
        self._endpoints = endpoints
        self._corrupt = corrupt
        self._rewrite = rewrite
        self._gap = gap
        # (endpoint, activity_id) -> the requests in flight, and those held once (see Gap); the app
        # may serve several event loops at once (in-process clients, a server), hence the lock.
        self._in_flight: dict[tuple[str, str], list[_Flight]] = {}
        self._held: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self._endpoints.get(scope.get("path", "")) if scope["type"] == "http" else None
        if endpoint is None:
            await self._app(scope, receive, send)
            return
        request, replay = await _read_whole(receive)
        if self._rewrite is not None:
            request = self._rewrite(endpoint, request)
        key = (endpoint, _activity_id(request))
        flight, hold = self._arrived(key)
        try:
            if hold:
                await asyncio.sleep(hold)
            if self._corrupt is None:
                await self._app(scope, replay(request), send)
                return
            answer = await _buffered(self._app, scope, replay(request))
        finally:
            with self._lock:
                self._in_flight[key].remove(flight)
                if not self._in_flight[key]:
                    del self._in_flight[key]
        if answer is None:  # the answer was dropped on purpose: drop it here too
            return
        status, headers, content = answer
        try:
            body = json.loads(content) if content else None
        except ValueError:  # not JSON (nothing a customer endpoint sends): passed on as it is
            await _send_raw(send, status, headers, content)
            return
        seen = self._corrupt(Seen(endpoint, request, status, body, flight.overlapped))
        await _send(send, seen, headers)

    def _arrived(self, key: tuple[str, str]) -> tuple[_Flight, float]:
        """The flight of a request that names an activity (`key[1]`, "" when none): overlapping those
        of the activity in flight; and how long to hold it (the `gap`, once per activity)."""
        flight = _Flight()
        with self._lock:
            others = self._in_flight.setdefault(key, [])
            if key[1] and others:
                flight.overlapped = True
                for other in others:
                    other.overlapped = True
            others.append(flight)
            gap = self._gap
            if gap is None or gap.endpoint != key[0] or not key[1] or key in self._held:
                return flight, 0.0
            self._held.add(key)
            return flight, gap.seconds


async def _read_whole(receive: Receive) -> tuple[bytes, Callable[[bytes], Receive]]:
    """The request body, and a maker of the `receive` that hands the app a given body instead."""
    body = bytearray()
    ended: Message | None = None  # a disconnect before the body ended
    while True:
        message = await receive()
        if message["type"] != "http.request":
            ended = message
            break
        body.extend(message.get("body", b""))
        if not message.get("more_body", False):
            break

    def replay(content: bytes) -> Receive:
        pending: list[Message] = [{"type": "http.request", "body": content, "more_body": False}]
        if ended is not None:
            pending.append(ended)

        async def replaying() -> Message:
            return pending.pop(0) if pending else await receive()

        return replaying

    return bytes(body), replay


async def _buffered(
    app: ASGIApp, scope: Scope, receive: Receive
) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
    """The app's answer: status, headers, body; None when it sent none (a drop)."""
    started: dict[str, Any] = {}
    content = bytearray()

    async def buffering(message: Message) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
        else:
            content.extend(message.get("body", b""))

    await app(scope, receive, buffering)
    if not started:
        return None
    return started["status"], list(started.get("headers", [])), bytes(content)


REPLACED_HEADERS = frozenset({b"content-length", b"content-type"})


async def _send(send: Send, seen: Seen, headers: list[tuple[bytes, bytes]]) -> None:
    """The (corrupted) answer, with the app's other headers (`Date`, `Retry-After`) kept."""
    content = b"" if seen.body is None else json.dumps(seen.body).encode()
    kept = [(n, v) for n, v in headers if bytes(n).lower() not in REPLACED_HEADERS]
    if seen.body is not None:
        kept.append((b"content-type", b"application/json"))
    await _send_raw(send, seen.status, kept, content)


async def _send_raw(send: Send, status: int, headers: list[tuple[bytes, bytes]], content: bytes) -> None:
    kept = [(n, v) for n, v in headers if bytes(n).lower() != b"content-length"]
    kept.insert(0, (b"content-length", str(len(content)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": kept})
    await send({"type": "http.response.body", "body": content})


def _activity_id(request: bytes) -> str:
    """The request's activity_id, "" when it names none (such requests never count as overlapping)."""
    body = _json_object(request)
    value = body.get("activity_id") if body is not None else None
    return value if isinstance(value, str) else ""


def _json_object(content: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


# -- corruptions, composed from a condition and a change ------------------------------------------

Condition = Callable[[Seen], bool]
Change = Callable[[Seen], Seen]


def where(condition: Condition, change: Change) -> Corruption:
    """Apply `change` to the answers that meet `condition`; pass the others through."""
    return lambda seen: change(seen) if condition(seen) else seen


def answered(status: int, *, code: str | None = None, endpoint: str | None = None) -> Condition:
    """Answers with this status (and body code, and to this endpoint, where given)."""
    return lambda seen: (
        seen.status == status
        and (code is None or _field(seen, "code") == code)
        and (endpoint is None or seen.endpoint == endpoint)
    )


def carrying(field: str) -> Condition:
    """JSON object answers that have `field`."""
    return lambda seen: isinstance(seen.body, dict) and field in seen.body


def unparseable_request(seen: Seen) -> bool:
    """The request body is not blank and is not JSON."""
    try:
        json.loads(seen.request)
    except ValueError:
        return bool(seen.request.strip())
    return False


def blank_in(field: str, element_field: str) -> Condition:
    """The request's list `field` has an object whose `element_field` is a blank string."""

    def condition(seen: Seen) -> bool:
        body = _json_object(seen.request)
        elements = body.get(field) if body is not None else None
        return isinstance(elements, list) and any(
            isinstance(e, dict) and isinstance(e.get(element_field), str) and not e[element_field].strip()
            for e in elements
        )

    return condition


KEEP: Any = object()


def becomes(status: int | None = None, body: Any = KEEP) -> Change:
    """Another status, another body, or both; what is not given stays."""
    return lambda seen: dataclasses.replace(
        seen, status=seen.status if status is None else status, body=seen.body if body is KEEP else body
    )


def edited(edit: Callable[[dict[str, Any]], dict[str, Any]]) -> Change:
    """The JSON object body replaced by `edit(body)`; any other body stays as it is."""
    return lambda seen: (
        dataclasses.replace(seen, body=edit(seen.body)) if isinstance(seen.body, dict) else seen
    )


def without(field: str) -> Change:
    return edited(lambda body: {k: v for k, v in body.items() if k != field})


def plus_one(field: str) -> Change:
    return edited(lambda body: {**body, field: body[field] + 1})


def merged(extra: Callable[[dict[str, Any]], dict[str, Any]]) -> Change:
    """The body with the fields `extra(body)` gives added or replaced."""
    return edited(lambda body: {**body, **extra(body)})


def bodyless(seen: Seen) -> bool:
    return seen.body is None


def one_of_statuses(*statuses: int) -> Condition:
    return lambda seen: seen.status in statuses


def both(first: Condition, second: Condition) -> Condition:
    return lambda seen: first(seen) and second(seen)


def overlapping(seen: Seen) -> bool:
    """Another request of the same endpoint and activity was in flight when this one arrived."""
    return seen.overlapped


def to(*endpoints: str) -> Condition:
    """Answers of these endpoints."""
    return lambda seen: seen.endpoint in endpoints


def nested_without(field: str, key: str) -> Change:
    """The object `field` of the body without its `key`; a body without that object stays."""
    return edited(
        lambda body: (
            {**body, field: {k: v for k, v in body[field].items() if k != key}}
            if isinstance(body.get(field), dict)
            else body
        )
    )


# -- request rewrites -----------------------------------------------------------------------------

# An RFC 3339 offset other than Z at the end of a timestamp: `+05:30`, `-08:00`.
UTC_OFFSET = re.compile(r"[+-]\d{2}:\d{2}$")


def offset_dropped(field: str) -> Rewrite:
    """A JSON string `field` written with a UTC offset is read as UTC: `...T10:00:00+05:30` becomes
    `...T10:00:00Z`, the local digits kept. Every other request passes as sent."""

    def rewrite(_endpoint: str, request: bytes) -> bytes:
        body = _json_object(request)
        value = body.get(field) if body is not None else None
        if body is None or not isinstance(value, str) or not UTC_OFFSET.search(value):
            return request
        return json.dumps({**body, field: UTC_OFFSET.sub("Z", value)}).encode()

    return rewrite


def incomplete_elements_dropped(field: str, element_fields: tuple[str, ...]) -> Rewrite:
    """The elements of the JSON list `field` that lack one of `element_fields` are dropped before the
    sandbox reads the request (ignored, where they should be refused); every other request passes."""

    def rewrite(_endpoint: str, request: bytes) -> bytes:
        body = _json_object(request)
        elements = body.get(field) if body is not None else None
        if body is None or not isinstance(elements, list):
            return request
        whole = [e for e in elements if not isinstance(e, dict) or all(k in e for k in element_fields)]
        return request if len(whole) == len(elements) else json.dumps({**body, field: whole}).encode()

    return rewrite


def _field(seen: Seen, name: str) -> Any:
    return seen.body.get(name) if isinstance(seen.body, dict) else None


# -- loading a mutant into a suite run ------------------------------------------------------------

PLUGIN = """
from pathlib import Path

import pytest
from tests.self.mutants.sandbox_mutants import BY_NAME


@pytest.hookimpl
def pytest_conformance_sandbox(contract, profile, clock):
    return BY_NAME[{name!r}].sandbox(contract, profile, clock, Path(__file__).parent)
"""


def plugin_source(name: str) -> str:
    """The plugin (for `run_suite(plugin=...)`) that has the suite test mutant `name`."""
    return PLUGIN.format(name=name)


def plugin_path() -> str:
    """The directory a suite run needs on PYTHONPATH to import the plugin's modules (`tests.self...`)."""
    return str(Path(__file__).parents[3])
