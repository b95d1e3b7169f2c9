"""Recorded cassettes: no server; VCR.py answers, and each test gets the clock its recording read.

A live recording holds pseudonyms only: the replay uses the profile with its ids replaced the same
way, so that it sends what was recorded and reads answers that name the same insiders.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from conformance.cassettes.pseudonyms import Pseudonyms
from conformance.cassettes.recorded import RecordedTest
from conformance.contract import Contract
from conformance.core.clock import VirtualClock
from conformance.profile.target_profile import TargetProfile
from conformance.profile.traits import Traits
from conformance.targets.api_client import ApiClient, rate_budget
from conformance.targets.kind import RunOptions
from conformance.targets.replay import Replay
from conformance.targets.target import Recorder, Target


class CassettesKind:
    traits = Traits(
        name="cassettes",
        remote=False,
        needs_profile=False,
        personal_data=False,
        shared_between_workers=False,
        replays=True,
    )

    def __init__(self) -> None:
        self._replay: Replay | None = None

    @contextmanager
    def open(
        self, contract: Contract, profile: TargetProfile, record: Recorder, options: RunOptions
    ) -> Iterator[Target]:
        key = options.pseudonym_key
        pseudonyms = Pseudonyms(key, profile.personal_ids()) if key else None
        if pseudonyms is not None:
            profile = profile.with_ids(pseudonyms.apply)
        clock = VirtualClock()
        replay = self._replay = Replay(clock)
        transport = httpx.MockTransport(_unrecorded)
        with httpx.Client(base_url=profile.base_url, transport=transport) as http:
            client = ApiClient(
                contract,
                profile,
                http,
                rate_budget(contract, profile, clock),
                now=lambda: clock.now().timestamp(),
                intercept=replay.control.intercept,
            )
            yield Target(
                self.traits,
                contract,
                profile,
                client,
                replay.clock,
                replay.control,
                record,
                pseudonyms=pseudonyms,
                sleep=replay.wait,  # that time passed while recording
            )

    def begin_test(self, target: Target, recorded: RecordedTest | None, *, path: Path, rerecord: str) -> None:
        """Give the test the clock its recording read and what its target offered; without a
        recording, its first request fails naming the recording command."""
        if recorded is not None and self._replay is not None:
            self._replay.begin(target, recorded, path=path, rerecord=rerecord)


def _unrecorded(request: httpx.Request) -> httpx.Response:
    """Reached only when no cassette is active: replay never touches a network."""
    raise httpx.ConnectError(
        "--target cassettes replays recordings only: no cassette is active here", request=request
    )
