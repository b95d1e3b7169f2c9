"""The drift as Markdown short enough for a CI job summary or a pull-request comment.

A summary table first, then one section per kind of change, each capped at `LIMIT` lines with
"and N more" (the HTML and JSON renderings have everything).
"""

from __future__ import annotations

from collections.abc import Sequence

from conformance.report.drift import Drift
from conformance.report.sections import drift_sections

LIMIT = 10


def render_markdown(drift: Drift) -> str:
    lines = [f"## Conformance drift: {drift.verdict()}", "", *_runs(drift), "", *_summary(drift)]
    for title, block in _sections(drift):
        if block:
            lines += ["", f"### {title}", "", *block]
    return "\n".join(lines) + "\n"


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
    regressions = ("Documented regressions", _capped([f"- {r.message}" for r in drift.regressions]))
    return [regressions, *((s.title, _table(*s.table(brief=True))) for s in drift_sections(drift))]


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    if not rows:
        return []
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(_cell(v) for v in row) + " |" for row in rows[:LIMIT]),
    ]
    return lines + _more(len(rows))


def _capped(lines: list[str]) -> list[str]:
    return lines[:LIMIT] + _more(len(lines))


def _more(total: int) -> list[str]:
    return ["", f"_… and {total - LIMIT} more (see the HTML or JSON report)_"] if total > LIMIT else []


def _cell(value: object) -> str:
    """A table cell: one line, no pipe or HTML that would break the table."""
    text = "" if value is None else " ".join(str(value).split())
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
