"""Which counter of a /register or /add-users response each insider's devices land in.

The class of an insider comes from the seeded directory; what each class counts as comes from
behaviour.yaml `eligibility.classes`. Units follow the docs: `matched` counts insiders, `added` and
`refreshed` count devices, `skipped.*` count devices except for insiders without a profile (one each).
Three readings change the counting: matched-unit=devices (`matched` counts eligible devices),
repeated-id-in-call=ignored (a repeated id counts once) and refreshed-scope=same-type (a device already
in another live activity of the same type is refreshed; the caller says which devices those are).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from conformance.contract.model import Eligibility
from conformance.sandbox.readings import GDPR_DENIED_IN_MATCHED, MATCHED_UNIT, REPEATED_ID_IN_CALL, Readings
from conformance.sandbox.seed import NO_PROFILE, Seed

DeviceKey = tuple[str, str]  # (insider_id, udid)


@dataclass
class SegmentDelta:
    """What merging some insider ids into a segment would do: the devices joining it, and the counters."""

    matched: int = 0
    joining: dict[DeviceKey, bool] = field(default_factory=dict)  # device -> whether its token ever syncs
    added: int = 0
    refreshed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    gdpr_denied: dict[str, int] = field(default_factory=dict)  # insider id -> devices count

    @property
    def eligible_devices(self) -> int:
        return self.added + self.refreshed

    def count(
        self, key: DeviceKey, syncs: bool, segment: Collection[DeviceKey], elsewhere: Collection[DeviceKey]
    ) -> None:
        """One eligible device: refreshed if already in the segment (or earlier in this call); else it
        joins, counted as added unless it is already in another live activity of the type."""
        if key in segment or key in self.joining:
            self.refreshed += 1
            return
        self.joining[key] = syncs
        if key in elsewhere:
            self.refreshed += 1
        else:
            self.added += 1

    def gdpr_details(self) -> list[dict[str, object]]:
        return [{"insider_id": i, "devices_count": n} for i, n in self.gdpr_denied.items()]


class EligibilityRules:
    def __init__(self, eligibility: Eligibility, seed: Seed, readings: Readings) -> None:
        self._rules = eligibility
        self._seed = seed
        self._matched_devices = readings.takes(MATCHED_UNIT, "devices")
        self._repeats_ignored = readings.takes(REPEATED_ID_IN_CALL, "ignored")
        self._gdpr_denied_matched = readings.takes(GDPR_DENIED_IN_MATCHED, "counted")

    @property
    def skipped_keys(self) -> tuple[str, ...]:
        return self._rules.skipped_keys

    def has_no_profile(self, insider_id: str) -> bool:
        return self._seed.lookup(insider_id).eligibility == NO_PROFILE

    def evaluate(
        self,
        insider_ids: Iterable[str],
        segment: Collection[DeviceKey],
        elsewhere: Collection[DeviceKey] = frozenset(),
    ) -> SegmentDelta:
        """Classify each id; `SegmentDelta.count` says how an eligible device counts."""
        delta = SegmentDelta(skipped=dict.fromkeys(self._rules.skipped_keys, 0))
        matched: set[str] = set()
        for insider_id in dict.fromkeys(insider_ids) if self._repeats_ignored else insider_ids:
            entry = self._seed.lookup(insider_id)
            rule = self._rules.classes[entry.eligibility]
            if rule.counter is not None:
                matched.add(insider_id)
                for device in entry.devices:
                    delta.count((insider_id, device.udid), device.syncs, segment, elsewhere)
            elif rule.skipped is not None:
                weight = 1 if entry.eligibility == NO_PROFILE else len(entry.devices)
                delta.skipped[rule.skipped] += weight
            elif rule.gdpr_denied:
                delta.gdpr_denied[insider_id] = len(entry.devices)
        delta.matched = delta.eligible_devices if self._matched_devices else len(matched)
        if self._gdpr_denied_matched:
            denied = delta.gdpr_denied
            delta.matched += sum(denied.values()) if self._matched_devices else len(denied)
        return delta
