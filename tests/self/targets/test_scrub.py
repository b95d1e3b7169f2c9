"""What a failure message shows of a live target's insiders: which profile entry, never the id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from conformance.core.clock import rfc3339
from conformance.core.exchange import Request
from conformance.generate.bodies import register_body
from conformance.judging.failures import ContractViolation
from conformance.judging.results import CaseResult, Verdict
from conformance.profile.target_profile import replace_ids
from conformance.targets.kinds import kind_named
from conformance.targets.servertime import ExactServerClock
from conformance.targets.target import Target
from conformance.targets.verifier import Verifier
from tests.self.reference import bundled_contract, sandbox_profile
from tests.self.targets.targets_support import client

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_every_insider_id_and_udid_has_its_own_alias() -> None:
    aliases = sandbox_profile().aliases()
    assert set(aliases) == set(sandbox_profile().personal_ids())
    assert len(set(aliases.values())) == len(aliases)
    assert not [a for a in aliases.values() if any(i in a for i in sandbox_profile().personal_ids())]
    gdpr = sandbox_profile().insiders_of("gdpr_denied")[0]
    assert aliases[gdpr.insider_id] == "<gdpr_denied 1>"
    assert aliases[gdpr.devices[1].udid] == "<gdpr_denied 1 device 2>"


def test_an_id_that_is_a_piece_of_another_is_replaced_whole() -> None:
    assert replace_ids("u-10 u-1", {"u-1": "A", "u-10": "B"}) == "B A"


def _violation(kind: str) -> tuple[str, CaseResult]:
    """The message and recorded case of a violation on a target that answers a /register of profile
    insiders (a GDPR-denied one among them, whom the expected answer names) with a 500 whose body
    names them."""
    insiders = (*sandbox_profile().syncing_insiders(), *sandbox_profile().insiders_of("gdpr_denied"))
    named = " ".join(i.insider_id + " " + i.devices[0].udid for i in insiders)

    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"error": f"failed for {named}", "code": "INTERNAL"})

    recorded: list[CaseResult] = []
    target = Target(
        kind_named(kind).traits,
        bundled_contract(),
        sandbox_profile(),
        client(handler),
        ExactServerClock(lambda: NOW),
        None,
        recorded.append,
    )
    verifier = Verifier(target=target, test="test_scrub", record_property=lambda *_: None)
    ids = [i.insider_id for i in insiders]
    body = register_body(bundled_contract(), sandbox_profile(), ids, rfc3339(NOW + timedelta(hours=1)))
    with pytest.raises(ContractViolation) as raised:
        verifier.verify(Request(bundled_contract().roles.creates_activity, body), case="scrub")
    assert recorded[-1].verdict == Verdict.FAILED
    return str(raised.value), recorded[-1]


def test_a_live_failure_names_insiders_by_profile_entry_only() -> None:
    """The request (curl), the expected answer and the answer all name insiders; neither the message
    nor the case the results file keeps holds an id."""
    message, case = _violation("live")
    kept = message + repr(case)
    assert [i for i in sandbox_profile().personal_ids() if i in kept] == []
    assert "<eligible 1>" in message
    assert "<eligible 1 device 1>" in message
    assert "<gdpr_denied 1>" in " ".join(case.expected)
    assert [s for s in sandbox_profile().secrets() if s in kept] == []


def test_a_sandbox_failure_keeps_the_ids_it_seeded() -> None:
    """The sandbox's ids are test values: its messages show them, so the curl can be pasted as is."""
    message, _ = _violation("sandbox")
    assert sandbox_profile().syncing_insiders()[0].insider_id in message
