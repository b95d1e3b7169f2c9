"""A live base URL: a real client within the rate budget, a clock bracketed from `Date` headers.

When the profile names a control token, the target's control API is the sandbox's HTTP one (how CI
exercises this path against `conformance sandbox serve`). Its insiders are real people.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conformance.cassettes.pseudonyms import Pseudonyms
from conformance.cassettes.recorded import RecordedTest
from conformance.contract import Contract
from conformance.profile.target_profile import TargetProfile
from conformance.profile.traits import Traits
from conformance.targets.api_client import ApiClient, rate_budget
from conformance.targets.bounded import bounded_client
from conformance.targets.control_client import HttpControl
from conformance.targets.kind import RunOptions
from conformance.targets.replay import RecordingServerClock
from conformance.targets.servertime import BracketedServerClock, ExactServerClock
from conformance.targets.target import Recorder, Target

LIVE_TIMEOUT_SECONDS = 10.0


class LiveKind:
    traits = Traits(
        name="live",
        remote=True,
        needs_profile=True,
        personal_data=True,
        shared_between_workers=True,
        replays=False,
    )

    @contextmanager
    def open(
        self, contract: Contract, profile: TargetProfile, record: Recorder, options: RunOptions
    ) -> Iterator[Target]:
        base_url = options.base_url or profile.base_url
        # pytest_configure refused a recording of personal data without the pseudonym key.
        pseudonyms = (
            Pseudonyms(options.pseudonym_key, profile.personal_ids())
            if options.recording and options.pseudonym_key
            else None
        )
        with bounded_client(base_url=base_url, timeout=LIVE_TIMEOUT_SECONDS) as http:
            budget = rate_budget(contract, profile, workers=options.workers)
            client = ApiClient(contract, profile, http, budget)
            token = profile.control_token()
            control = HttpControl(base_url, token) if token else None
            # A served sandbox on a virtual clock is read exactly; a real clock is bracketed.
            virtual = control is not None and control.clock_is_virtual
            clock = ExactServerClock(control.virtual_now) if control and virtual else BracketedServerClock()
            target = Target(
                self.traits,
                contract,
                profile,
                client,
                RecordingServerClock(clock) if options.recording else clock,
                control,
                record,
                allow_rate_limit_probe=options.allow_rate_limit_probe,
                pseudonyms=pseudonyms,
            )
            try:
                yield target
            finally:
                if control is not None:
                    control.close()

    def begin_test(self, target: Target, recorded: RecordedTest | None, *, path: Path, rerecord: str) -> None:
        """Nothing to give a test: it measures the live target afresh."""
