"""A directory of nightly runs as Markdown for a CI job summary. It leads with what changed and since
when (regressions, errors, then each changed cell with its timeline: A = the first state seen), then
the counts, then the runs; runs and timelines are condensed to the last 30 runs and the first run of
each change (`…` stands for the runs left out; the JSON has every run)."""

from __future__ import annotations

from conformance.report.history import Gap, History, Tracked
from conformance.report.markdown_parts import capped, inline, sections, table


def render_history_markdown(history: History) -> str:
    shown = history.shown()
    summary = table(("change", "count"), list(history.summary().items()), limit=len(history.summary()))
    blocks = [
        *_sections(history, shown),
        ("Counts", summary),
        (f"Runs: {_condensed(shown)}", _runs(history, shown)),
    ]
    heading = f"## Conformance drift over {len(history.runs)} runs: {history.headline()}"
    return "\n".join([heading, *sections(blocks)]) + "\n"


def _condensed(shown: list[int | Gap]) -> str:
    hidden = sum(1 for item in shown if isinstance(item, tuple))
    if not hidden:
        return "all of them"
    return "the last 30, and the first run of each change"


def _runs(history: History, shown: list[int | Gap]) -> list[str]:
    verdicts = " / ".join(history.runs[0].counts)
    rows: list[tuple[object, ...]] = []
    for item in shown:
        if isinstance(item, tuple):
            rows.append(
                ("…", f"runs {item[0] + 1}-{item[1] + 1} not shown: no change first seen in them", "", "")
            )
            continue
        run = history.runs[item]
        started = run.started_at + (" (interrupted)" if run.interrupted else "")
        rows.append((run.number, started, run.file, " / ".join(str(n) for n in run.counts.values())))
    return table(("run", "started", "file", verdicts), rows, limit=len(rows))


def _sections(history: History, shown: list[int | Gap]) -> list[tuple[str, list[str]]]:
    return [
        ("Documented regressions", capped([f"- {inline(b.message())}" for b in history.regressions])),
        (
            "Tests newly erroring",
            capped([f"- {inline(b.message())}: {inline(b.reason)}" for b in history.newly_erroring]),
        ),
        (
            "What changed, and since when: rows x endpoints (failing now, then held, then flapping)",
            _changes(history, history.changed(history.cells), "row", shown),
        ),
        (
            "Recorded behaviour outside the error table that changed",
            _changes(history, history.changed(history.outside), "input class", shown),
        ),
    ]


def _changes(history: History, changed: list[Tracked], name: str, shown: list[int | Gap]) -> list[str]:
    rows = [
        (
            t.name,
            f"/{t.endpoint}",
            t.level,
            _timeline(t, shown),
            t.states.describe(),
            history.started(t.states.since()),
            _latest(t),
        )
        for t in changed
    ]
    return table((name, "endpoint", "level", "runs", "now", "since", "latest change"), rows)


def _timeline(tracked: Tracked, shown: list[int | Gap]) -> str:
    """The state's letter in each run shown, `…` for the runs left out."""
    letters = tracked.states.timeline()
    return " ".join("…" if isinstance(item, tuple) else letters[item] for item in shown)


def _latest(tracked: Tracked) -> str:
    """`run 5: +400 BAD_REQUEST`: what the latest change changed."""
    change = tracked.states.changes()[-1]
    return f"run {change.run + 1}: {change.after.since(change.before)}"
