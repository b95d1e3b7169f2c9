"""`conformance contracts lint`: cross-check openapi.yaml and behaviour.yaml against the error table.

`lint` is pure: it reads a loaded `Contract` and returns findings plus a coverage matrix saying which
behaviour rule provokes each (row, endpoint) pair of the table. A malformed contract never gets here:
`load_contract` raises a `ContractError` first, which the CLI prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.contract.certification import load_policy
from conformance.contract.loader import key_path, load_contract
from conformance.contract.model import Contract, ErrorRow, ErrorTable
from conformance.contract.rules import Rule, rules

OPENAPI = "openapi.yaml"
BEHAVIOUR = "behaviour.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ROWS_KEY = "x-contract-rows"
# What covers a pair, in the order a cell lists them; a letter is lowercase when only inferred rules cover it.
LEGEND = (
    "B body, F field, I insider_ids, E ends_at, T target_devices, A account, L lifecycle, S sync gate, "
    "G eligibility, R rate limit, P probe, X fault injection only"
)
KINDS = tuple(entry[0] for entry in LEGEND.split(", "))
NOT_LISTED = "."
UNCOVERED = "-"


@dataclass(frozen=True)
class Finding:
    """One problem: the file (inside the contract directory), the key path in it, and how to fix it."""

    file: str
    path: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.problem} (fix: {self.fix})"


@dataclass(frozen=True)
class CoverageRow:
    """One table row: its label (`404 NOT_FOUND`) and one cell per endpoint."""

    row_id: str
    label: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class LintReport:
    """What `lint` found, and the coverage matrix: one row per table row, one cell per endpoint."""

    findings: tuple[Finding, ...]
    endpoints: tuple[str, ...]
    coverage: tuple[CoverageRow, ...]
    fault_only: tuple[tuple[str, str], ...]  # (row label, why no request provokes it)

    @property
    def ok(self) -> bool:
        return not self.findings


def lint(contract: Contract) -> LintReport:
    """All cross-checks of a loaded contract, and its coverage matrix."""
    every_rule = tuple(rules(contract))
    coverage, uncovered = _coverage(contract, every_rule)
    findings = (
        *_check_openapi(contract),
        *_check_documented_codes(contract.table, every_rule),
        *_check_extra_codes(contract),
        *uncovered,
    )
    faults = tuple(
        (_label(row), f.reason) for f in contract.behaviour.fault_only if (row := _row(contract.table, f.row))
    )
    return LintReport(tuple(findings), contract.endpoints, coverage, faults)


def lint_main(directory: Path) -> int:
    """Print the findings and the coverage matrix; 0 when there are no findings, 1 otherwise."""
    contract = load_contract(directory)
    load_policy(contract)  # certification.yaml: a ContractError names the file, the key and the fix
    report = lint(contract)
    print(render(report))  # noqa: T201 - the CLI's report
    return 0 if report.ok else 1


# -- a. openapi.yaml against the table -----------------------------------------------------------


def _check_openapi(contract: Contract) -> Iterator[Finding]:
    paths = _mapping(contract.openapi.get("paths"))
    for endpoint, path in contract.paths.items():
        item = _mapping(paths.get(path))
        operations = [(method, _mapping(item[method])) for method in HTTP_METHODS if method in item]
        if not operations:
            yield Finding(OPENAPI, key_path(["paths", path]), "no operation", "add the POST operation")
        for method, operation in operations:
            yield from _check_operation(contract.table, endpoint, ["paths", path, method], operation)


def _check_operation(
    table: ErrorTable, endpoint: str, at: list[str | int], operation: Mapping[str, Any]
) -> Iterator[Finding]:
    expected: dict[str, list[ErrorRow]] = {}
    for row in table.rows_for(endpoint):
        expected.setdefault(str(row.status), []).append(row)
    responses = {str(k): _mapping(v) for k, v in _mapping(operation.get("responses")).items()}
    for status, rows in expected.items():
        if status not in responses:
            fix = f"add a '{status}' response with {ROWS_KEY}: {[r.id for r in rows]}"
            yield _api([*at, "responses"], f"no {status} response, which the table gives /{endpoint}", fix)
    for status, response in responses.items():
        if status.isdigit() and int(status) < 400:
            continue  # success responses carry no table rows
        where = [*at, "responses", status]
        if status not in expected:
            yield _api(
                where, f"the table gives /{endpoint} no {status}", "remove the response, or fix the table"
            )
        else:
            yield from _check_response(where, endpoint, expected[status], response)


def _check_response(
    where: list[str | int], endpoint: str, rows: list[ErrorRow], response: Mapping[str, Any]
) -> Iterator[Finding]:
    at_rows = [*where, ROWS_KEY]
    listed = response.get(ROWS_KEY, [])
    if not isinstance(listed, list) or not all(isinstance(i, str) for i in listed):
        yield _api(at_rows, "is not a list of row ids", "write it as `[CODE, ...]`")
        return
    for row in rows:
        count = listed.count(row.id)
        if count != 1:
            problem = f"row {row.id} of /{endpoint} is " + (
                "missing" if count == 0 else f"listed {count} times"
            )
            yield _api(at_rows, f"{problem} (the table: {row.describe()})", f"list {row.id} exactly once")
        if row.body == "never" and "content" in response:
            yield _api([*where, "content"], f"row {row.id} never has a body", "remove `content`")
    allowed = {r.id for r in rows}
    for row_id in dict.fromkeys(listed):
        if row_id not in allowed:
            problem = f"the table gives /{endpoint} no row {row_id} with this status"
            yield _api(at_rows, problem, f"remove {row_id}, or fix the table")


def _api(where: Sequence[str | int], problem: str, fix: str) -> Finding:
    return Finding(OPENAPI, key_path(where), problem, fix)


# -- b. behaviour.yaml against the table ---------------------------------------------------------


def _check_documented_codes(table: ErrorTable, rules: Iterable[Rule]) -> Iterator[Finding]:
    for rule in rules:
        if rule.expectation.level != "documented":
            continue
        for code in rule.expectation.outcome.codes:
            row = _row(table, code)
            if row is None:
                continue  # an extra code: the table says nothing of its endpoints
            outside = [e for e in rule.endpoints if e not in row.endpoints]
            if outside:
                problem = f"documented code {code} on {outside}; the table gives it {list(row.endpoints)}"
                fix = "narrow the rule's endpoints, or make the level `inferred` and cite the source"
                yield Finding(BEHAVIOUR, rule.where, problem, fix)


def _check_extra_codes(contract: Contract) -> Iterator[Finding]:
    for index, code in enumerate(contract.behaviour.extra_codes):
        if _row(contract.table, code):
            where = key_path(["extra_codes", index, "code"])
            yield Finding(
                BEHAVIOUR, where, f"{code} is a row of the error table", "remove it from extra_codes"
            )


# -- c. coverage ---------------------------------------------------------------------------------


def _coverage(contract: Contract, rules: Iterable[Rule]) -> tuple[tuple[CoverageRow, ...], list[Finding]]:
    cover: dict[tuple[str, str], dict[str, bool]] = {}  # (row id, endpoint) -> kind -> documented
    for rule in rules:
        if rule.expectation.asserted:
            for code in rule.expectation.outcome.codes:
                for endpoint in rule.endpoints:
                    kinds = cover.setdefault((code, endpoint), {})
                    kinds[rule.kind] = kinds.get(rule.kind, False) or rule.expectation.level == "documented"
    for fault in contract.behaviour.fault_only:
        row = _row(contract.table, fault.row)
        for endpoint in row.endpoints if row else ():
            cover.setdefault((fault.row, endpoint), {})["X"] = True
    matrix, findings = [], []
    for row in contract.table.rows:
        cells = []
        for endpoint in contract.endpoints:
            cell = _cell(cover.get((row.id, endpoint), {})) if endpoint in row.endpoints else NOT_LISTED
            if cell == UNCOVERED:
                fix = "add a rule that provokes it there, or a fault_only entry for the row"
                findings.append(
                    Finding(BEHAVIOUR, "(whole file)", f"no rule provokes {_label(row)} on /{endpoint}", fix)
                )
            cells.append(cell)
        matrix.append(CoverageRow(row.id, _label(row), tuple(cells)))
    return tuple(matrix), findings


def _cell(kinds: Mapping[str, bool]) -> str:
    letters = [k if kinds[k] else k.lower() for k in KINDS if k in kinds]
    return "".join(letters) or UNCOVERED


# -- output --------------------------------------------------------------------------------------


def render(report: LintReport) -> str:
    """The findings, one per line, then the coverage matrix and its legend."""
    width = max((len(r.label) for r in report.coverage), default=0)
    lines = [*(str(f) for f in report.findings), *([""] if report.findings else [])]
    lines.append("coverage: which behaviour rule provokes each row of the error table on each endpoint")
    lines.append(" " * width + "  " + "  ".join(report.endpoints))
    for row in report.coverage:
        cells = (cell.center(len(e)) for cell, e in zip(row.cells, report.endpoints, strict=True))
        lines.append((row.label.ljust(width) + "  " + "  ".join(cells)).rstrip())
    lines += [
        "",
        "legend: " + LEGEND,
        "        uppercase: a documented rule covers it; lowercase: inferred rules only",
        f"        {NOT_LISTED} the table does not list the endpoint; {UNCOVERED} nothing covers it",
    ]
    lines += [f"not provokable (X): {label}: {reason}" for label, reason in report.fault_only]
    lines.append(f"{len(report.findings)} finding(s)")
    return "\n".join(lines)


def _label(row: ErrorRow) -> str:
    return f"{row.status} {row.code or '(no body)'}"


def _row(table: ErrorTable, row_id: str) -> ErrorRow | None:
    return next((r for r in table.rows if r.id == row_id), None)


def _mapping(value: Any) -> Mapping[str, Any]:
    """openapi.yaml is not schema-checked: a value that should be a mapping and is not reads as empty."""
    return value if isinstance(value, dict) else {}
