"""The drift as one self-contained HTML page: inline CSS, no script, no external asset.

The matrix (error-table rows x endpoints) is coloured by each cell's verdict in the current run and
marked by how it changed; every cell links to its evidence further down the page: the cases behind
it, with what was expected and what each run observed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import TypeVar

from conformance.report.drift import Drift
from conformance.report.matrix import CHANGES, Cell
from conformance.report.pairs import Pair, outcome
from conformance.report.sections import drift_sections

T = TypeVar("T")
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
STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1b1f23; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; } h3 { font-size: 1em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #c8ccd0; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #eef0f2; }
td.num { text-align: right; }
table.matrix td { text-align: center; white-space: nowrap; }
table.matrix td a { color: inherit; text-decoration: none; display: block; }
table.matrix td a:hover { text-decoration: underline; }
.v-passed { background: #cfeccf; } .v-failed { background: #f5c2c0; }
.v-recorded { background: #d6e4f5; } .v-skipped { background: #fbe8a6; }
.v-none { background: #f4f5f6; color: #999; }
.ch-regressed, .ch-newly-failing { outline: 3px solid #b3261e; outline-offset: -3px; font-weight: bold; }
.ch-no-longer-verified, .ch-outcome-changed, .ch-gone { outline: 2px dashed #6a4c00; outline-offset: -3px; }
.ch-fixed, .ch-new { outline: 2px solid #2e7d32; outline-offset: -3px; }
.bad { color: #b3261e; font-weight: bold; } .good { color: #2e7d32; font-weight: bold; }
.evidence { margin: 1em 0 2em; } .evidence td { font-size: 12px; max-width: 34em; overflow-wrap: anywhere; }
code { font-size: 12px; }
"""


def render_html(drift: Drift) -> str:
    verdict = f'<span class="{"bad" if drift.regressed else "good"}">{escape(drift.verdict())}</span>'
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Conformance drift</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Conformance drift: {verdict}</h1>",
        _runs(drift),
        _table(("change", "count"), list(drift.summary().items()), lambda item: item, numeric=(1,)),
        "<h2>Error-table rows x endpoints</h2>",
        _matrix(drift.cells),
        _legend(),
        *_sections(drift),
        "<h2>Evidence</h2>",
        *(_evidence(cell) for cell in drift.cells),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


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
    return _table(("", "baseline", "current"), rows, lambda row: row)


def _matrix(cells: Sequence[Cell]) -> str:
    endpoints = list(dict.fromkeys(c.endpoint for c in cells))
    rows = list(dict.fromkeys(c.row for c in cells))
    at = {(c.row, c.endpoint): c for c in cells}
    head = "".join(f"<th>/{escape(e)}</th>" for e in endpoints)
    body = []
    for row in rows:
        tds = []
        for endpoint in endpoints:
            cell = at.get((row, endpoint))
            if cell is None:
                tds.append('<td class="v-none">·</td>')
                continue
            verdict = cell.current or "none"
            was = cell.baseline or "not exercised"
            now = cell.current or "not exercised"
            title = f"{row} on /{endpoint}: {was} → {now} ({cell.change}, {cell.level})"
            label = f"{verdict} {MARKS[cell.change]}".strip()
            classes = f"v-{verdict} ch-{cell.change.replace(' ', '-')}"
            tds.append(
                f'<td class="{classes}"><a href="#{escape(cell.anchor)}" title="{escape(title)}">'
                f"{escape(label)}</a></td>"
            )
        body.append(f"<tr><th>{escape(row)}</th>{''.join(tds)}</tr>")
    return f'<table class="matrix"><tr><th>row</th>{head}</tr>{"".join(body)}</table>'


def _legend() -> str:
    verdicts = " ".join(
        f'<span class="v-{v}">&nbsp;{v}&nbsp;</span>' for v in ("passed", "failed", "recorded", "skipped")
    )
    changes = ", ".join(f"{MARKS[c]} {c}" for c in CHANGES if MARKS[c])
    return f"<p>Colour: the verdict now: {verdicts}. Mark: the change since the baseline: {changes}.</p>"


def _sections(drift: Drift) -> list[str]:
    blocks = [("Documented regressions", _list([r.message for r in drift.regressions]))]
    for section in drift_sections(drift):
        header, rows = section.table(brief=False)
        blocks.append((section.title, _table(header, rows, lambda row: row)))
    return [f"<h2>{escape(title)}</h2>{block}" for title, block in blocks if block]


def _evidence(cell: Cell) -> str:
    was, now = cell.baseline or "not exercised", cell.current or "not exercised"
    reasons = "".join(f"<p>Not verified: {escape(r)}</p>" for r in cell.skip_reasons)
    table = _table(
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
        f"{reasons}{table}</section>"
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


def _list(items: Sequence[str]) -> str:
    return f"<ul>{''.join(f'<li>{escape(i)}</li>' for i in items)}</ul>" if items else ""


def _table(
    header: Sequence[str],
    items: Sequence[T],
    row: Callable[[T], Sequence[object]],
    numeric: tuple[int, ...] = (),
) -> str:
    if not items:
        return ""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=num' if i in numeric else ''}>{escape('' if v is None else str(v))}</td>"
            for i, v in enumerate(row(item))
        )
        + "</tr>"
        for item in items
    )
    return f"<table><tr>{head}</tr>{body}</table>"
