"""The drift as Markdown short enough for a CI job summary or a pull-request comment.

A summary table first, then one section per kind of change, each capped (see `markdown_parts`).
"""

from __future__ import annotations

from conformance.report.drift import Drift
from conformance.report.markdown_parts import capped, cell, inline, sections, table
from conformance.report.sections import drift_sections


def render_markdown(drift: Drift) -> str:
    lines = [f"## Conformance drift: {drift.headline()}", "", *_runs(drift), "", *_summary(drift)]
    return "\n".join([*lines, *sections(_sections(drift))]) + "\n"


def _runs(drift: Drift) -> list[str]:
    b, c = drift.baseline, drift.current

    def counts(values: dict[str, int]) -> str:
        return " / ".join(str(n) for n in values.values())

    return [
        "| | baseline | current |",
        "|---|---|---|",
        f"| file | {cell(b.file)} | {cell(c.file)} |",
        f"| target | {cell(b.target)} {cell(b.base_url)} | {cell(c.target)} {cell(c.base_url)} |",
        f"| started | {cell(b.started_at)} | {cell(c.started_at)} |",
        f"| {' / '.join(c.counts)} | {counts(b.counts)} | {counts(c.counts)} |",
        f"| cases only in this run | {drift.cases_only_in_baseline} | {drift.cases_only_in_current} |",
    ]


def _summary(drift: Drift) -> list[str]:
    rows = [f"| {kind} | {count} |" for kind, count in drift.summary().items()]
    return ["| change | count |", "|---|---:|", *rows]


def _sections(drift: Drift) -> list[tuple[str, list[str]]]:
    regressions = ("Documented regressions", capped([f"- {inline(r.message)}" for r in drift.regressions]))
    return [regressions, *((s.title, table(*s.table(brief=True))) for s in drift_sections(drift))]
