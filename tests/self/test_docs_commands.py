"""The docs a newcomer follows: every `conformance` command they show parses with the real command
line, every relative link leads to a file (and heading) that exists, and the README stays short.

Fast on purpose: nothing is run, nothing is sent; a command is parsed as `conformance` would parse it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.cli import _parser
from conformance.contract import load_contract
from conformance.plugin.options import OPTIONS, PLUGIN_OPTIONS
from conformance.sandbox.readings import resolve_readings

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md")))
README_MAX_LINES = 250

_FENCE = re.compile(r"^(`{3,})(\S*)\s*$")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SEPARATORS = frozenset({"&&", "||", ";", "|", "&"})
_PLACEHOLDER = re.compile(r"^[A-Z][A-Z_]*$")  # ID=OPTION, URL, PROFILE: the reader fills them in


@dataclass(frozen=True)
class Command:
    """One `conformance` command line of the docs, and where it stands."""

    doc: Path
    line: int
    args: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}: conformance {shlex.join(self.args)}"


def _fenced_lines(doc: Path) -> Iterator[tuple[int, str, str]]:
    """(line number, fence language, line) for every line inside a fenced block."""
    fence, language = "", ""
    for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
        match = _FENCE.match(line)
        if match and not fence:
            fence, language = match.group(1), match.group(2)
        elif match and match.group(1) == fence and not match.group(2):
            fence = ""
        elif fence:
            yield number, language, line


def _shell_lines(doc: Path) -> Iterator[tuple[int, str]]:
    """Shell command lines: every line of an `sh` block, and the `$ ` lines of a transcript in any
    other block; a line ending in a backslash goes on on the next."""
    pending, start = "", 0
    for number, language, raw in _fenced_lines(doc):
        line = raw
        if not pending:
            if language != "sh" and not raw.startswith("$ "):
                continue
            start, line = number, raw if language == "sh" else raw[2:]
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield start, pending + line
        pending = ""


def _commands(doc: Path) -> Iterator[Command]:
    for number, text in _shell_lines(doc):
        lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        segment: list[str] = []
        for token in [*lexer, ";"]:
            if token not in _SEPARATORS:
                segment.append(token)
                continue
            words = [word for word in segment if not _ASSIGNMENT.match(word)] if segment else []
            if words and (words[0] == "conformance" or words[0].endswith("/conformance")):
                yield Command(doc, number, tuple(words[1:]))
            segment = []


def _all_commands() -> list[Command]:
    return [command for doc in DOCS for command in _commands(doc)]


def _parse(parser: argparse.ArgumentParser, args: tuple[str, ...]) -> tuple[argparse.Namespace, list[str]]:
    """Parse as the command line would; argparse's exit becomes an assertion with its message."""
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            return parser.parse_known_args(list(args))
    except SystemExit:
        pytest.fail(errors.getvalue().strip().splitlines()[-1])


def _suite_options_parser() -> argparse.ArgumentParser:
    """The options `conformance run` gives the suite and its plugins, with their choices, from the one
    table the plugin registers them from."""
    parser = argparse.ArgumentParser(prog="conformance run", add_help=False)
    for option in (*OPTIONS, *PLUGIN_OPTIONS):
        parser.add_argument(*option.flags, **dict(option.settings))
    return parser


def _check_readings(switches: list[str] | None) -> None:
    """`ID=OPTION` switches name a reading of the contract and one of its options the sandbox has."""
    chosen = dict(switch.split("=", 1) for switch in switches or () if "=" in switch)
    real = {rid: option for rid, option in chosen.items() if not _PLACEHOLDER.match(rid)}
    try:
        resolve_readings(load_contract().behaviour, real)
    except ValueError as error:
        pytest.fail(str(error))


def test_the_docs_show_conformance_commands() -> None:
    """The extraction finds the commands of every job the README names (so the checks below see them)."""
    first_words = {command.args[0] for command in _all_commands() if command.args}
    assert {"run", "check", "certify", "drift", "report", "verdict", "sandbox"} <= first_words


@pytest.mark.parametrize("command", _all_commands(), ids=str)
def test_a_documented_command_parses(command: Command) -> None:
    """A `conformance` command of the docs parses with the real command line, options and values too."""
    args, extra = _parse(_parser(), command.args)
    if args.command != "run":
        assert not extra, f"unrecognized arguments: {' '.join(extra)}"
    else:
        suite, _pytest_args = _parse(_suite_options_parser(), tuple(extra))
        _check_readings(suite.sandbox_reading)
    _check_readings(getattr(args, "reading", None))


def test_a_wrong_command_is_caught() -> None:
    """The parse refuses what the CLI refuses: an unknown option, a stale profile name, a bad reading."""
    for line in (
        "drift nightly/ --storage h.sqlite",
        "run --hypothesis-profile=ci",
        "run --sandbox-reading end-on-registered=404",
        "certify --command x --profile",
    ):
        with pytest.raises((AssertionError, pytest.fail.Exception)):
            test_a_documented_command_parses(Command(ROOT / "README.md", 0, tuple(shlex.split(line))))


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(doc: Path) -> set[str]:
    inside = {number for number, _language, _line in _fenced_lines(doc)}
    lines = doc.read_text(encoding="utf-8").splitlines()
    return {
        _slug(line.lstrip("#"))
        for number, line in enumerate(lines, start=1)
        if line.startswith("#") and number not in inside
    }


def _links() -> Iterator[tuple[Path, str]]:
    for doc in DOCS:
        inside = {number for number, _language, _line in _fenced_lines(doc)}
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
            if number in inside:
                continue
            for target in _LINK.findall(line):
                if not re.match(r"^[a-z]+:", target):
                    yield doc, target


@pytest.mark.parametrize(
    ("doc", "target"), list(_links()), ids=lambda value: str(value).replace(str(ROOT), "")
)
def test_a_relative_link_leads_somewhere(doc: Path, target: str) -> None:
    """A relative link of the docs names a file that exists, and a heading of it when it has an anchor."""
    path, _, anchor = target.partition("#")
    file = (doc.parent / path).resolve() if path else doc
    assert file.exists(), f"{doc.relative_to(ROOT)} links {target}: no such file"
    if anchor and file.suffix == ".md":
        assert anchor in _anchors(file), f"{doc.relative_to(ROOT)} links {target}: no such heading"


def test_the_readme_stays_short() -> None:
    """The README is a front page: at most 250 lines, the rest lives in docs/."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES


def test_the_readme_starts_with_its_two_commands() -> None:
    """The README's first block is the install-and-run command and the self-tests, as .ci/run runs them."""
    first = next(iter(_fenced_lines(ROOT / "README.md")))
    block = [line for _number, language, line in _fenced_lines(ROOT / "README.md") if language == "sh"][:2]
    assert first[1] == "sh"
    assert block == [
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/conformance run",
        ".venv/bin/python -m pytest",
    ]
