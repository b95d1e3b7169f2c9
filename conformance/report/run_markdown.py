"""One run as Markdown for a CI job summary: a few KB whatever the run's size.

The headline, the verdict counts and the rows x endpoints grid come whole; every list after them is
capped (see `markdown_parts`); the HTML rendering has every case and its evidence.
"""

from __future__ import annotations

from conformance.judging.coverage import NOT_EXERCISED
from conformance.report.markdown_parts import sections, short, table
from conformance.report.matrix import VERDICT_MARKS
from conformance.report.run_report import NO_ITEMS, RunReport, curl

INTERRUPTED = "**Interrupted**: the run was stopped before it finished; these results are partial."


def render_run_markdown(report: RunReport) -> str:
    lines = [f"## Conformance run: {report.headline()}", ""]
    lines += [f"> {INTERRUPTED}", ""] if report.interrupted else []
    lines += [*_run(report), "", *table(list(report.counts), [list(report.counts.values())])]
    return "\n".join([*lines, *sections(_sections(report))]) + "\n"


def _run(report: RunReport) -> list[str]:
    r = report.results
    rows = [
        ("file", report.file),
        ("target", f"{r.target} {r.base_url}"),
        ("started / finished", f"{r.started_at} / {r.finished_at or 'not finished'}"),
        (
            "suite",
            f"{r.suite_version}, contract {r.contract_digest[:12]}, "
            f"Hypothesis profile {r.hypothesis_profile or 'not recorded'}",
        ),
    ]
    if r.leftovers:
        rows.append(("left on the target", f"{len(r.leftovers)} activities (listed in the results file)"))
    return table(("run", ""), rows, limit=len(rows))


def _sections(report: RunReport) -> list[tuple[str, list[str]]]:
    groups = report.failure_groups()
    show_curl = any(curl(g.example) for g in groups)
    failures = [
        (
            f"/{g.endpoint}",
            ", ".join(g.rows),
            g.received,
            g.count,
            g.example.case,
            short(" | ".join(g.example.expected)),
            *((short(curl(g.example)),) if show_curl else ()),
        )
        for g in groups
    ]
    failure_header = (
        "endpoint",
        "rows",
        "received",
        "cases",
        "e.g. input class",
        "expected",
        *(("request",) if show_curl else ()),
    )
    return [
        ("Error-table rows x endpoints", _grid(report)),
        ("Contract coverage", _coverage(report)),
        (
            f"Failures ({len(report.failures)} cases, alike ones counted together)",
            table(failure_header, failures),
        ),
        (
            "Not verified, and why",
            table(
                ("verdict", "reason", "cases", "e.g."),
                [(n.verdict, n.reason, n.count, n.example) for n in report.not_verified],
            ),
        ),
        (
            "Behaviour recorded, not judged (undocumented first)",
            table(
                ("endpoint", "input class", "level", "answer", "rule met", "cases"),
                [(f"/{r.endpoint}", r.case, r.level, r.answer, r.matched, r.count) for r in report.recorded],
            ),
        ),
        (
            "Latency per endpoint (ms)",
            table(
                ("endpoint", "requests", "median", "p95", "max"),
                [
                    (f"/{e}", p.count, f"{p.p50:.1f}", f"{p.p95:.1f}", f"{p.max:.1f}")
                    for e, p in report.latency
                ],
                limit=len(report.latency),
            ),
        ),
    ]


def _coverage(report: RunReport) -> list[str]:
    """The items of the contract, failed and unexercised ones first (capped), then the totals whole."""
    if not report.coverage:
        return [NO_ITEMS]
    rows = [(c.item.label, c.item.level, c.judged, c.verdict) for c in report.coverage_order()]
    units = [report.units.line(), ""] if report.units else []
    return [
        *units,
        *table(("expectation", "level", "cases judged", "verdict"), rows),
        "",
        *(f"**{line}**  " for line in report.exercised()),
    ]


def _grid(report: RunReport) -> list[str]:
    """The matrix with one mark per cell: whole, since it is the run at a glance."""
    if not report.cells:
        return []
    endpoints = list(dict.fromkeys(c.endpoint for c in report.cells))
    at = {(c.row, c.endpoint): c for c in report.cells}
    rows = [
        (row, *(VERDICT_MARKS[at[(row, e)].verdict] if (row, e) in at else "·" for e in endpoints))
        for row in dict.fromkeys(c.row for c in report.cells)
    ]
    legend = ", ".join(f"{mark} {verdict}" for verdict, mark in VERDICT_MARKS.items())
    return [
        *table(("row", *(f"/{e}" for e in endpoints)), rows, limit=len(rows)),
        "",
        f"{legend}, · {NOT_EXERCISED}",
    ]
