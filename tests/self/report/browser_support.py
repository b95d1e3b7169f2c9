"""Headless Chromium for the HTML report tests: render a page's DOM, take a screenshot.

Needs Chromium (Debian: `apt-get install -y chromium`); the tests skip with that reason where there
is none (`NO_BROWSER`).
"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
BROWSER = next((found for name in BROWSERS if (found := shutil.which(name))), None)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
PNG = b"\x89PNG\r\n\x1a\n"
# A blank page compresses to far less than this; a page of tables to far more.
NOT_BLANK_BYTES = 10_000
NO_BROWSER = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium binary on PATH (Debian: apt-get install -y chromium)"
)


class Page(HTMLParser):
    """A rendered DOM: the matrix cells (class, link), the timeline rows (class, run cells), every element
    id, and the visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.cells: dict[str, str] = {}  # link target -> the classes of its matrix cell
        self.rows: dict[str, str] = {}  # a table row's id -> its classes
        self.runs: dict[str, list[str]] = {}  # a timeline row's id -> the classes of its run cells
        self.text: list[str] = []
        self._in_matrix = False
        self._classes = ""
        self._row = ""
        self._skip = 0  # inside <style> or <title>: not shown

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag in ("style", "title"):
            self._skip += 1
        if tag == "table":
            self._in_matrix = found.get("class") == "matrix"
        if self._in_matrix and tag == "td":
            self._classes = found.get("class") or ""
        if self._in_matrix and tag == "a" and (found.get("href") or "").startswith("#"):
            self.cells[str(found["href"])[1:]] = self._classes
        if tag == "tr":
            self._row = found.get("id") or ""
            self.rows[self._row] = found.get("class") or ""
        if tag == "td" and "run" in (found.get("class") or "").split():
            self.runs.setdefault(self._row, []).append(str(found["class"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.text.append(" ".join(data.split()))

    def visible(self) -> str:
        return "\n".join(self.text)


def browse(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert BROWSER is not None
    return subprocess.run(
        [BROWSER, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def rendered(page: Path, profile: Path) -> Page:
    """The DOM Chromium built from the page, parsed."""
    done = browse(page, profile, "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    dom = Page()
    dom.feed(done.stdout)
    return dom


def screenshot(page: Path, profile: Path, shot: Path) -> bytes:
    done = browse(page, profile, "--window-size=1280,1400", f"--screenshot={shot}")
    assert done.returncode == 0, done.stderr[-2000:]
    return shot.read_bytes()
