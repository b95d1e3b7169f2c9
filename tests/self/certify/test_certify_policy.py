"""certification.yaml joined with the contract, and one message naming file, key path and fix for each way
a copy of it can be malformed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conformance.contract import load_contract
from conformance.contract.certification import load_policy
from conformance.contract.loader import default_contracts_dir
from conformance.errors import ContractError, UsageError


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
        "script: {update: [{answer: VALIDATION_FAILED}]}",
        "script: {update: [{answer: NO_SUCH_ROW}]}",
        "scenarios[0].script.update[0].answer",
        "no row",
    ),
    (
        "script: {update: [{answer: UPSTREAM_UNAVAILABLE}]}",
        "script: {start: [{answer: UPSTREAM_UNAVAILABLE}]}",
        "scenarios[10].rules[0]",
        "applies on",
    ),
    (
        "    rules: [no-retry-validation]\n",
        "    rules: [no-such-rule]\n",
        "scenarios[0].rules[0]",
        "no rule is named",
    ),
    ("    account: unknown_key\n", "    account: nobody\n", "scenarios[1].account", "unknown account state"),
    ("    request_timestamp: timestamp\n", "", "log.keys", "error_logging"),
    ("rules: [retry-budget]", "rules: [retry-auth-layer]", "rules[12].id", "exercised by no scenario"),
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
