"""The HTML drift page in a real headless browser: the matrix is there, every cell links to its evidence.

Needs Chromium (Debian: `apt-get install -y chromium`); skips with that reason where there is none.
"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_support import WINDOW, drift, synthetic_runs

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

pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium binary on PATH (Debian: apt-get install -y chromium)"
)


class _Page(HTMLParser):
    """The matrix cells (class, link) and every element id of a rendered DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.cells: dict[str, str] = {}  # link target -> the classes of its cell
        self._in_matrix = False
        self._classes = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "table":
            self._in_matrix = found.get("class") == "matrix"
        if self._in_matrix and tag == "td":
            self._classes = found.get("class") or ""
        if self._in_matrix and tag == "a" and (found.get("href") or "").startswith("#"):
            self.cells[str(found["href"])[1:]] = self._classes


def _browse(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert BROWSER is not None
    return subprocess.run(
        [BROWSER, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("html")
    baseline, current = synthetic_runs()
    baseline.write(directory / "baseline.json")
    current.write(directory / "current.json")
    output = directory / "drift.html"
    assert (
        drift(
            directory / "baseline.json", directory / "current.json", "--format", "html", "--output", output
        ).status
        == 1
    )
    return output


def test_matrix_cells_link_to_their_evidence(page: Path, tmp_path: Path) -> None:
    done = _browse(page, tmp_path / "profile", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    dom = _Page()
    dom.feed(done.stdout)
    assert dom.cells, "no matrix cell with a link in the rendered page"
    assert set(dom.cells) <= dom.ids, "a cell links to evidence that is not on the page"
    assert "v-failed ch-regressed" in dom.cells[f"cell-{WINDOW.minimum.code}-{WINDOW.endpoint}"]
    assert "v-skipped ch-no-longer-verified" in dom.cells[f"cell-APP_NOT_FOUND-{WINDOW.endpoint}"]
    assert "v-passed ch-fixed" in dom.cells["cell-PUSH_TOKEN_NOT_SYNCED-end"]
    assert "v-recorded ch-outcome-changed" in dom.cells["cell-VALIDATION_FAILED-update"]


def test_the_page_renders_to_a_screenshot(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "drift.png"
    done = _browse(page, tmp_path / "profile", "--window-size=1280,1400", f"--screenshot={shot}")
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes().startswith(PNG)
    assert shot.stat().st_size > 10_000  # a blank page compresses to far less
