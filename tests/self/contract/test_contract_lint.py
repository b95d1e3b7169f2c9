"""`conformance contracts lint`: openapi.yaml and behaviour.yaml cross-checked against the error table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.cli import main
from conformance.contract import load_contract
from conformance.contract.lint import KINDS, NOT_LISTED, UNCOVERED, LintReport, lint, lint_main
from tests.self.contract.contract_cases import CONTRACTS, DATA, case_params

SIX = ("register", "add-users", "remove-users", "start", "update", "end")
SNAPSHOT = DATA / "lint_output.txt"


def _mutate(directory: Path, case: dict[str, Any]) -> None:
    """Apply the case's structural edits (set / delete / append at a key path) to one YAML file."""
    path = directory / case["file"]
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    for op in case["ops"]:
        verb = next(v for v in ("set", "delete", "append") if v in op)
        *parents, last = op[verb]
        node = document
        for key in parents:
            node = node[key]
        if verb == "set":
            node[last] = op["value"]
        elif verb == "delete":
            del node[last]
        else:
            node[last].append(op["value"])
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def _real_report() -> LintReport:
    return lint(load_contract(CONTRACTS))


def test_real_contract_has_no_findings() -> None:
    """The repository's contract lints clean."""
    assert _real_report().findings == ()


def test_matrix_lists_every_row_and_endpoint() -> None:
    """The matrix has all 23 table rows, the six endpoints, and a cell per pair."""
    report, table = _real_report(), load_contract(CONTRACTS).table
    assert report.endpoints == SIX
    assert [r.row_id for r in report.coverage] == [r.id for r in table.rows]
    assert len(report.coverage) == 23
    assert all(len(r.cells) == len(SIX) for r in report.coverage)


def test_matrix_marks_exactly_the_table_pairs() -> None:
    """A cell is `.` exactly where the table does not list the endpoint, and never uncovered."""
    table = load_contract(CONTRACTS).table
    for row, line in zip(table.rows, _real_report().coverage, strict=True):
        for endpoint, cell in zip(SIX, line.cells, strict=True):
            assert (cell == NOT_LISTED) == (endpoint not in row.endpoints), (row.id, endpoint)
            assert cell != UNCOVERED, (row.id, endpoint)
            assert set(cell.upper()) <= set(KINDS) | {NOT_LISTED}, cell


@pytest.mark.parametrize(
    ("row_id", "endpoint", "cell"),
    [
        ("NOT_FOUND", "add-users", "L"),  # a documented lifecycle transition
        ("PUSH_TOKEN_NOT_SYNCED", "update", "S"),  # the sync gate
        ("HTTP_429", "end", "R"),  # the rate limit
        ("HTTP_503", "start", "X"),  # fault injection only
        ("PROFILE_NOT_FOUND", "register", "g"),  # an inferred eligibility rule only
        ("ENDS_AT_TOO_FAR", "register", "E"),
        ("TARGET_DEVICES_INVALID", "start", "T"),
        ("PARTNER_REQUIRED", "remove-users", "A"),
    ],
)
def test_matrix_cells_name_the_cover_and_its_level(row_id: str, endpoint: str, cell: str) -> None:
    """A cell names what covers the pair; lowercase when only inferred rules cover it."""
    line = next(r for r in _real_report().coverage if r.row_id == row_id)
    assert line.cells[SIX.index(endpoint)] == cell


def test_fault_only_rows_carry_their_reason() -> None:
    """502 and 503 are listed as not provokable, each with the reason behaviour.yaml gives."""
    labels = [label for label, reason in _real_report().fault_only if reason]
    assert labels == ["502 UPSTREAM_UNAVAILABLE", "503 (no body)"]


@pytest.mark.parametrize("case", case_params("lint_mutations"))
def test_mutation_is_found(contracts_copy: Path, case: dict[str, Any]) -> None:
    """Each mutated copy gives exactly the expected findings, naming file, key path and problem."""
    _mutate(contracts_copy, case)
    findings = lint(load_contract(contracts_copy)).findings
    assert len(findings) == len(case["findings"]), "\n".join(map(str, findings))
    for expected in case["findings"]:
        assert any(
            f.file == expected["file"] and f.path == expected["path"] and expected["problem"] in f.problem
            for f in findings
        ), f"{expected} not in:\n" + "\n".join(map(str, findings))
    assert all(f.fix for f in findings)


def test_lint_main_prints_findings_and_exits_1(
    contracts_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With findings, the CLI prints each as `file: path: problem (fix: ...)` before the matrix; exit 1."""
    case = yaml.safe_load((DATA / "lint_mutations" / "uncovered_pair.yaml").read_text(encoding="utf-8"))
    _mutate(contracts_copy, case)
    assert main(["--contracts", str(contracts_copy), "contracts", "lint"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "behaviour.yaml: (whole file): no rule provokes 412 PUSH_TOKEN_NOT_SYNCED on /update "
        "(fix: add a rule that provokes it there, or a fault_only entry for the row)"
    )
    assert lines[1].startswith(
        "behaviour.yaml: (whole file): no rule provokes 412 PUSH_TOKEN_NOT_SYNCED on /end "
    )
    assert lines[2] == ""
    assert lines[3].startswith("coverage:")
    assert lines[-1] == "2 finding(s)"
    assert any(line.startswith("412 PUSH_TOKEN_NOT_SYNCED") and line.endswith("-      -") for line in lines)


def test_output_matches_snapshot(capsys: pytest.CaptureFixture[str]) -> None:
    """`contracts lint` on the real contract prints exactly data/lint_output.txt and exits 0.

    After an intended change to the contract or the output, regenerate it from the repository root:
        /tmp/venv/bin/python -m conformance.cli contracts lint > tests/self/contract/data/lint_output.txt
    and review the diff.
    """
    assert lint_main(CONTRACTS) == 0
    assert capsys.readouterr().out == SNAPSHOT.read_text(encoding="utf-8")


def test_lint_reads_the_certification_rules_too(
    contracts_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed certification.yaml fails `contracts lint` with one message naming it (exit 2)."""
    path = contracts_copy / "certification.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("\nrules:", "\nrulez:", 1), encoding="utf-8")
    assert main(["--contracts", str(contracts_copy), "contracts", "lint"]) == 2
    error = capsys.readouterr().err
    assert "certification.yaml" in error
    assert "'rules' is missing" in error
