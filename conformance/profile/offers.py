"""What a target offers the suite besides its API.

A test's path depends on it (a fault test skips without a control API, a wait moves a virtual clock
instead of sleeping), so a cassette records it with every test and its replay offers the same.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Offers:
    control: bool  # a control API (faults)
    virtual_clock: bool  # a clock the suite moves instead of sleeping
    rate_limit_probe: bool  # a 429 may be provoked
    accounts: tuple[str, ...]  # the account states it has keys for

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Offers:
        """Raises ValueError, KeyError or TypeError on a damaged text (the caller names the file)."""
        data = json.loads(text)
        return cls(
            bool(data["control"]),
            bool(data["virtual_clock"]),
            bool(data["rate_limit_probe"]),
            tuple(data["accounts"]),
        )
