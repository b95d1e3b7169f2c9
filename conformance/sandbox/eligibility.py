"""Which counter of a /register or /add-users response each insider's devices land in.

The class of an insider comes from the seeded directory; what each class counts as comes from
behaviour.yaml `eligibility.classes`. Units follow the docs: `matched` counts insiders, `added` and
`refreshed` count devices, `skipped.*` count devices except for insiders without a profile (one each).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from conformance.contract.model import Eligibility
from conformance.sandbox.seed import NO_PROFILE, Seed

DeviceKey = tuple[str, str]  # (insider_id, udid)


@dataclass
class SegmentDelta:
    """What merging some insider ids into a segment would do."""

    matched: int = 0
    added: dict[DeviceKey, bool] = field(default_factory=dict)  # device -> whether its token ever syncs
    refreshed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    gdpr_denied: dict[str, int] = field(default_factory=dict)  # insider id -> devices count

    @property
    def eligible_devices(self) -> int:
        return len(self.added) + self.refreshed

    def gdpr_details(self) -> list[dict[str, object]]:
        return [{"insider_id": i, "devices_count": n} for i, n in self.gdpr_denied.items()]


class EligibilityRules:
    def __init__(self, eligibility: Eligibility, seed: Seed) -> None:
        self._rules = eligibility
        self._seed = seed

    @property
    def skipped_keys(self) -> tuple[str, ...]:
        return self._rules.skipped_keys

    def has_no_profile(self, insider_id: str) -> bool:
        return self._seed.lookup(insider_id).eligibility == NO_PROFILE

    def evaluate(self, insider_ids: Iterable[str], segment: Collection[DeviceKey]) -> SegmentDelta:
        """Classify each id; a device already in `segment` (or earlier in this call) is refreshed."""
        delta = SegmentDelta(skipped=dict.fromkeys(self._rules.skipped_keys, 0))
        matched: set[str] = set()
        for insider_id in insider_ids:
            entry = self._seed.lookup(insider_id)
            rule = self._rules.classes[entry.eligibility]
            if rule.counter is not None:
                matched.add(insider_id)
                for device in entry.devices:
                    key = (insider_id, device.udid)
                    if key in segment or key in delta.added:
                        delta.refreshed += 1
                    else:
                        delta.added[key] = device.syncs
            elif rule.skipped is not None:
                weight = 1 if entry.eligibility == NO_PROFILE else len(entry.devices)
                delta.skipped[rule.skipped] += weight
            elif rule.gdpr_denied:
                delta.gdpr_denied[insider_id] = len(entry.devices)
        delta.matched = len(matched)
        return delta
