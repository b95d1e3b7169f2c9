"""A directory of nightly runs as one self-contained HTML page, like wpt.fyi's history: a timeline per
error-table row x endpoint, one cell per run coloured by its verdict and lettered by its state (A =
the first state seen), a thick left border where the state changed; flapping rows stand out. Every
cell that changed links to its story: each state, the runs that showed it, and each change.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from conformance.report.history import History, RunEntry, Tracked
from conformance.report.html_page import bullets, page, section, table, verdict_legend
from conformance.report.matrix import VERDICT_MARKS


def render_history_html(history: History) -> str:
    heading = (
        f"Conformance drift over {len(history.runs)} runs: "
        f'<span class="{"bad" if history.regressed else "good"}">{escape(history.verdict())}</span>'
    )
    changed_cells, changed_outside = history.changed(history.cells), history.changed(history.outside)
    unchanged = [t for t in history.cells if t not in changed_cells]
    return page(
        "Conformance drift over time",
        heading,
        [
            table(("run", "started", "file", *history.runs[0].counts), history.runs, _run_row),
            table(("change", "count"), list(history.summary().items()), lambda item: item, numeric=(1,)),
            section("Documented regressions", bullets([b.message() for b in history.regressions])),
            section(
                "Tests newly erroring",
                bullets([f"{b.message()}: {b.reason}" for b in history.newly_erroring]),
            ),
            "<h2>Timeline: error-table rows x endpoints "
            "(failing now, then held changes, then flapping, then the rest)</h2>",
            _legend(),
            _timeline(history.runs, [*changed_cells, *unchanged], "row"),
            section(
                "Timeline: recorded behaviour outside the error table that changed",
                _timeline(history.runs, changed_outside, "input class"),
            ),
            section(
                "What changed, run by run", "".join(_story(t) for t in (*changed_cells, *changed_outside))
            ),
        ],
    )


def _run_row(run: RunEntry) -> Sequence[object]:
    started = run.started_at + (" (interrupted)" if run.interrupted else "")
    return (run.number, started, run.file, *run.counts.values())


def _legend() -> str:
    return (
        f"<p>Colour: the cell's verdict in that run: {verdict_legend(list(VERDICT_MARKS))}; "
        '<span class="v-none">&nbsp;·&nbsp;</span> not exercised. Letter: the state (the verdict and '
        "every answer its cases got), A for the first seen. A thick left border: the state changed in "
        "that run.</p>"
    )


def _timeline(runs: Sequence[RunEntry], tracked: Sequence[Tracked], name: str) -> str:
    if not tracked:
        return ""
    head = "".join(f'<th title="{escape(r.started_at)} {escape(r.file)}">{r.number}</th>' for r in runs)
    rows = "".join(_timeline_row(t) for t in tracked)
    return (
        f'<table class="timeline"><tr><th>{escape(name)}</th><th>endpoint</th><th>level</th>'
        f"<th>now</th>{head}</tr>{rows}</table>"
    )


def _timeline_row(tracked: Tracked) -> str:
    series = tracked.states
    turns = set(series.turns())
    label = escape(tracked.name)
    if series.status != "unchanged":
        label = f'<a href="#{escape(tracked.anchor)}">{label}</a>'
    cells = "".join(
        f'<td class="run v-{verdict or "none"}{" turn" if i in turns else ""}" '
        f'title="{escape(str(state) if state else "not exercised")}">{escape(letter)}</td>'
        for i, (verdict, state, letter) in enumerate(
            zip(tracked.verdicts, series.states, series.timeline(), strict=True)
        )
    )
    return (
        f'<tr class="{series.status}" id="timeline-{tracked.slug}">'
        f"<th>{label}</th><td>/{escape(tracked.endpoint)}</td>"
        f'<td>{escape(tracked.level)}</td><td class="status">{escape(series.describe())}</td>{cells}</tr>'
    )


def _story(tracked: Tracked) -> str:
    series = tracked.states
    letters = series.letters()
    seen = [
        (letter, state, ", ".join(str(i + 1) for i, s in series.known() if s == state))
        for state, letter in letters.items()
    ]
    changes = [
        f"run {c.run + 1}: {letters[c.before]} → {letters[c.after]} ({c.after.since(c.before)}), "
        + ("held since" if c.until is None else f"until run {c.until + 1}")
        for c in series.changes()
    ]
    heading = f"{tracked.name} on /{tracked.endpoint} ({tracked.level or 'no level'}): {series.describe()}"
    states = table(("state", "verdict and answers", "runs"), seen, lambda row: row)
    return (
        f'<section class="evidence" id="{escape(tracked.anchor)}"><h3>{escape(heading)}</h3>'
        f"{states}{bullets(changes)}</section>"
    )
