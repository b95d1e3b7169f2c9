"""Eligibility counters and the token-sync gate, each documented case named and always run.

The lifecycle machine wanders through these states too; these tests make sure every documented
counter (`added`, `skipped.*`, `gdpr_denied_details`) and every sync outcome (all, some, none
synced) is reached in every run, whatever Hypothesis draws.
"""

from __future__ import annotations

import pytest

from conformance.contract import load_contract
from conformance.core.exchange import Request
from conformance.generate.bodies import push_body
from conformance.suite.valid import creating_body
from conformance.targets.arrange import Arranger, insiders_of_kind
from conformance.targets.verifier import Verifier


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    behaviour = load_contract(metafunc.config.getoption("contracts")).behaviour
    if "eligibility_class" in metafunc.fixturenames:
        classes = [name for name, c in behaviour.eligibility.classes.items() if c.counter is None]
        metafunc.parametrize("eligibility_class", classes)
    if "gated_endpoint" in metafunc.fixturenames:
        metafunc.parametrize("gated_endpoint", behaviour.sync_gate.endpoints)


def test_ineligible_insider_is_counted_beside_an_eligible_one(
    arrange: Arranger, eligibility_class: str
) -> None:
    """/register with an eligible insider and one of each other class: 200 with that class's counter."""
    others = arrange.profile.insiders_of(eligibility_class)
    if not others:
        arrange.skip(f"the target profile lists no insider of class {eligibility_class!r}")
    chosen = (*arrange.profile.syncing_insiders()[:1], others[0])
    arrange.register(chosen, case=f"an eligible insider beside a {eligibility_class} one")


def test_only_ineligible_insiders_get_no_eligible_device(verifier: Verifier, eligibility_class: str) -> None:
    """/register with insiders of one ineligible class only: 422 NO_ELIGIBLE_DEVICE with the counters."""
    insiders = verifier.profile.insiders_of(eligibility_class)
    if not insiders:
        verifier.skip(f"the target profile lists no insider of class {eligibility_class!r}")
    # a second id no profile knows, so a class of one insider is not the single-insider rule
    ids = [i.insider_id for i in insiders[:2]] + ["conformance-unknown-insider"]
    request = Request(verifier.contract.roles.creates_activity, creating_body(verifier, ids))
    verifier.verify(request, case=f"only {eligibility_class} insiders")


def _gated(arrange: Arranger, endpoint: str, *, syncing: int, offline: int, label: str) -> None:
    chosen = insiders_of_kind(arrange.profile, syncing, offline)
    if len(chosen) != syncing + offline:
        arrange.skip("the target profile lists too few syncing or never-syncing insiders for this case")
    activity = arrange.synced(chosen)
    request = Request(endpoint, push_body(activity))
    arrange.verifier.verify(request, case=label)
    if not syncing:
        # A 412 changes nothing: the activity is still there, still gated (the ending one: not deleted).
        arrange.verifier.verify(request, case=f"{label}, again")


@pytest.mark.synced(syncing=1)
def test_all_targets_synced(arrange: Arranger, gated_endpoint: str) -> None:
    """After the sync bound, with every device synced: 200 and no skipped_not_synced."""
    _gated(arrange, gated_endpoint, syncing=1, offline=0, label="all synced")


@pytest.mark.synced(syncing=1, offline=1)
def test_some_targets_synced(arrange: Arranger, gated_endpoint: str) -> None:
    """After the sync bound, with an offline device too: 200 with skipped_not_synced counting it."""
    _gated(arrange, gated_endpoint, syncing=1, offline=1, label="some synced")


@pytest.mark.synced(syncing=0, offline=1)
def test_no_target_synced(arrange: Arranger, gated_endpoint: str) -> None:
    """With only an offline device: 412 PUSH_TOKEN_NOT_SYNCED (and /end leaves the activity alive)."""
    _gated(arrange, gated_endpoint, syncing=0, offline=1, label="none synced")
