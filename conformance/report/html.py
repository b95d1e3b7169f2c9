"""The drift as one self-contained HTML page: inline CSS, no script, no external asset.

The matrix (error-table rows x endpoints) is coloured by each cell's verdict in the current run and
marked by how it changed; every cell links to its evidence further down the page: the cases behind
it, with what was expected and what each run observed.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from conformance.judging.coverage import NOT_EXERCISED
from conformance.judging.results import Verdict
from conformance.report.drift import Drift
from conformance.report.html_page import bullets, grid, linked_cell, page, section, table, verdict_legend
from conformance.report.matrix import CHANGES, Cell
from conformance.report.pairs import Pair, outcome
from conformance.report.sections import drift_sections

MARKS = {
    "regressed": "▼",
    "newly failing": "✗",
    "no longer verified": "○",
    "fixed": "✓",
    "new": "+",
    "gone": "-",
    "outcome changed": "Δ",
    "unchanged": "",
}


def render_html(drift: Drift) -> str:
    verdict = f'<span class="{"bad" if drift.regressed else "good"}">{escape(drift.headline())}</span>'
    return page(
        "Conformance drift",
        f"Conformance drift: {verdict}",
        [
            _runs(drift),
            table(("change", "count"), list(drift.summary().items()), lambda item: item, numeric=(1,)),
            "<h2>Error-table rows x endpoints</h2>",
            _matrix(drift.cells),
            _legend(),
            *_sections(drift),
            "<h2>Evidence</h2>",
            *(_evidence(cell) for cell in drift.cells),
        ],
    )


def _runs(drift: Drift) -> str:
    b, c = drift.baseline, drift.current
    rows: list[tuple[str, object, object]] = [
        ("file", b.file, c.file),
        ("target", f"{b.target} {b.base_url}", f"{c.target} {c.base_url}"),
        ("contract", b.contract_digest[:12], c.contract_digest[:12]),
        ("suite", b.suite_version, c.suite_version),
        ("started", b.started_at, c.started_at),
        *((verdict, b.counts[verdict], c.counts[verdict]) for verdict in c.counts),
        ("cases only in this run", drift.cases_only_in_baseline, drift.cases_only_in_current),
    ]
    return table(("", "baseline", "current"), rows, lambda row: row)


def _matrix(cells: Sequence[Cell]) -> str:
    at = {(c.row, c.endpoint): c for c in cells}

    def cell_html(row: str, endpoint: str) -> str:
        cell = at[(row, endpoint)]
        was = cell.baseline or NOT_EXERCISED
        now = cell.current or NOT_EXERCISED
        title = f"{row} on /{endpoint}: {was} → {now} ({cell.change}, {cell.level})"
        label = f"{cell.current or 'none'} {MARKS[cell.change]}".strip()
        classes = f"v-{cell.current or 'none'} ch-{cell.change.replace(' ', '-')}"
        return linked_cell(classes, cell.anchor, title, label)

    return grid(list(at), cell_html)


def _legend() -> str:
    verdicts = verdict_legend((Verdict.PASSED, Verdict.FAILED, Verdict.RECORDED, Verdict.SKIPPED))
    changes = ", ".join(f"{MARKS[c]} {c}" for c in CHANGES if MARKS[c])
    return f"<p>Colour: the verdict now: {verdicts}. Mark: the change since the baseline: {changes}.</p>"


def _sections(drift: Drift) -> list[str]:
    blocks = [section("Documented regressions", bullets([r.message for r in drift.regressions]))]
    for part in drift_sections(drift):
        header, rows = part.table(brief=False)
        blocks.append(section(part.title, table(header, rows, lambda row: row)))
    return blocks


def _evidence(cell: Cell) -> str:
    was, now = cell.baseline or NOT_EXERCISED, cell.current or NOT_EXERCISED
    reasons = "".join(f"<p>Not verified: {escape(r)}</p>" for r in cell.skip_reasons)
    cases = table(
        (
            "test",
            "input class",
            "level",
            "verdict",
            "expected",
            "baseline observed",
            "current observed",
            "reason",
        ),
        cell.pairs,
        _evidence_row,
    )
    heading = f"{cell.row} on /{cell.endpoint}: {was} → {now} ({cell.change}, {cell.level or 'no level'})"
    return (
        f'<section class="evidence" id="{escape(cell.anchor)}"><h3>{escape(heading)}</h3>'
        f"{reasons}{cases}</section>"
    )


def _evidence_row(pair: Pair) -> Sequence[object]:
    before, after = pair.verdicts()
    case = pair.latest
    return (
        pair.test,
        pair.case,
        case.level,
        f"{before or 'absent'} → {after or 'absent'}",
        " | ".join(case.expected),
        "absent" if pair.baseline is None else outcome(pair.baseline.observed),
        "absent" if pair.current is None else outcome(pair.current.observed),
        case.reason,
    )
