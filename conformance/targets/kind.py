"""What differs between the kinds of target the suite tests, behind one small protocol.

As httpx has one transport class per way of sending, the suite has one class per kind of target
(`targets/kinds/`): the embedded sandbox in-process, a live base URL, recorded cassettes. A kind
says what its target's data is and how to open it for a run; the rest of the suite never asks
which kind it has (a `Target` knows its kind's `Traits` only). A new kind is one new module and one
entry in `kinds/__init__.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from conformance.profile.traits import Traits

if TYPE_CHECKING:
    from conformance.cassettes.recorded import RecordedTest
    from conformance.contract import Contract
    from conformance.profile.target_profile import TargetProfile
    from conformance.sandbox import Sandbox
    from conformance.targets.target import Recorder, Target


@dataclass(frozen=True)
class RunOptions:
    """What the run was asked for, beyond the contract and the profile."""

    base_url: str | None = None  # None: the profile's
    allow_rate_limit_probe: bool = False
    workers: int = 1  # parallel pytest-xdist workers, each with its share of the rate budget
    recording: bool = False  # cassettes are being recorded from this target
    pseudonym_key: str | None = None  # the key of the pseudonyms in cassettes, if one is set
    sandbox_readings: Mapping[str, str] = field(default_factory=dict)  # for an embedded sandbox
    # The plugin hook `pytest_conformance_sandbox`: a test run's own embedded sandbox, if it gives one.
    sandbox_hook: Callable[..., Sandbox | None] | None = None


class TargetKind(Protocol):
    traits: Traits

    def open(
        self, contract: Contract, profile: TargetProfile, record: Recorder, options: RunOptions
    ) -> AbstractContextManager[Target]:
        """The target, ready for a run; closed (connections, control API) when the run ends."""

    def begin_test(self, target: Target, recorded: RecordedTest | None, *, path: Path, rerecord: str) -> None:
        """Before each test: a replay gives it what its recording had (the others do nothing)."""
