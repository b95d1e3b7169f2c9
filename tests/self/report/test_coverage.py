"""Contract coverage: every documented and inferred expectation of the contract has a judged case on
the sandbox, the counts are in the contract's units, and a row is verified only where it was answered."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from conformance.contract import load_contract
from conformance.contract.rules import PAIR, RULE, contract_items
from conformance.judging.coverage import coverage, unexercised, unit_counts
from conformance.judging.results import CaseResult, Observed, RunResults, Verdict, read_results
from conformance.report.matrix import by_cell
from tests.self.reference import bundled_contract
from tests.self.report.report_support import report

# Expectations no suite test judges: the equality below fails on a new gap, and on a gap closed
# without removing it here. None today: every documented and inferred expectation has a judged case.
EXPECTED_MISSING: set[str] = set()


def _case(
    rows: tuple[str, ...], verdict: Verdict, code: str | None, *, expectations: tuple[str, ...] = ()
) -> CaseResult:
    observed = Observed(status=400, code=code, body_fields=("code",), has_body=True)
    return CaseResult(
        "t", "c", "register", rows, "documented", (), observed, verdict, expectations=expectations
    )


def _run(*cases: CaseResult) -> RunResults:
    results = RunResults("sandbox", "", "d", "v", "t", cases=list(cases))
    results.expectations = list(contract_items(bundled_contract()))
    return results


def test_every_documented_and_inferred_expectation_is_judged_on_the_sandbox(reference_results: Path) -> None:
    """A suite run on the sandbox judges every asserted item of the contract, but the known gaps."""
    results = read_results(reference_results)
    assert len(results.expectations) == len(contract_items(bundled_contract()))
    missing = {c.item.label for c in unexercised(coverage(results))}
    assert missing == EXPECTED_MISSING


def test_a_new_rule_in_the_contract_is_an_item_to_exercise(tmp_path: Path) -> None:
    """A case added to behaviour.yaml becomes a rule the coverage counts, with no code change."""
    directory = tmp_path / "contracts"
    shutil.copytree(bundled_contract().directory, directory)
    behaviour = directory / "behaviour.yaml"
    doc = yaml.safe_load(behaviour.read_text(encoding="utf-8"))
    rule = next(r for r in doc["fields"] if r["id"] == "content-title-on-start")
    rule["cases"]["empty"] = {
        "expect": {"codes": ["VALIDATION_FAILED"]},
        "level": "inferred",
        "sources": ["START"],
    }
    behaviour.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    ids = {i.id for i in contract_items(load_contract(directory)) if i.unit == RULE}
    assert "fields.content-title-on-start.cases.empty" in ids
    assert "fields.content-title-on-start.cases.empty" not in {
        i.id for i in contract_items(bundled_contract())
    }


def test_a_pass_verifies_only_the_row_the_target_answered_with() -> None:
    """A case accepting REQUEST_INVALID or BAD_REQUEST, answered REQUEST_INVALID, shows that row only."""
    results = _run(_case(("REQUEST_INVALID", "BAD_REQUEST"), Verdict.PASSED, "REQUEST_INVALID"))
    assert list(by_cell(results.cases, answered=True)) == [("REQUEST_INVALID", "register")]
    judged = {(c.item.id, c.item.endpoints[0]) for c in coverage(results) if c.item.unit == PAIR and c.judged}
    assert judged == {("REQUEST_INVALID", "register")}


def test_a_failure_counts_against_every_row_it_expected() -> None:
    """A failed case fails each row it would have accepted: the target answered none of them."""
    results = _run(_case(("REQUEST_INVALID", "BAD_REQUEST"), Verdict.FAILED, "VALIDATION_FAILED"))
    assert list(by_cell(results.cases, answered=True)) == [
        ("BAD_REQUEST", "register"),
        ("REQUEST_INVALID", "register"),
    ]


def test_counts_are_in_the_contract_units() -> None:
    """Rows, pairs and rules are counted out of the contract's totals, judged or not."""
    contract = bundled_contract()
    results = _run(
        _case(("REQUEST_INVALID",), Verdict.PASSED, "REQUEST_INVALID", expectations=("body.body-empty",)),
        _case(
            ("VALIDATION_FAILED",),
            Verdict.FAILED,
            "REQUEST_INVALID",
            expectations=("fields.content-required.cases.missing",),
        ),
    )
    found = unit_counts(results)
    assert found is not None
    pairs = sum(len(row.endpoints) for row in contract.table.rows)
    assert (found.rows.passed, found.rows.failed, found.rows.total) == (1, 1, len(contract.table.rows))
    assert (found.pairs.passed, found.pairs.failed, found.pairs.total) == (1, 1, pairs)
    assert (found.rules.passed, found.rules.failed) == (1, 1)
    assert found.rules.total == sum(1 for i in results.expectations if i.unit == RULE)


def test_reports_end_the_coverage_table_with_what_was_exercised(
    reference_results: Path, tmp_path: Path
) -> None:
    """Markdown and HTML carry the coverage table and its `exercised: N / N` lines."""
    results = read_results(reference_results)
    covered = coverage(results)
    documented = [c for c in covered if c.item.level == "documented"]
    line = f"documented expectations exercised: {sum(1 for c in documented if c.judged)} / {len(documented)}"
    markdown = report(reference_results)
    assert markdown.status == 0, markdown.err
    assert "### Contract coverage" in markdown.out
    assert line in markdown.out
    html = tmp_path / "run.html"
    done = report(reference_results, "--format", "html", "--output", html)
    assert done.status == 0, done.err
    text = html.read_text(encoding="utf-8")
    assert "Contract coverage" in text
    assert line in text
    assert "target_devices.empty_list" in text
