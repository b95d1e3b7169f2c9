"""The sandbox's accounts and insider directory, seeded from a target profile.

Nothing here is hard-coded: the keys per account state and the insiders per eligibility class are
whatever the profile lists, so another profile seeds another, equally conforming sandbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from conformance.contract import Contract
from conformance.profile.target_profile import Device, TargetProfile

# Account states (behaviour.yaml `accounts`) for a request that carries no key, or a key no account has.
MISSING_KEY = "missing_key"
UNKNOWN_KEY = "unknown_key"
# The eligibility class (behaviour.yaml `eligibility.classes`) of an insider without a profile; ids the
# directory does not know belong to it too.
NO_PROFILE = "no_profile"


@dataclass(frozen=True)
class DirectoryEntry:
    insider_id: str
    eligibility: str
    devices: tuple[Device, ...]


@dataclass(frozen=True)
class Seed:
    """Keys to account states, and insider ids to their directory entry."""

    accounts: Mapping[str, str]
    directory: Mapping[str, DirectoryEntry]

    def account_of(self, key: str | None) -> str:
        if key is None:
            return MISSING_KEY
        return self.accounts.get(key, UNKNOWN_KEY)

    def lookup(self, insider_id: str) -> DirectoryEntry:
        """The insider's entry; an unknown id is an insider without a profile."""
        entry = self.directory.get(insider_id)
        return entry if entry is not None else DirectoryEntry(insider_id, NO_PROFILE, ())

    def keys_by_state(self) -> dict[str, str]:
        return {state: key for key, state in self.accounts.items()}


def seed_from(profile: TargetProfile, contract: Contract) -> Seed:
    """Seed from the profile; an account whose key comes from an unset variable is left out."""
    for state in (MISSING_KEY, UNKNOWN_KEY):
        if state not in contract.behaviour.accounts:
            raise ValueError(f"behaviour.yaml `accounts` lacks {state!r}, which the sandbox answers with")
    if NO_PROFILE not in contract.behaviour.eligibility.classes:
        raise ValueError(f"behaviour.yaml `eligibility.classes` lacks {NO_PROFILE!r}")
    accounts = {key: state for state, account in profile.accounts.items() if (key := account.key())}
    directory = {
        insider.insider_id: DirectoryEntry(insider.insider_id, insider.eligibility, insider.devices)
        for insider in profile.insiders
    }
    return Seed(accounts=accounts, directory=directory)
