"""A directory of nightly runs as one self-contained HTML page, like wpt.fyi's history. It leads with
what changed and since when: regressions, errors, then a timeline per error-table row x endpoint, one
cell per run coloured by its verdict and lettered by its state (A = the first state seen), a thick
left border where the state changed; flapping rows stand out. Every cell that changed links to its
story: each state, the runs that showed it, and its changes. Runs and timelines are condensed to the
last 30 runs and the first run of each change (a hatched `…` column stands for the runs left out;
the JSON has every run).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from conformance.judging.coverage import NOT_EXERCISED
from conformance.report.history import Gap, History, Tracked
from conformance.report.html_page import bullets, page, section, table, verdict_legend
from conformance.report.matrix import VERDICT_MARKS


def render_history_html(history: History) -> str:
    heading = (
        f"Conformance drift over {len(history.runs)} runs: "
        f'<span class="{"bad" if history.regressed else "good"}">{escape(history.headline())}</span>'
    )
    shown = history.shown()
    changed_cells, changed_outside = history.changed(history.cells), history.changed(history.outside)
    unchanged = [t for t in history.cells if t not in changed_cells]
    return page(
        "Conformance drift over time",
        heading,
        [
            section("Documented regressions", bullets([b.message() for b in history.regressions])),
            section(
                "Tests newly erroring",
                bullets([f"{b.message()}: {b.reason}" for b in history.newly_erroring]),
            ),
            "<h2>What changed, and since when: error-table rows x endpoints "
            "(failing now, then held changes, then flapping, then the rest)</h2>",
            _legend(history, shown),
            _timeline(history, shown, [*changed_cells, *unchanged], "row"),
            section(
                "Recorded behaviour outside the error table that changed",
                _timeline(history, shown, changed_outside, "input class"),
            ),
            section(
                "Counts",
                table(("change", "count"), list(history.summary().items()), lambda item: item, numeric=(1,)),
            ),
            section("Runs", _runs(history, shown)),
            section(
                "What changed, run by run",
                "".join(_story(history, _runs_shown(shown), t) for t in (*changed_cells, *changed_outside)),
            ),
        ],
    )


def _runs(history: History, shown: list[int | Gap]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in ("run", "started", "file", *history.runs[0].counts))
    rows = []
    for item in shown:
        if isinstance(item, tuple):
            rows.append(
                f'<tr class="gap"><td>…</td><td colspan="{2 + len(history.runs[0].counts)}">runs '
                f"{item[0] + 1}-{item[1] + 1} not shown: no change first seen in them</td></tr>"
            )
            continue
        run = history.runs[item]
        started = run.started_at + (" (interrupted)" if run.interrupted else "")
        cells = (run.number, started, run.file, *run.counts.values())
        rows.append("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _legend(history: History, shown: list[int | Gap]) -> str:
    hidden = sum(b - a + 1 for item in shown if isinstance(item, tuple) for a, b in [item])
    condensed = (
        f" Shown: the last 30 runs and the first run of each change; a hatched … column stands for "
        f"runs left out ({hidden} of {len(history.runs)}; the JSON report has every run)."
        if hidden
        else ""
    )
    return (
        f"<p>Colour: the cell's verdict in that run: {verdict_legend(list(VERDICT_MARKS))}; "
        f'<span class="v-none">&nbsp;·&nbsp;</span> {NOT_EXERCISED}. Letter: the state (the verdict and '
        "every answer its cases got), A for the first seen. A thick left border: the state changed in "
        f"that run.{escape(condensed)}</p>"
    )


def _timeline(history: History, shown: list[int | Gap], tracked: Sequence[Tracked], name: str) -> str:
    if not tracked:
        return ""
    head = "".join(
        f'<th class="gap" title="runs {item[0] + 1}-{item[1] + 1}">…</th>'
        if isinstance(item, tuple)
        else f'<th title="{escape(history.runs[item].started_at)} {escape(history.runs[item].file)}">'
        f"{item + 1}</th>"
        for item in shown
    )
    rows = "".join(_timeline_row(history, shown, t) for t in tracked)
    return (
        f'<table class="timeline"><tr><th>{escape(name)}</th><th>endpoint</th><th>level</th>'
        f"<th>now</th><th>since</th>{head}</tr>{rows}</table>"
    )


def _timeline_row(history: History, shown: list[int | Gap], tracked: Tracked) -> str:
    series = tracked.states
    turns = set(series.turns())
    letters = series.timeline()
    label = escape(tracked.name)
    if series.status != "unchanged":
        label = f'<a href="#{escape(tracked.anchor)}">{label}</a>'
    cells = []
    for item in shown:
        if isinstance(item, tuple):
            changes = sum(1 for run in turns if item[0] <= run <= item[1])
            said = f"runs {item[0] + 1}-{item[1] + 1}: {changes} change(s)"
            cells.append(f'<td class="gap" title="{escape(said)}">…</td>')
            continue
        state, verdict = series.states[item], tracked.verdicts[item]
        cells.append(
            f'<td class="run v-{verdict or "none"}{" turn" if item in turns else ""}" '
            f'title="{escape(str(state) if state else NOT_EXERCISED)}">{escape(letters[item])}</td>'
        )
    return (
        f'<tr class="{series.status}" id="timeline-{tracked.slug}">'
        f"<th>{label}</th><td>/{escape(tracked.endpoint)}</td>"
        f'<td>{escape(tracked.level)}</td><td class="status">{escape(series.describe())}</td>'
        f'<td class="since">{escape(history.started(series.since()))}</td>{"".join(cells)}</tr>'
    )


def _story(history: History, shown: set[int], tracked: Tracked) -> str:
    series = tracked.states
    letters = series.letters()
    seen = [
        (letter, state, _ranges([i for i, s in series.known() if s == state]))
        for state, letter in letters.items()
    ]
    changes = series.changes()
    told = [c for c in changes if c.run in shown]  # the first of each change, and the recent ones
    lines = [
        f"run {c.run + 1} ({history.started(c.run)}): {letters[c.before]} → {letters[c.after]} "
        f"({c.after.since(c.before)}), " + ("held since" if c.until is None else f"until run {c.until + 1}")
        for c in told
    ]
    if len(told) < len(changes):
        lines.append(
            f"{len(changes) - len(told)} more change(s), each one seen before, in runs not shown "
            "(see the JSON)"
        )
    heading = f"{tracked.name} on /{tracked.endpoint} ({tracked.level or 'no level'}): {series.describe()}"
    states = table(("state", "verdict and answers", "runs"), seen, lambda row: row)
    return (
        f'<section class="evidence" id="{escape(tracked.anchor)}"><h3>{escape(heading)}</h3>'
        f"{states}{bullets(lines)}</section>"
    )


def _runs_shown(shown: list[int | Gap]) -> set[int]:
    return {item for item in shown if isinstance(item, int)}


def _ranges(runs: list[int]) -> str:
    """`1-67, 69, 81-146`: runs (0-based) as the numbered runs they are, consecutive ones as a range."""
    spans: list[list[int]] = []
    for run in runs:
        if spans and run == spans[-1][1] + 1:
            spans[-1][1] = run
        else:
            spans.append([run, run])
    return ", ".join(str(a + 1) if a == b else f"{a + 1}-{b + 1}" for a, b in spans)
