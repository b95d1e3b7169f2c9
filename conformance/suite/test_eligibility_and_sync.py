"""Eligibility counters and the token-sync gate, each documented case named and always run.

The lifecycle machine wanders through these states too; these tests make sure every documented
counter (`added`, `skipped.*`, `gdpr_denied_details`) and every sync outcome (all, some, none
synced) is reached in every run, whatever Hypothesis draws.
"""

from __future__ import annotations

import pytest

from conformance.contract import load_contract
from conformance.exchange import Request
from conformance.generate.strategies import place_ends_at
from conformance.targets.target import Verifier


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    behaviour = load_contract(metafunc.config.getoption("contracts")).behaviour
    if "eligibility_class" in metafunc.fixturenames:
        classes = [name for name, c in behaviour.eligibility.classes.items() if c.counter is None]
        metafunc.parametrize("eligibility_class", classes)
    if "gated_endpoint" in metafunc.fixturenames:
        metafunc.parametrize("gated_endpoint", behaviour.sync_gate.endpoints)


def test_ineligible_insider_is_counted_beside_an_eligible_one(
    conformance: Verifier, eligibility_class: str
) -> None:
    """/register with an eligible insider and one of each other class: 200 with that class's counter."""
    others = conformance.profile.insiders_of(eligibility_class)
    if not others:
        conformance.skip(f"the target profile lists no insider of class {eligibility_class!r}")
    chosen = (*conformance.profile.syncing_insiders()[:1], others[0])
    conformance.register(chosen, case=f"an eligible insider beside a {eligibility_class} one")


def test_only_ineligible_insiders_get_no_eligible_device(
    conformance: Verifier, eligibility_class: str
) -> None:
    """/register with insiders of one ineligible class only: 422 NO_ELIGIBLE_DEVICE with the counters."""
    insiders = conformance.profile.insiders_of(eligibility_class)
    if not insiders:
        conformance.skip(f"the target profile lists no insider of class {eligibility_class!r}")
    window = conformance.contract.behaviour.ends_at
    body = {
        "activity_type": conformance.profile.activity_type,
        # a second id no profile knows, so a class of one insider is not the single-insider rule
        "insider_ids": [i.insider_id for i in insiders[:2]] + ["conformance-unknown-insider"],
        "ends_at": place_ends_at(window.minimum.value + 120, conformance.when(), window)[0],
    }
    conformance.verify(Request("register", body), case=f"only {eligibility_class} insiders")


def _gated(conformance: Verifier, endpoint: str, *, syncing: int, offline: int, label: str) -> None:
    profile = conformance.profile
    chosen = (*profile.syncing_insiders()[:syncing], *profile.never_syncing_insiders()[:offline])
    if len(chosen) != syncing + offline:
        conformance.skip("the target profile lists too few syncing or never-syncing insiders for this case")
    activity = conformance.register(chosen)
    conformance.start(activity)
    conformance.wait_for_sync()
    request = Request(endpoint, conformance.push_body(activity))
    conformance.verify(request, case=label)
    if not syncing:
        # A 412 changes nothing: the activity is still there, still gated (END: not deleted).
        conformance.verify(request, case=f"{label}, again")


def test_all_targets_synced(conformance: Verifier, gated_endpoint: str) -> None:
    """After the sync bound, with every device synced: 200 and no skipped_not_synced."""
    _gated(conformance, gated_endpoint, syncing=1, offline=0, label="all synced")


def test_some_targets_synced(conformance: Verifier, gated_endpoint: str) -> None:
    """After the sync bound, with an offline device too: 200 with skipped_not_synced counting it."""
    _gated(conformance, gated_endpoint, syncing=1, offline=1, label="some synced")


def test_no_target_synced(conformance: Verifier, gated_endpoint: str) -> None:
    """With only an offline device: 412 PUSH_TOKEN_NOT_SYNCED (and /end leaves the activity alive)."""
    _gated(conformance, gated_endpoint, syncing=0, offline=1, label="none synced")
