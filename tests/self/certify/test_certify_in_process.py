"""In-process certification: respx plays the scenario, a virtual clock stands in for the client's waits."""

from __future__ import annotations

import random
import time

import httpx
import pytest

from conformance.certify import FlowSettings, certify_in_process
from conformance.certify.verdict import Ruling
from conformance.client import run_flow


def test_the_reference_client_passes_every_rule_in_process() -> None:
    result = certify_in_process(run_flow)
    assert result.exit_status == 0, result.failed_rules()
    assert not [v.rule.id for v in result.verdicts.values() if v.verdict == Ruling.NOT_EXERCISED]


def test_waits_cost_virtual_time_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The budget scenario's backoff spans tens of virtual seconds, and less than that in wall time.

    The reference client's jitter is drawn from a seeded generator here: how long its waits add up to
    is a draw (10 s or less in 4 of 300 unseeded runs), and this test is about the clock, not the draw."""
    unseeded = random.Random
    monkeypatch.setattr(random, "Random", lambda: unseeded(20261207))
    result = certify_in_process(run_flow, ["register-503-always"])
    run = result.runs[0]
    span = run.seconds(run.attempts[-1].received)
    assert span > 10
    assert run.wall_seconds < span


def retry_forever(settings: FlowSettings) -> None:
    """A flawed client: /register until it succeeds, one second apart, swallowing every exception."""
    with httpx.Client(base_url=settings.base_url) as client:
        while True:
            try:
                if (
                    client.post(
                        "/api/v1/live-activity/register", headers={"X-Api-Key": settings.api_key}, json={}
                    ).status_code
                    == 200
                ):
                    return
            except Exception:  # noqa: S110 - the flaw under test
                pass
            settings.sleep(1.0)


def test_a_runaway_client_is_stopped_and_fails_the_budget_alone() -> None:
    begin = time.perf_counter()
    result = certify_in_process(retry_forever, ["register-503-always"])
    assert time.perf_counter() - begin < 30  # stopped by the harness, not by the test's patience
    assert result.runs[0].stopped == "attempts"
    assert {r for r in result.failed_rules() if not r.startswith("log-")} == {"retry-budget"}


def test_a_client_that_talks_to_another_host_gets_an_error_not_the_network() -> None:
    def elsewhere(_settings: FlowSettings) -> None:
        httpx.post("http://example.invalid/api/v1/live-activity/register")

    result = certify_in_process(elsewhere, ["update-400"])
    assert result.runs[0].ended.startswith("raised ")
    assert not result.runs[0].attempts
