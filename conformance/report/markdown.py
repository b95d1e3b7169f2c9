"""The drift as Markdown short enough for a CI job summary or a pull-request comment.

A summary table first, then one section per kind of change, each capped at `LIMIT` lines with
"and N more" (the HTML and JSON renderings have everything).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from conformance.report.drift import Drift, FieldChange, OutcomeChange, VerdictChange
from conformance.report.edges import format_edge
from conformance.report.latency import Percentiles

LIMIT = 10
T = TypeVar("T")


def render_markdown(drift: Drift) -> str:
    lines = [f"## Conformance drift: {_verdict(drift)}", "", *_runs(drift), "", *_summary(drift)]
    for title, block in _sections(drift):
        if block:
            lines += ["", f"### {title}", "", *block]
    return "\n".join(lines) + "\n"


def _verdict(drift: Drift) -> str:
    if drift.regressed:
        return f"{len(drift.regressions)} documented regression(s)"
    return "no documented regression"


def _runs(drift: Drift) -> list[str]:
    b, c = drift.baseline, drift.current

    def counts(values: dict[str, int]) -> str:
        return " / ".join(str(n) for n in values.values())

    return [
        "| | baseline | current |",
        "|---|---|---|",
        f"| file | {_cell(b.file)} | {_cell(c.file)} |",
        f"| target | {_cell(b.target)} {_cell(b.base_url)} | {_cell(c.target)} {_cell(c.base_url)} |",
        f"| started | {_cell(b.started_at)} | {_cell(c.started_at)} |",
        f"| {' / '.join(c.counts)} | {counts(b.counts)} | {counts(c.counts)} |",
        f"| cases only in this run | {drift.cases_only_in_baseline} | {drift.cases_only_in_current} |",
    ]


def _summary(drift: Drift) -> list[str]:
    rows = [f"| {kind} | {count} |" for kind, count in drift.summary().items()]
    return ["| change | count |", "|---|---:|", *rows]


def _sections(drift: Drift) -> list[tuple[str, list[str]]]:
    return [
        ("Documented regressions", _capped([f"- {r.message}" for r in drift.regressions])),
        (
            "Status or code changed",
            _table(
                ("endpoint", "input class", "rows", "before", "after", "cases"),
                drift.documented_outcome_changes(),
                _outcome_row,
            ),
        ),
        (
            "Body fields added or removed",
            _table(
                ("endpoint", "answer", "field", "change", "cases", "e.g."),
                drift.documented_field_changes(),
                _field_row,
            ),
        ),
        (
            "Undocumented behaviour changed (reported, not failed)",
            _table(
                ("endpoint", "input class", "what changed", "cases"),
                drift.undocumented_changes(),
                _undocumented_row,
            ),
        ),
        (
            "Cases newly failing",
            _table(("endpoint", "case", "level", "was", "reason"), drift.newly_failing, _verdict_row),
        ),
        (
            "Cases newly passing",
            _table(("endpoint", "case", "level", "was", "reason"), drift.newly_passing, _verdict_row),
        ),
        (
            "Rows no longer verified",
            _table(
                ("row", "endpoint", "was", "now", "reason"),
                drift.no_longer_verified,
                lambda c: (
                    c.row,
                    f"/{c.endpoint}",
                    c.baseline,
                    c.current or "not exercised",
                    "; ".join(c.skip_reasons),
                ),
            ),
        ),
        (
            "Edges",
            _table(
                ("row", "documented", "baseline", "current", ""),
                drift.edges,
                lambda e: (
                    e.row,
                    format_edge(e.documented, e.unit),
                    format_edge(e.baseline, e.unit),
                    format_edge(e.current, e.unit),
                    f"**{e.sentence()}**"
                    if e.moved
                    else ("off the documented edge" if e.off_documented else ""),
                ),
            ),
        ),
        (
            "Latency (ms, baseline → current)",
            _table(
                ("endpoint", "p50", "p95", "p99"),
                drift.latency,
                lambda e: (
                    f"/{e.endpoint}",
                    *(_latency(e.baseline, e.current, p) for p in ("p50", "p95", "p99")),
                ),
            ),
        ),
    ]


def _outcome_row(change: OutcomeChange) -> Sequence[object]:
    return (
        f"/{change.endpoint}",
        change.case,
        ", ".join(change.rows),
        change.before,
        change.after,
        change.count,
    )


def _field_row(change: FieldChange) -> Sequence[object]:
    return (f"/{change.endpoint}", change.outcome, change.field, change.change, change.count, change.example)


def _undocumented_row(change: OutcomeChange | FieldChange) -> Sequence[object]:
    return (f"/{change.endpoint}", change.input_class, change.what(), change.count)


def _verdict_row(change: VerdictChange) -> Sequence[object]:
    return (
        f"/{change.endpoint}",
        f"{change.test} [{change.case}]",
        change.level,
        change.before or "new",
        change.reason,
    )


def _latency(before: Percentiles | None, after: Percentiles | None, name: str) -> str:
    def value(p: Percentiles | None) -> str:
        return "-" if p is None else f"{getattr(p, name):.1f}"

    return f"{value(before)} → {value(after)}"


def _table(header: Sequence[str], items: Sequence[T], row: Callable[[T], Sequence[object]]) -> list[str]:
    if not items:
        return []
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(_cell(v) for v in row(item)) + " |" for item in items[:LIMIT]),
    ]
    return lines + _more(len(items))


def _capped(lines: list[str]) -> list[str]:
    return lines[:LIMIT] + _more(len(lines))


def _more(total: int) -> list[str]:
    return ["", f"_… and {total - LIMIT} more (see the HTML or JSON report)_"] if total > LIMIT else []


def _cell(value: object) -> str:
    """A table cell: one line, no pipe or HTML that would break the table."""
    text = "" if value is None else " ".join(str(value).split())
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
