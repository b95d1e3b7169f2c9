"""One run as a self-contained HTML page: the rows x endpoints matrix coloured by verdict, each cell
linking to its evidence (the cases behind it: expected, received, reason), then the failures, what
was not verified and why, the behaviour recorded, and the latency per endpoint.
"""

from __future__ import annotations

from html import escape

from conformance.judging.results import CaseResult
from conformance.report.html_page import bullets, grid, linked_cell, page, section, table, verdict_legend
from conformance.report.matrix import VERDICT_MARKS
from conformance.report.run_report import NO_ITEMS, RunCell, RunReport, curl, received


def render_run_html(report: RunReport) -> str:
    r = report.results
    heading = (
        f'Conformance run: <span class="{"bad" if report.bad else "good"}">{escape(report.headline())}</span>'
    )
    banner = (
        '<p class="banner" id="interrupted">Interrupted: the run was stopped before it finished; '
        "these results are partial.</p>"
        if report.interrupted
        else ""
    )
    about: list[tuple[str, object]] = [
        ("file", report.file),
        ("target", f"{r.target} {r.base_url}"),
        ("started", r.started_at),
        ("finished", r.finished_at or "not finished"),
        ("suite", r.suite_version),
        ("contract", r.contract_digest),
        ("Hypothesis profile", r.hypothesis_profile or "not recorded"),
        ("activities left on the target", len(r.leftovers)),
    ]
    return page(
        "Conformance run",
        heading,
        [
            banner,
            table(("run", ""), about, lambda item: item),
            table(
                list(report.counts), [tuple(report.counts.values())], lambda row: row, numeric=(0, 1, 2, 3, 4)
            ),
            section("Error-table rows x endpoints", _matrix(report)),
            section("Contract coverage", _coverage(report)),
            section("Failures", _failures(report)),
            section("Not verified, and why", _not_verified(report)),
            section("Behaviour recorded, not judged", _recorded(report)),
            section("Latency per endpoint (ms)", _latency(report)),
            section("Activities left on the target", bullets(r.leftovers)),
            "<h2>Evidence</h2>",
            *(_evidence(cell) for cell in report.cells),
        ],
    )


def _matrix(report: RunReport) -> str:
    if not report.cells:
        return ""
    at = {(c.row, c.endpoint): c for c in report.cells}

    def cell_html(row: str, endpoint: str) -> str:
        cell = at[(row, endpoint)]
        title = (
            f"{row} on /{endpoint}: {cell.verdict} ({len(cell.cases)} case(s), {cell.level or 'no level'})"
        )
        label = f"{VERDICT_MARKS[cell.verdict]} {cell.verdict}"
        return linked_cell(f"v-{cell.verdict}", cell.anchor, title, label)

    legend = verdict_legend(list(VERDICT_MARKS))
    return f"{grid(list(at), cell_html)}<p>Colour: the worst verdict of the cell's cases: {legend}.</p>"


def _coverage(report: RunReport) -> str:
    """Every item of the contract: failed and unexercised asserted ones first, then the totals."""
    if not report.coverage:
        return f"<p>{escape(NO_ITEMS)}</p>"
    rows = table(
        ("expectation", "level", "cases judged", "verdict"),
        report.coverage_order(),
        lambda c: (c.item.label, c.item.level, c.judged, c.verdict),
        numeric=(2,),
        css="coverage",
    )
    units = f"<p>{escape(report.units.line())}</p>" if report.units else ""
    totals = "".join(f'<p class="exercised">{escape(line)}</p>' for line in report.exercised())
    return units + rows + totals


def _failures(report: RunReport) -> str:
    return table(
        ("endpoint", "rows", "input class", "level", "expected", "received", "request", "reason", "test"),
        report.failures,
        lambda c: (
            f"/{c.endpoint}",
            ", ".join(c.rows),
            c.case,
            c.level,
            " | ".join(c.expected),
            received(c.observed),
            curl(c) or "not in the results file",
            c.reason,
            c.test,
        ),
        css="cases",
    )


def _not_verified(report: RunReport) -> str:
    reasons = table(
        ("verdict", "reason", "cases", "e.g."),
        report.not_verified,
        lambda n: (n.verdict, n.reason, n.count, n.example),
        numeric=(2,),
    )
    cells = table(
        ("row", "endpoint", "why"),
        report.unverified_cells(),
        lambda c: (c.row, f"/{c.endpoint}", "; ".join(c.reasons()) or "no reason given"),
    )
    return reasons + (f"<h3>Rows not verified</h3>{cells}" if cells else "")


def _recorded(report: RunReport) -> str:
    return table(
        ("endpoint", "input class", "level", "answer", "rule met", "cases"),
        report.recorded,
        lambda r: (f"/{r.endpoint}", r.case, r.level, r.answer, r.matched, r.count),
        numeric=(5,),
    )


def _latency(report: RunReport) -> str:
    return table(
        ("endpoint", "requests", "median", "p95", "max"),
        report.latency,
        lambda item: (
            f"/{item[0]}",
            item[1].count,
            f"{item[1].p50:.1f}",
            f"{item[1].p95:.1f}",
            f"{item[1].max:.1f}",
        ),
        numeric=(1, 2, 3, 4),
    )


def _evidence(cell: RunCell) -> str:
    heading = f"{cell.row} on /{cell.endpoint}: {cell.verdict} ({cell.level or 'no level'})"
    cases = table(
        ("test", "input class", "level", "verdict", "expected", "received", "rule met", "ms", "reason"),
        cell.cases,
        _evidence_row,
    )
    return f'<section class="evidence" id="{escape(cell.anchor)}"><h3>{escape(heading)}</h3>{cases}</section>'


def _evidence_row(case: CaseResult) -> tuple[object, ...]:
    return (
        case.test,
        case.case,
        case.level,
        case.verdict,
        " | ".join(case.expected),
        received(case.observed),
        case.matched,
        None if case.latency_ms is None else f"{case.latency_ms:.1f}",
        case.reason,
    )
