"""A target's control API: faults, its clock, its rate limit. The suite sees every kind through `Control`.

The in-process sandbox offers its `SandboxControl` object (`kinds/sandbox.py`); a served sandbox (or
any target that implements the same HTTP API) offers it under /_sandbox/, guarded by a control token.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal, Protocol

import httpx

from conformance.core.errors import TargetError

FaultKind = Literal["status", "latency", "drop_after_commit"]
CONTROL_HEADER = "X-Sandbox-Control"
CONTROL_TIMEOUT_SECONDS = 10.0


class Control(Protocol):
    """What a target's control API offers: faults and, for a virtual clock, moving time."""

    clock_is_virtual: bool

    def inject(
        self,
        endpoint: str | None,
        kind: FaultKind,
        *,
        status: int | None = None,
        latency_ms: int = 0,
        times: int = 1,
    ) -> None: ...

    def clear_faults(self) -> None: ...

    def advance_clock(self, seconds: float) -> None: ...

    def limit_rate(self, requests_per_minute: int | None) -> None:
        """Enforce this limit from a fresh window on (None: the target's own limit again)."""


class HttpControl:
    """The sandbox's HTTP control API under /_sandbox/, authenticated by its control token."""

    def __init__(self, base_url: str, token: str) -> None:
        self._http = httpx.Client(
            base_url=f"{base_url.rstrip('/')}/_sandbox",
            timeout=CONTROL_TIMEOUT_SECONDS,
            headers={CONTROL_HEADER: token},
        )
        clock = self._call("GET", "/clock")
        self.clock_is_virtual = bool(clock.get("virtual"))
        # A virtual clock moves only when told to: read once, it is known exactly from then on.
        self._virtual_now = _moment(clock, str(self._http.base_url)) if self.clock_is_virtual else None

    def _call(self, method: str, path: str, body: dict[str, object] | None = None) -> dict[str, object]:
        response = self._http.request(method, path, json=body)
        if response.status_code >= 400:
            raise TargetError(
                str(self._http.base_url),
                f"{method} {path}",
                f"the control API answered {response.status_code}",
                "check the control token (the profile's control.token_env) and that the target has the API",
            )
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise TargetError(
                str(self._http.base_url),
                f"{method} {path}",
                f"the control API answered {response.status_code} with no JSON object",
                "point the profile at the target itself (a served sandbox), not at a proxy or a page",
            )
        return data

    def inject(
        self,
        endpoint: str | None,
        kind: FaultKind,
        *,
        status: int | None = None,
        latency_ms: int = 0,
        times: int = 1,
    ) -> None:
        self._call(
            "POST",
            "/faults",
            {"endpoint": endpoint, "kind": kind, "status": status, "latency_ms": latency_ms, "times": times},
        )

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def advance_clock(self, seconds: float) -> None:
        self._call("POST", "/clock", {"advance_seconds": seconds})
        if self._virtual_now is not None:
            self._virtual_now += timedelta(seconds=seconds)

    def virtual_now(self) -> datetime:
        """The target's virtual clock (only when `clock_is_virtual`): what it read, plus our advances.

        Exact while this run is the only one moving it: parallel workers are refused a control API,
        and two runs against one served virtual sandbox would each miss the other's advances."""
        assert self._virtual_now is not None, "the target's clock is real: bracket it from Date headers"
        return self._virtual_now

    def limit_rate(self, requests_per_minute: int | None) -> None:
        self._call("POST", "/rate-limit", {"requests_per_minute": requests_per_minute})

    def close(self) -> None:
        self._http.close()


def _moment(clock: dict[str, object], where: str) -> datetime:
    """The `now` of a control API's /clock answer."""
    try:
        return datetime.fromisoformat(str(clock["now"]))
    except (KeyError, ValueError):
        raise TargetError(
            where,
            "GET /clock",
            "the control API's clock answer has no ISO 8601 `now`",
            "serve the target with `conformance sandbox serve`, whose control API gives it",
        ) from None
