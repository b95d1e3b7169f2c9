"""What a kind of target is, as far as the rest of the suite needs to know: a value, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Traits:
    name: str  # what `--target` calls it
    remote: bool  # reached over the network at a base URL the profile must declare
    needs_profile: bool  # it has no default profile: the run must name one
    personal_data: bool  # its insiders are real people: pseudonymised in recordings, aliased in messages
    shared_between_workers: bool  # parallel workers reach one target, and see each other's faults
    replays: bool  # answered from cassettes: no network; each test takes its recording's path
