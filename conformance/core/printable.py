"""Text that came from outside (a target's codes, messages, headers), made safe to print.

A target is not trusted with the terminal or the CI log it is printed into: a control character
(an ANSI escape, a carriage return, a newline) could rewrite or forge lines, and a GitHub Actions
workflow command (`::error::`, `::add-mask::`) would be obeyed by the runner. So every such
character is shown as a `\\xNN` escape and every `::` has its first colon escaped.
"""

from __future__ import annotations

import unicodedata

REDACTED = "<redacted>"

# Categories whose characters are never printed as they are: controls, format characters (bidi
# overrides), line and paragraph separators.
_UNPRINTED = frozenset({"Cc", "Cf", "Zl", "Zp"})


def printable(text: str) -> str:
    """`text` on one line, with no character a terminal or a CI runner would act upon."""
    escaped = "".join(_escape(c) if unicodedata.category(c) in _UNPRINTED else c for c in text)
    return escaped.replace("::", "\\x3a:")


def _escape(char: str) -> str:
    point = ord(char)
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


def printable_lines(text: str) -> str:
    """A block of lines (a traceback quoting a target's answer): each line as `printable` keeps it,
    except that newlines and tabs stay and only a `::` that starts a line is escaped (source lines
    with slices such as `[::2]` read as they are)."""
    lines = []
    for line in text.split("\n"):
        escaped = "".join(
            _escape(c) if c != "\t" and unicodedata.category(c) in _UNPRINTED else c for c in line
        )
        body = escaped.lstrip()
        if body.startswith("::"):
            escaped = escaped[: len(escaped) - len(body)] + "\\x3a" + body[1:]
        lines.append(escaped)
    return "\n".join(lines)


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """Replace every secret in `text`; used on everything the suite prints or writes."""
    for secret in sorted(secrets, key=len, reverse=True):  # a key may be a prefix of another
        if secret:
            text = text.replace(secret, REDACTED)
    return text
