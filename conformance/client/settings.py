"""What an integration under certification is given: the same facts over HTTP and in-process.

Over HTTP (`conformance certify --command CMD`), CMD reads them from its environment
(`LA_BASE_URL`, `LA_API_KEY`, `LA_INSIDER_IDS`, `LA_ACTIVITY_TYPE`, `LA_LOG_FILE`). In-process, a
Python integration is a callable that takes a `FlowSettings`; it must send through httpx (respx
plays the scenario) and must sleep and read time only through `sleep` and `now`, so that a virtual
clock stands in for its waits and a 1-2-4-8 s backoff costs no wall time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class FlowSettings:
    base_url: str
    api_key: str
    insider_ids: tuple[str, ...]
    activity_type: str
    log_file: Path
    # The integration's only way to wait and to read elapsed time (monotonic seconds).
    sleep: Callable[[float], None] = field(default=time.sleep)
    now: Callable[[], float] = field(default=time.monotonic)


# A Python integration's normal flow: register, add users, start, update, end, as it does in production.
Integration = Callable[[FlowSettings], object]
