"""The bundled contract and the embedded sandbox's profile, loaded on first use, once.

Self-test helpers call these instead of loading at import, so importing a helper reads no file and
a broken contract fails the tests that need it, with its own message.
"""

from __future__ import annotations

from functools import cache

from conformance.contract import Contract, load_contract
from conformance.profile.target_profile import TargetProfile, load_profile, sandbox_profile_path


@cache
def bundled_contract() -> Contract:
    return load_contract()


@cache
def sandbox_profile() -> TargetProfile:
    contract = bundled_contract()
    return load_profile(sandbox_profile_path(contract), contract)
