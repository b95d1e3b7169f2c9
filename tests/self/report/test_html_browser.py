"""The HTML drift page in a real headless browser: the matrix is there, every cell links to its evidence.

Needs Chromium (Debian: `apt-get install -y chromium`); skips with that reason where there is none.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.self.reference import bundled_contract
from tests.self.report.browser_support import NO_BROWSER, NOT_BLANK_BYTES, PNG, rendered, screenshot
from tests.self.report.report_support import drift, synthetic_runs

pytestmark = NO_BROWSER
WINDOW = bundled_contract().behaviour.ends_at


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
    dom = rendered(page, tmp_path / "profile")
    assert dom.cells, "no matrix cell with a link in the rendered page"
    assert set(dom.cells) <= dom.ids, "a cell links to evidence that is not on the page"
    assert "v-failed ch-regressed" in dom.cells[f"cell-{WINDOW.minimum.code}-{WINDOW.endpoint}"]
    assert "v-skipped ch-no-longer-verified" in dom.cells[f"cell-APP_NOT_FOUND-{WINDOW.endpoint}"]
    assert "v-passed ch-fixed" in dom.cells["cell-PUSH_TOKEN_NOT_SYNCED-end"]
    assert "v-recorded ch-outcome-changed" in dom.cells["cell-VALIDATION_FAILED-update"]


def test_the_page_renders_to_a_screenshot(page: Path, tmp_path: Path) -> None:
    shot = screenshot(page, tmp_path / "profile", tmp_path / "drift.png")
    assert shot.startswith(PNG)
    assert len(shot) > NOT_BLANK_BYTES
