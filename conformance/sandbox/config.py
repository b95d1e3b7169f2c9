"""How one sandbox instance is configured, and the settings it runs with once resolved.

`SandboxConfig` holds only what a caller may choose; every default it leaves open (`None`, an empty
mapping) is filled from the target profile or the contract by `resolve`, so a second, deliberately
different sandbox needs nothing but another config and another profile.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.contract import Contract
from conformance.profile.target_profile import TargetProfile
from conformance.sandbox.http_style import http_styles
from conformance.sandbox.readings import WHICH_ERROR_WINS, Readings, resolve_readings

# The check groups a request runs through; `precedence` orders them.
CHECK_GROUPS = frozenset(
    {"account", "body", "fields", "insider_ids", "ends_at_window", "target_devices", "lifecycle"}
)
MEBIBYTE = 1024 * 1024


@dataclass(frozen=True)
class SandboxConfig:
    """What a caller may choose for one sandbox; `None` means "the profile's, else the contract's".

    `messages` maps a body code to its `error` text and is merged over `default_messages`.
    `control_token` guards the HTTP control API; None means the profile's, else a random one.
    `readings` maps a reading id of behaviour.yaml to the option the sandbox takes (the others take
    their default). The sandbox's clock reads the injected one plus `clock_offset_seconds`, and a
    served request waits `latency_ms` before it is handled and again before it is answered.
    """

    sync_delay_seconds: float | None = None
    rate_limit_per_minute: int | None = None
    messages: Mapping[str, str] = field(default_factory=dict)
    precedence: tuple[str, ...] | None = None
    control_token: str | None = None
    drop_hang_seconds: float = 10.0
    # No source documents a body limit; 4 MiB holds 10,000 long insider ids with room to spare.
    max_body_bytes: int = 4 * MEBIBYTE
    journal_size: int = 10_000
    readings: Mapping[str, str] = field(default_factory=dict)
    clock_offset_seconds: float = 0.0
    latency_ms: int = 0
    # How answers travel (sandbox/http_style.py): gzip, chunked, close, charset; none by default.
    http: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Settings:
    """The resolved configuration: every value the running sandbox reads."""

    sync_delay_seconds: float
    rate_limit_requests: int
    rate_limit_window_seconds: int
    messages: Mapping[str, str]
    precedence: tuple[str, ...]
    control_token: str
    drop_hang_seconds: float
    max_body_bytes: int
    journal_size: int
    readings: Readings  # every reading of the contract, with its option
    clock_offset_seconds: float
    latency_ms: int
    http: frozenset[str]


def resolve(config: SandboxConfig, contract: Contract, profile: TargetProfile) -> Settings:
    """Fill the open choices of `config`; raise ValueError on a choice the contract cannot honour."""
    rate = contract.behaviour.rate_limit
    requests = config.rate_limit_per_minute or profile.rate_limit_per_minute or rate.requests
    sync_delay = (
        config.sync_delay_seconds if config.sync_delay_seconds is not None else profile.sync_delay_seconds
    )
    if requests < 1 or sync_delay < 0 or config.drop_hang_seconds < 0 or config.max_body_bytes < 1:
        raise ValueError("rate limit, sync delay, drop hang and body limit must be positive")
    if config.control_token == "":
        raise ValueError("the control token must not be empty")
    if not math.isfinite(config.clock_offset_seconds) or config.latency_ms < 0:
        raise ValueError("the clock offset must be a finite number and the latency at least 0 ms")
    readings = resolve_readings(contract.behaviour, config.readings)
    return Settings(
        sync_delay_seconds=sync_delay,
        rate_limit_requests=requests,
        rate_limit_window_seconds=rate.per_seconds,
        messages={**default_messages(contract), **config.messages},
        precedence=_precedence(config.precedence, contract, readings),
        control_token=config.control_token or profile.control_token() or secrets.token_urlsafe(18),
        drop_hang_seconds=config.drop_hang_seconds,
        max_body_bytes=config.max_body_bytes,
        journal_size=max(1, config.journal_size),
        readings=readings,
        clock_offset_seconds=config.clock_offset_seconds,
        latency_ms=config.latency_ms,
        http=http_styles(config.http),
    )


def _precedence(chosen: tuple[str, ...] | None, contract: Contract, readings: Readings) -> tuple[str, ...]:
    """The chosen order, else the sandbox_choice's (reversed when which-error-wins is `reversed`)."""
    order = tuple(contract.behaviour.precedence.sandbox_choice["order"])
    if readings.takes(WHICH_ERROR_WINS, "reversed"):
        order = order[::-1]
    order = tuple(chosen or order)
    if sorted(order) != sorted(CHECK_GROUPS):
        raise ValueError(
            f"precedence must order each of {sorted(CHECK_GROUPS)} exactly once, got {list(order)}"
        )
    return order


def default_messages(contract: Contract) -> dict[str, str]:
    """The `error` text per body code (row id where there is none): openapi.yaml's example, else the meaning.

    The documented texts live in the response examples of openapi.yaml, so they are read from there
    rather than written a second time here.
    """
    # A row without a body code (401, 429, 503) is keyed by its row id, for a reading that gives it a body.
    messages = {row.code or row.id: row.meaning for row in contract.table.rows}
    messages.update({code: code.replace("_", " ").lower() for code in contract.behaviour.extra_codes})
    messages.update(_documented_messages(contract.openapi))
    return messages


def _documented_messages(openapi: Mapping[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in openapi.get("paths", {}).values():
        for operation in item.values() if isinstance(item, dict) else ():
            responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
            for response in responses.values():
                example = response.get("content", {}).get("application/json", {}).get("example")
                if isinstance(example, dict) and isinstance(example.get("code"), str):
                    found[example["code"]] = str(example.get("error", ""))
    return found
