"""Backoff judged as the table says: waits that grow pass, constant and linear ones are refused.

The growth test (certification.yaml `growth`) is exact under full jitter; these tests check its
stated false-refusal probability and power over many seeded draws of the reference client's own
backoff, and through the harness on the virtual clock.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from conformance.certify import certify_in_process, load_policy
from conformance.certify.judge import fisher, inversion_p_value, judge_runs, max_ratio_p_value
from conformance.certify.verdict import Ruling
from conformance.client.backoff import Backoff
from conformance.sandbox.scripted import Attempt
from tests.self.certify.certify_support import attempt, run_of, seeded_reference
from tests.self.certify.clients.flawed import flawed_integration

POLICY = load_policy()
LIMIT = POLICY.growth.false_refusal
RETRIES = 5  # the generated 429 and 503 scenarios answer the first five attempts with the fault
BACKOFF = Backoff.from_contract(POLICY.contract)
Wait = Callable[[int, random.Random], float]


def refused(chains: list[list[float]]) -> bool:
    """The judge's decision on these calls' waits (either p-value at or below half the limit)."""
    ranks = inversion_p_value(chains)
    ratios = fisher([max_ratio_p_value(c) for c in chains])
    return min(ranks, ratios) <= LIMIT / 2


def refusal_rate(wait: Wait, calls: int, trials: int, seed: int) -> float:
    rng = random.Random(seed)  # noqa: S311 (simulated jitter)
    hits = sum(
        refused([[wait(n, rng) for n in range(1, RETRIES + 1)] for _ in range(calls)]) for _ in range(trials)
    )
    return hits / trials


def full_jitter(n: int, rng: random.Random) -> float:
    return BACKOFF.wait("backoff", n, rng)


def constant(_n: int, rng: random.Random) -> float:
    """0.1 s, give or take the 5 % a loopback round trip adds."""
    return 0.1 * rng.uniform(0.95, 1.05)


def linear(n: int, rng: random.Random) -> float:
    return 0.1 * n * rng.uniform(0.95, 1.05)


def capped_low(n: int, rng: random.Random) -> float:
    """Full jitter under a cap of 0.5 s: the ceiling stops growing after the first retry."""
    return rng.uniform(0.0, min(0.5, BACKOFF.ceiling(n)))


def test_full_jitter_is_refused_with_probability_at_most_the_stated_limit() -> None:
    """50,000 seeded runs of the reference backoff over the smallest plan (4 calls): the refusal
    rate stays within the stated 1e-4 (at most 10 refusals, where 5 would be the limit itself)."""
    assert LIMIT <= 1e-4
    assert refusal_rate(full_jitter, calls=POLICY.growth.min_calls, trials=50_000, seed=16) <= 10 / 50_000


@pytest.mark.parametrize("calls", [POLICY.growth.min_calls, 8])
def test_a_constant_wait_of_a_tenth_of_a_second_is_always_refused(calls: int) -> None:
    """Power against a constant 0.1 s wait: refused in every one of 10,000 seeded runs (>= 0.9999)."""
    assert refusal_rate(constant, calls=calls, trials=10_000, seed=17) == 1.0


def test_linear_waits_are_refused() -> None:
    """Waits of 0.1 s times the retry number are refused in every seeded run, from the smallest plan."""
    assert refusal_rate(linear, calls=POLICY.growth.min_calls, trials=2_000, seed=18) == 1.0


def test_waits_capped_too_low_are_refused_over_both_profiles() -> None:
    """Full jitter capped at 0.5 s, over core and segments (6 calls of a class), is refused in
    at least 95 % of seeded runs (the rates per plan size are in docs/certification.md)."""
    assert refusal_rate(capped_low, calls=6, trials=2_000, seed=19) >= 0.95


def _chain(endpoint: str, waits: list[float]) -> list[Attempt]:
    """A run whose /ENDPOINT met a 429 on five attempts, waiting `waits` before each retry."""
    entries = (
        [] if endpoint == "register" else [attempt(1, "register", 0.0, 200), attempt(2, "start", 0.1, 200)]
    )
    at = 0.2
    for waited in waits:
        entries.append(attempt(len(entries) + 1, endpoint, at, 429, row="HTTP_429"))
        at += 0.001 + waited
    entries.append(attempt(len(entries) + 1, endpoint, at, 200))
    return entries


CORE = ("register", "start", "update", "end")


def test_the_judge_refuses_constant_waits_across_scenarios_and_names_the_rule_only() -> None:
    """Four 429 scenarios waiting a constant 0.1 s: backoff-rate-limit fails on the growth test,
    every per-call mean wait passes, and no other rule fails; doubling waits pass."""
    runs = [run_of(POLICY, f"{e}-429", _chain(e, [0.1] * RETRIES)) for e in CORE]
    verdicts = judge_runs(POLICY, runs)
    assert {r for r, v in verdicts.items() if v.verdict == Ruling.FAILED} == {"backoff-rate-limit"}
    growth = verdicts["backoff-rate-limit"].outcomes[-1]
    assert growth.scenario == "all scenarios"
    assert growth.verdict == Ruling.FAILED
    assert "do not grow" in growth.reason
    assert all(o.verdict == Ruling.PASSED for o in verdicts["backoff-rate-limit"].outcomes[:-1])
    doubling = [run_of(POLICY, f"{e}-429", _chain(e, [0.5, 1.0, 2.0, 4.0, 8.0])) for e in CORE]
    assert judge_runs(POLICY, doubling)["backoff-rate-limit"].verdict == Ruling.PASSED


BACKOFF_SCENARIOS = [
    s.name for s in POLICY.plan(["segments"]) if {"backoff-rate-limit", "backoff-auth-layer"} & set(s.rules)
]


@pytest.mark.parametrize("seed", range(8))
def test_the_reference_full_jitter_passes_on_the_virtual_clock(seed: int) -> None:
    """Through the harness (virtual clock), the reference client's full jitter passes both backoff
    rules, whatever the seed."""
    certification = certify_in_process(seeded_reference(seed), BACKOFF_SCENARIOS, profiles=["segments"])
    assert certification.verdicts["backoff-rate-limit"].verdict == Ruling.PASSED
    assert certification.verdicts["backoff-auth-layer"].verdict == Ruling.PASSED


def test_a_constant_backoff_is_refused_on_the_virtual_clock() -> None:
    """The flawed client waiting a constant 0.1 s before every 429 retry fails backoff-rate-limit
    through the harness, on the growth test, and no other rule."""
    certification = certify_in_process(
        flawed_integration("constant-backoff"), BACKOFF_SCENARIOS, profiles=["segments"]
    )
    assert certification.failed_rules() == ("backoff-rate-limit",)
    assert "do not grow" in certification.verdicts["backoff-rate-limit"].reason
