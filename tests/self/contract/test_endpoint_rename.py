"""Renaming an endpoint is a change to the contract only: no code names one.

A copy of contracts/ has all six endpoints renamed everywhere the contract names them
(YAML keys and string values, and the path in openapi.yaml); it loads, lints clean, and the whole
suite gives the embedded sandbox the same verdict counts as with the original contract.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.contract import load_contract
from conformance.contract.certification import load_policy
from conformance.contract.lint import lint
from conformance.contract.loader import API_PREFIX
from tests.self.contract.contract_cases import CONTRACTS
from tests.self.suite.suite_runner import SuiteRun, run_suite

# Every endpoint, whatever its role (and the one that has none, /update).
RENAMES = {
    "register": "create-activity",
    "add-users": "enrol-users",
    "remove-users": "drop-users",
    "start": "begin",
    "update": "refresh",
    "end": "finish",
}
YAML_FILES = ("errors.yaml", "behaviour.yaml", "openapi.yaml", "certification.yaml")
# Schemathesis parametrizes at import, from the bundled openapi.yaml, before `--contracts` is read:
# both runs leave it out, so they compare the same tests.
WITHOUT_SCHEMATHESIS = ("-p", "no:randomly", "-k", "not test_generated_request_gets_a_documented_answer")


def _renamed(node: Any) -> Any:
    """`node` with every key and string value that is exactly an endpoint name renamed."""
    if isinstance(node, dict):
        return {_renamed(k): _renamed(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_renamed(v) for v in node]
    if isinstance(node, str):
        for old, new in RENAMES.items():
            if node in (old, f"{API_PREFIX}{old}"):
                return node.replace(old, new)
    return node


def _copy_with_renames(tmp_path: Path) -> Path:
    copy = tmp_path / "contracts"
    shutil.copytree(CONTRACTS, copy)
    for name in YAML_FILES:
        path = copy / name
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        path.write_text(
            yaml.safe_dump(_renamed(document), sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
    return copy


@pytest.fixture(scope="module")
def renamed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy_with_renames(tmp_path_factory.mktemp("renamed"))


def test_the_renamed_contract_loads_and_lints_clean(renamed: Path) -> None:
    contract = load_contract(renamed)
    assert set(RENAMES.values()) <= set(contract.endpoints)
    assert not set(RENAMES) & set(contract.endpoints)
    roles = contract.roles
    assert (roles.creates_activity, roles.adds_to_segment, roles.starts, roles.ends) == (
        RENAMES["register"],
        RENAMES["add-users"],
        RENAMES["start"],
        RENAMES["end"],
    )
    report = lint(contract)
    assert report.ok, "\n".join(str(f) for f in report.findings)
    policy = load_policy(contract)  # the certification rules and scenarios name endpoints too
    scripted = {endpoint for s in policy.scenarios.values() for endpoint in s.script}
    assert scripted, "the certification scenarios script no endpoint"
    assert scripted <= set(contract.endpoints)


def _counts(run: SuiteRun) -> dict[str, int]:
    assert run.results, run.output[-3000:]
    counts: dict[str, int] = run.results["counts"]
    return counts


def test_the_suite_judges_the_sandbox_alike_under_renamed_endpoints(
    renamed: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Same verdict counts, nothing failed; and the renamed endpoints were really exercised."""
    original = run_suite(tmp_path_factory.mktemp("original"), *WITHOUT_SCHEMATHESIS)
    under_rename = run_suite(
        tmp_path_factory.mktemp("rename"), "--contracts", str(renamed), *WITHOUT_SCHEMATHESIS
    )
    assert under_rename.returncode == 0, under_rename.output[-3000:]
    counts = _counts(under_rename)
    assert counts["failed"] == counts["error"] == 0
    assert counts == _counts(original)
    endpoints = {c["endpoint"] for c in under_rename.results["cases"]}
    assert set(RENAMES.values()) <= endpoints
    assert not set(RENAMES) & endpoints
