"""certification.yaml joined with the contract, and one message naming file, key path and fix for each way
a copy of it can be malformed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conformance.contract import load_contract
from conformance.contract.certification import Policy, load_policy
from conformance.contract.loader import default_contracts_dir
from conformance.core.errors import ContractError, UsageError


def test_rules_read_their_rows_and_endpoints_from_the_contract() -> None:
    """The 502 rules split the endpoints by behaviour.yaml idempotency; the 429 rule covers the 429 row."""
    policy = load_policy()
    blind = policy.rules["no-blind-retry-upstream"].trigger
    retried = policy.rules["retry-upstream-idempotent"].trigger
    assert blind is not None
    assert retried is not None
    idempotent = policy.contract.behaviour.idempotent
    assert all(not idempotent[e] for e in blind.endpoints)
    assert all(idempotent[e] for e in retried.endpoints)
    rate = policy.rules["retry-rate-limit"].trigger
    assert rate is not None
    assert rate.rows == {policy.contract.behaviour.rate_limit.row}
    assert policy.budget.max_seconds == policy.contract.behaviour.rate_limit.per_seconds


def test_logging_rules_are_judged_in_every_scenario() -> None:
    policy = load_policy()
    for scenario in policy.scenarios.values():
        assert "log-activity-id" in scenario.rules


def test_an_unknown_scenario_name_is_a_usage_error_listing_the_names() -> None:
    with pytest.raises(UsageError) as caught:
        load_policy().select(["no-such-scenario"])
    assert "no scenario is named 'no-such-scenario'" in str(caught.value)
    assert "update-400" in str(caught.value)


@pytest.fixture
def contracts(tmp_path: Path) -> Path:
    copy = tmp_path / "contracts"
    shutil.copytree(default_contracts_dir(), copy)
    return copy


BROKEN = [
    # (replace this, with this, key path in the message, words of the message)
    (
        'retry_class: "400 (validation)"',
        'retry_class: "400 (typo)"',
        "rules[0].check.retry_class",
        "no retry class",
    ),
    (
        "level: documented\n    sources: [ERR]\n  - id: no-retry-auth",
        "level: maybe\n    sources: [ERR]\n  - id: no-retry-auth",
        "rules[0].level",
        "documented",
    ),
    (
        '"400 (validation)", at_most: 0',
        '"429 (rate limit)", at_most: 0',
        "rules[0].check.retry_class",
        "safe to retry",
    ),
    (
        "sources: [ERR]\n  - id: no-retry-auth",
        "sources: [NOPE]\n  - id: no-retry-auth",
        "rules[0].sources[0]",
        "unknown source",
    ),
    (
        "script: {register: [{answer: HTTP_503, times: always}]}",
        "script: {register: [{answer: NO_SUCH_ROW, times: always}]}",
        "scenarios[3].script.register[0].answer",
        "no row",
    ),
    (
        "endpoints: idempotent, times: 1, rules: [retry-upstream-idempotent]",
        "endpoints: all, times: 1, rules: [retry-upstream-idempotent]",
        "generate[2].rules",
        "applies to",
    ),
    (
        "    rules: [no-retry-auth]\n",
        "    rules: [no-such-rule]\n",
        "scenarios[0].rules[0]",
        "no rule is named",
    ),
    ("    account: unknown_key\n", "    account: nobody\n", "scenarios[0].account", "unknown account state"),
    (
        'profile: core\n    description: "The key',
        'profile: nope\n    description: "The key',
        "scenarios[0].profile",
        "no profile",
    ),
    ("answer: NO_ELIGIBLE_DEVICE,", "answer: NO_SUCH_ROW,", "generate[9].answer", "no row"),
    (
        "endpoints: [add-users, remove-users]",
        "endpoints: [add-users, nowhere]",
        "profiles.segments.endpoints[1]",
        "unknown endpoint",
    ),
    ("    request_timestamp: timestamp\n", "", "log.keys", "error_logging"),
    ("rules: [retry-budget]", "rules: [retry-auth-layer]", "rules[14].id", "exercised by no scenario"),
    ("format: 1\n", "format: [\n", "line", "not valid YAML"),
]


@pytest.mark.parametrize(("old", "new", "where", "words"), BROKEN, ids=[b[2] + ":" + b[3] for b in BROKEN])
def test_a_malformed_copy_is_one_contract_error_naming_file_place_and_fix(
    contracts: Path, old: str, new: str, where: str, words: str
) -> None:
    path = contracts / "certification.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, f"the fixture no longer matches certification.yaml: {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ContractError) as caught:
        load_policy(load_contract(contracts))
    message = str(caught.value)
    assert message.startswith(f"contract error in {path}")
    assert where in message
    assert words in message
    assert "\n  fix: " in message


def test_a_missing_file_names_itself(contracts: Path) -> None:
    (contracts / "certification.yaml").unlink()
    with pytest.raises(ContractError, match=r"certification.yaml at \(whole file\): the file does not exist"):
        load_policy(load_contract(contracts))


def _account_rows(policy: Policy) -> set[str]:
    """Rows a key's account state gives on its first call, whatever the endpoint."""
    return {code for e in policy.contract.behaviour.accounts.values() for code in e.outcome.codes}


def test_every_retry_class_is_played_on_every_endpoint_of_each_profile() -> None:
    """Each (retry class, endpoint) pair of a profile where the table names the class has a scenario
    of that profile that scripts a row of the class on that endpoint (account-level classes, such
    as 401, are played once, by the key's account state)."""
    policy = load_policy()
    account = _account_rows(policy)
    rows = [r for r in policy.contract.table.rows if r.retry is not None]
    per_endpoint = {
        r.retry.error_class
        for r in rows
        if r.retry is not None and not all(x.id in account for x in rows if x.retry == r.retry)
    }
    missing = []
    for profile in policy.profiles.values():
        scripted = {
            (step.row, endpoint)
            for s in policy.scenarios.values()
            if s.profile == profile.name
            for endpoint, steps in s.script.items()
            for step in steps
        }
        for row in rows:
            if row.retry is None or row.retry.error_class not in per_endpoint:
                continue
            for endpoint in (e for e in row.endpoints if e in profile.endpoints):
                played = any(
                    (other.id, endpoint) in scripted
                    for other in rows
                    if other.retry is not None and other.retry.error_class == row.retry.error_class
                )
                if not played:
                    missing.append((profile.name, row.retry.error_class, endpoint))
    assert sorted(set(missing)) == []


def test_each_profile_has_a_baseline_and_core_is_the_default() -> None:
    """Every profile's plan starts with its no-fault baseline; no --profile means core."""
    policy = load_policy()
    assert policy.chosen_profiles(None) == ("core",)
    for name, profile in policy.profiles.items():
        plan = policy.plan([name])
        baselines = [s for s in plan if s.baseline]
        assert profile.baseline in {s.name for s in baselines}
        assert all(not s.script for s in baselines)
        assert plan[: len(baselines)] == tuple(baselines)
        assert {s.profile for s in plan} == {name, *profile.includes}


def test_every_plan_meets_each_growing_class_on_enough_calls() -> None:
    """Each plan plays every `grows` rule's class on at least growth.min_calls endpoints, the number
    from which a constant wait is surely refused."""
    policy = load_policy()
    for name in policy.profiles:
        plan = policy.plan([name])
        for rule in (r for r in policy.rules.values() if r.grows):
            calls = [s for s in plan if rule.id in s.rules]
            assert len(calls) >= policy.growth.min_calls, (name, rule.id)


def test_a_scenario_of_another_profile_names_the_profile_to_add() -> None:
    """--scenario add-users-429 without --profile segments says to add it."""
    with pytest.raises(UsageError) as caught:
        load_policy().select(["add-users-429"])
    assert "add --profile segments" in str(caught.value)


def test_an_unknown_profile_is_a_usage_error_listing_the_profiles() -> None:
    with pytest.raises(UsageError) as caught:
        load_policy().plan(["gold"])
    assert "no certification profile is named 'gold'" in str(caught.value)
    assert "core, segments" in str(caught.value)
