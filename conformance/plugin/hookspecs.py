"""Hooks the suite offers to conftest files and plugins (added with `pytest_addhooks`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conformance.contract import Contract
    from conformance.core.clock import VirtualClock
    from conformance.profile.target_profile import TargetProfile
    from conformance.sandbox import Sandbox


@pytest.hookspec(firstresult=True)
def pytest_conformance_sandbox(
    contract: Contract, profile: TargetProfile, clock: VirtualClock
) -> Sandbox | None:
    """Build the in-process sandbox for `--target sandbox`; None lets the next implementation decide.

    The default builds the reference sandbox. The project's self-tests implement it to run the suite
    against a differently configured (still conforming) sandbox and against deliberate mutants.
    """
