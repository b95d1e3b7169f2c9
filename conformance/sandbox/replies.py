"""Responses as the contract shapes them: success bodies, the error envelope, and body-less rows.

A row the table says *sometimes* has a body (401, 503) gets one where the bodies probe's sandbox_choice
says so or the reading bodies-of-401-and-503 is `json`; having no body code, that body is `{"error"}`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.contract import Contract
from conformance.contract.rules import ProbeId
from conformance.sandbox.readings import BODIES_OF_401_AND_503, Readings


@dataclass(frozen=True)
class Reply:
    """A response before it is encoded; `code` is the row id answered (None on success)."""

    status: int
    body: Mapping[str, Any] | None
    code: str | None = None
    headers: tuple[tuple[str, str], ...] = ()  # besides Content-Length, Date and Content-Type

    @property
    def body_code(self) -> str | None:
        return self.body.get("code") if self.body is not None else None

    def encoded(self) -> bytes:
        # ensure_ascii keeps any lone surrogate that reached a body encodable.
        return b"" if self.body is None else json.dumps(self.body, separators=(",", ":")).encode()


class Replies:
    """Builds replies from row ids, reading status, body code and body presence from the contract."""

    def __init__(self, contract: Contract, messages: Mapping[str, str], readings: Readings) -> None:
        self._contract = contract
        self._messages = messages
        behaviour = contract.behaviour
        self._success = {behaviour.success_field: behaviour.success_value}
        self._success_status = behaviour.success_status
        probe = next((p for p in behaviour.probes if p.id == ProbeId.BODIES_OF_401_AND_503), None)
        self._sometimes_has_body = bool(
            probe and probe.expectation.sandbox_choice.get("body", False)
        ) or readings.takes(BODIES_OF_401_AND_503, "json")

    def ok(self, **fields: Any) -> Reply:
        return Reply(self._success_status, {**self._success, **fields})

    def error(self, code: str, **extra: Any) -> Reply:
        """The reply for a row id (or extra code); `extra` fields join the envelope when it has a body,
        and `code` joins it when the row has a body code."""
        status = self._contract.status_of(code)
        if not self._has_body(code):
            return Reply(status, None, code)
        body_code = self._contract.body_code(code)
        envelope: dict[str, Any] = {"error": self._messages.get(body_code or code, body_code or code)}
        if body_code is not None:
            envelope["code"] = body_code
        return Reply(status, {**envelope, **extra}, code)

    def _has_body(self, code: str) -> bool:
        if code in self._contract.behaviour.extra_codes:
            return True
        presence = self._contract.table.row(code).body
        return presence == "always" or (presence == "sometimes" and self._sometimes_has_body)

    def row_for_status(self, status: int) -> str:
        """The one row with this status (how a status fault names its row); ValueError if not exactly one."""
        rows = [row.id for row in self._contract.table.rows if row.status == status]
        if len(rows) != 1:
            raise ValueError(
                f"status {status} matches {len(rows)} rows of the error table; a status fault needs one"
            )
        return rows[0]
