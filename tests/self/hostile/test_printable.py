"""Text from a target is printed escaped: no terminal escape, no line of its own, no GitHub Actions
workflow command; in Markdown reports, no link, emphasis or HTML of its own."""

from __future__ import annotations

from conformance.core.printable import printable, printable_lines
from conformance.report.markdown_parts import cell, inline

HOSTILE = "::error::x \x1b[2J\x1b[31mred\rover\n::add-mask::k \u202egnirts"


def test_printable_escapes_controls_and_every_workflow_command() -> None:
    """ESC, CR, LF and a bidi override become \\x/\\u escapes, and `::` loses its first colon."""
    text = printable(HOSTILE)
    assert text == (
        "\\x3a:error\\x3a:x \\x1b[2J\\x1b[31mred\\x0dover\\x0a\\x3a:add-mask\\x3a:k \\u202egnirts"
    )
    assert text.isprintable()
    assert "::" not in text


def test_printable_lines_keeps_lines_and_escapes_a_command_at_a_line_start() -> None:
    """A traceback keeps its lines and tabs; a line that starts (after blanks) with `::` is defused;
    a slice `[::2]` in a source line is left alone."""
    text = printable_lines("E   got ::error::x\n  ::warning::y\x1b[0m\n\tvalues[::2]")
    assert text.splitlines() == ["E   got ::error::x", "  \\x3a:warning::y\\x1b[0m", "\tvalues[::2]"]
    assert not any(line.lstrip().startswith("::") for line in text.splitlines())


def test_markdown_cells_and_bullets_are_literal() -> None:
    """Links, emphasis, code, HTML and pipes are escaped; an underscore inside a word and brackets
    that make no link stay."""
    text = inline("**bold** _em_ [link](https://x.invalid) `code` <b>|</b> ~~s~~ unknown_app \x1b")
    assert text == (
        "\\*\\*bold\\*\\* \\_em\\_ [link]\\(https://x.invalid) \\`code\\` &lt;b&gt;\\|&lt;/b&gt; "
        "\\~\\~s\\~\\~ unknown_app \\\\x1b"
    )
    assert cell("a\nb | c [1, 2]") == "a b \\| c [1, 2]"
