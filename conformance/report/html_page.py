"""The building blocks of every HTML report: one self-contained page (inline CSS, no script, no
external asset), tables, and the error-table rows x endpoints grid whose cells each report fills.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from html import escape
from typing import TypeVar

from conformance.report.matrix import Key

T = TypeVar("T")
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
.v-error { background: #e2c6ef; } .v-none { background: #f4f5f6; color: #999; }
.ch-regressed, .ch-newly-failing { outline: 3px solid #b3261e; outline-offset: -3px; font-weight: bold; }
.ch-no-longer-verified, .ch-outcome-changed, .ch-gone { outline: 2px dashed #6a4c00; outline-offset: -3px; }
.ch-fixed, .ch-new { outline: 2px solid #2e7d32; outline-offset: -3px; }
.bad { color: #b3261e; font-weight: bold; } .good { color: #2e7d32; font-weight: bold; }
.banner { background: #fbe8a6; border: 2px solid #6a4c00; padding: .6em 1em; font-weight: bold; }
table.cases td { font-size: 12px; max-width: 28em; overflow-wrap: anywhere; }
.evidence { margin: 1em 0 2em; } .evidence td { font-size: 12px; max-width: 34em; overflow-wrap: anywhere; }
table.timeline td.run { min-width: 1.6em; text-align: center; font-size: 12px; }
table.timeline td.turn { border-left: 3px solid #1b1f23; font-weight: bold; }
table.timeline td.status { min-width: 20em; } table.timeline td.since { white-space: nowrap; }
table.timeline .gap, tr.gap td { color: #555;
  background: repeating-linear-gradient(135deg, #f4f5f6 0 4px, #dfe2e5 4px 8px); }
tr.flapping th, tr.flapping td.status { color: #b3261e; }
code { font-size: 12px; }
"""


def page(title: str, heading: str, blocks: Iterable[str]) -> str:
    """A whole page: `heading` is HTML (already escaped), the blocks follow it."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{heading}</h1>",
        *(b for b in blocks if b),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def section(title: str, block: str) -> str:
    """A titled block, or nothing when the block is empty (an empty section is noise)."""
    return f"<h2>{escape(title)}</h2>{block}" if block else ""


def table(
    header: Sequence[str],
    items: Sequence[T],
    row: Callable[[T], Sequence[object]],
    numeric: tuple[int, ...] = (),
    css: str = "",
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
    opening = f'<table class="{css}">' if css else "<table>"
    return f"{opening}<tr>{head}</tr>{body}</table>"


def bullets(items: Sequence[str]) -> str:
    return f"<ul>{''.join(f'<li>{escape(i)}</li>' for i in items)}</ul>" if items else ""


def grid(keys: Sequence[Key], cell: Callable[[str, str], str]) -> str:
    """The rows x endpoints matrix: `cell(row, endpoint)` gives the `<td>` of each key present.

    Rows in the order of `keys`, endpoints in the order they first appear; a pair no case
    exercised is a grey dot.
    """
    endpoints = list(dict.fromkeys(endpoint for _, endpoint in keys))
    rows = list(dict.fromkeys(row for row, _ in keys))
    present = set(keys)
    head = "".join(f"<th>/{escape(e)}</th>" for e in endpoints)
    body = "".join(
        f"<tr><th>{escape(row)}</th>"
        + "".join(
            cell(row, endpoint) if (row, endpoint) in present else '<td class="v-none">·</td>'
            for endpoint in endpoints
        )
        + "</tr>"
        for row in rows
    )
    return f'<table class="matrix"><tr><th>row</th>{head}</tr>{body}</table>'


def linked_cell(classes: str, anchor: str, title: str, label: str) -> str:
    """A matrix cell that links to its evidence further down the page."""
    return (
        f'<td class="{escape(classes)}"><a href="#{escape(anchor)}" title="{escape(title)}">'
        f"{escape(label)}</a></td>"
    )


def verdict_legend(verdicts: Sequence[str]) -> str:
    return " ".join(f'<span class="v-{v}">&nbsp;{escape(v)}&nbsp;</span>' for v in verdicts)
