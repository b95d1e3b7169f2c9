"""A directory of nightly runs as Markdown for a CI job summary: the runs, what regressed, and since
when each change holds, with a timeline of letters per cell (A = the first state seen)."""

from __future__ import annotations

from conformance.report.history import History, Tracked
from conformance.report.markdown_parts import capped, inline, sections, table


def render_history_markdown(history: History) -> str:
    lines = [f"## Conformance drift over {len(history.runs)} runs: {history.verdict()}", "", *_runs(history)]
    summary = table(("change", "count"), list(history.summary().items()), limit=len(history.summary()))
    return "\n".join([*lines, "", *summary, *sections(_sections(history))]) + "\n"


def _runs(history: History) -> list[str]:
    verdicts = " / ".join(history.runs[0].counts)
    rows = [
        (
            run.number,
            run.started_at + (" (interrupted)" if run.interrupted else ""),
            run.file,
            " / ".join(str(n) for n in run.counts.values()),
        )
        for run in history.runs
    ]
    return table(("run", "started", "file", verdicts), rows, limit=len(rows))


def _sections(history: History) -> list[tuple[str, list[str]]]:
    return [
        ("Documented regressions", capped([f"- {inline(b.message())}" for b in history.regressions])),
        (
            "Tests newly erroring",
            capped([f"- {inline(b.message())}: {inline(b.reason)}" for b in history.newly_erroring]),
        ),
        (
            "Since when: rows x endpoints that changed (failing now, then held, then flapping)",
            _changes(history.changed(history.cells), "row"),
        ),
        (
            "Recorded behaviour outside the error table that changed",
            _changes(history.changed(history.outside), "input class"),
        ),
    ]


def _changes(changed: list[Tracked], name: str) -> list[str]:
    rows = [
        (t.name, f"/{t.endpoint}", t.level, " ".join(t.states.timeline()), t.states.describe(), _latest(t))
        for t in changed
    ]
    return table((name, "endpoint", "level", "runs", "now", "latest change"), rows)


def _latest(tracked: Tracked) -> str:
    """`run 5: +400 BAD_REQUEST`: what the latest change changed."""
    change = tracked.states.changes()[-1]
    return f"run {change.run + 1}: {change.after.since(change.before)}"
