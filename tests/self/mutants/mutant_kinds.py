"""The two kinds of sandbox mutant, and what a suite run needs to load one.

A contract mutant builds the sandbox from an edited copy of `contracts/` (one textual edit of
errors.yaml or behaviour.yaml) while the suite keeps judging with the real contract. A response
mutant wraps the reference sandbox's ASGI app in `Corrupting`, which rewrites some answers. A
"conforming variation" is a response mutant that changes only what the docs leave open: the suite
must pass on it. (A plain module rather than conftest.py, so a suite run can import it by a name no
other test directory uses.)
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conformance.clock import VirtualClock
from conformance.contract import Contract, load_contract
from conformance.sandbox import Sandbox, SandboxControl, build_sandbox
from conformance.targets.profile import TargetProfile

if TYPE_CHECKING:
    from sandbox_support import Api

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
    """One customer request and the sandbox's answer to it, as a corruption sees them."""

    endpoint: str
    request: bytes
    status: int
    body: Any  # the parsed JSON body; None when the answer has none


Corruption = Callable[[Seen], Seen]


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


@dataclass(frozen=True, kw_only=True)
class Mutant:
    """One deliberate fault (or conforming variation): a contract edit or a response corruption.

    `probe` is a request whose answer the mutant changes. `survives` is set when the suite is known
    to miss the fault, and says which check is missing.
    """

    name: str
    category: str
    description: str
    probe: Probe
    edit: ContractEdit | None = None
    corrupt: Corruption | None = None
    survives: str | None = None

    def __post_init__(self) -> None:
        if (self.edit is None) == (self.corrupt is None):
            raise ValueError(f"mutant {self.name}: give exactly one of a contract edit and a corruption")

    @property
    def family(self) -> str:
        return "contract" if self.edit is not None else "response"

    def sandbox(
        self, contract: Contract, profile: TargetProfile, clock: VirtualClock, workdir: Path
    ) -> Sandbox:
        """The mutated sandbox; an edited contract is copied under `workdir`."""
        if self.edit is not None:
            contract = self.edit.applied(contract.directory, workdir / f"contracts-{self.name}")
        sandbox = build_sandbox(contract, profile, clock=clock)
        if self.corrupt is None:
            return sandbox
        endpoints = {path: name for name, path in contract.paths.items()}
        return dataclasses.replace(sandbox, app=Corrupting(sandbox.app, self.corrupt, endpoints))


class Corrupting:
    """ASGI middleware: buffers each customer answer and sends what `corrupt` makes of it.

    The control API passes untouched; a dropped answer (an injected drop) stays dropped.
    """

    def __init__(self, app: ASGIApp, corrupt: Corruption, endpoints: Mapping[str, str]) -> None:
        self._app = app
        self._corrupt = corrupt
        self._endpoints = endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self._endpoints.get(scope.get("path", "")) if scope["type"] == "http" else None
        if endpoint is None:
            await self._app(scope, receive, send)
            return
        request, response = bytearray(), bytearray()
        started: dict[str, Any] = {}

        async def recording() -> Message:
            message = await receive()
            request.extend(message.get("body", b""))
            return message

        async def buffering(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            else:
                response.extend(message.get("body", b""))

        await self._app(scope, recording, buffering)
        if started:  # else the answer was dropped on purpose: drop it here too
            body = json.loads(response) if response else None
            await _send(send, self._corrupt(Seen(endpoint, bytes(request), started["status"], body)))


async def _send(send: Send, seen: Seen) -> None:
    content = b"" if seen.body is None else json.dumps(seen.body).encode()
    headers = [(b"content-length", str(len(content)).encode())]
    if seen.body is not None:
        headers.append((b"content-type", b"application/json"))
    await send({"type": "http.response.start", "status": seen.status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


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


def _field(seen: Seen, name: str) -> Any:
    return seen.body.get(name) if isinstance(seen.body, dict) else None


# -- loading a mutant into a suite run ------------------------------------------------------------

PLUGIN = """
from pathlib import Path

import pytest
from sandbox_mutants import BY_NAME


@pytest.hookimpl
def pytest_conformance_sandbox(contract, profile, clock):
    return BY_NAME[{name!r}].sandbox(contract, profile, clock, Path(__file__).parent)
"""


def plugin_source(name: str) -> str:
    """The plugin (for `run_suite(plugin=...)`) that has the suite test mutant `name`."""
    return PLUGIN.format(name=name)


def plugin_path() -> str:
    """The directory a suite run needs on PYTHONPATH to import the plugin's modules."""
    return str(Path(__file__).parent)
