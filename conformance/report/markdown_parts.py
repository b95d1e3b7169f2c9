"""The building blocks of every Markdown report: tables and lists capped at `LIMIT` lines, and cells
that cannot break a table. The Markdown goes into CI job summaries and pull-request comments, so
every long list ends with "and N more" (the HTML and JSON renderings have everything).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

LIMIT = 10


def table(header: Sequence[str], rows: Sequence[Sequence[object]], *, limit: int = LIMIT) -> list[str]:
    if not rows:
        return []
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(cell(v) for v in row) + " |" for row in rows[:limit]),
    ]
    return lines + more(len(rows), limit)


def capped(lines: list[str], *, limit: int = LIMIT) -> list[str]:
    return lines[:limit] + more(len(lines), limit)


def more(total: int, limit: int = LIMIT) -> list[str]:
    return ["", f"_… and {total - limit} more (see the HTML or JSON report)_"] if total > limit else []


# Markdown's inline syntax: emphasis, code, strikethrough, HTML and autolinks, and a table's pipe.
# Brackets stay (`[ends_at_window.minimum, documented]`, `[604799, 604801]`): a link needs `](`, broken
# below. An underscore inside a word (`unknown_app`) is no emphasis in GitHub's Markdown either.
_INLINE = str.maketrans({c: "\\" + c for c in "\\`*~|"} | {"<": "&lt;", ">": "&gt;"})
_EMPHASIS_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")


def cell(value: object) -> str:
    """A table cell: one line, no pipe or HTML that would break the table, no link or emphasis."""
    return inline(value)


def inline(value: object) -> str:
    """Text (a target's code, a reason, a test name) as literal Markdown on one line: no link,
    emphasis, code, HTML or control character of its own."""
    text = "" if value is None else " ".join(str(value).split())
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
    escaped = _EMPHASIS_UNDERSCORE.sub(r"\\_", text.translate(_INLINE))
    return escaped.replace("](", "]\\(").replace("][", "]\\[")


def short(text: str, limit: int = 160) -> str:
    """`text`, cut to `limit` characters with an ellipsis: one long expectation must not fill a summary."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sections(blocks: Sequence[tuple[str, list[str]]], level: str = "###") -> list[str]:
    """Each non-empty block under its title."""
    lines: list[str] = []
    for title, block in blocks:
        if block:
            lines += ["", f"{level} {title}", "", *block]
    return lines
