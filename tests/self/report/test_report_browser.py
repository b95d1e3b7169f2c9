"""The run report and the nightly history in a real headless browser: what a person sees on each page.

Needs Chromium (Debian: `apt-get install -y chromium`); skips with that reason where there is none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.self.reference import bundled_contract
from tests.self.report.browser_support import NO_BROWSER, NOT_BLANK_BYTES, PNG, rendered, screenshot
from tests.self.report.report_support import NIGHT_FILES, answered, drift, edited, load, nights, report

pytestmark = NO_BROWSER
WINDOW = bundled_contract().behaviour.ends_at
UNJUDGED = "target_devices.empty_list"


@pytest.fixture(scope="module")
def run_page(reference_results: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of a real run in which one documented ENDS_AT_TOO_SOON case failed, and no case judged
    `UNJUDGED` (its cases are taken out)."""
    directory = tmp_path_factory.mktemp("run-page")
    code = bundled_contract().behaviour.eligibility.no_eligible_code

    def fail_one(data: dict[str, Any]) -> None:
        case = next(
            c for c in data["cases"] if c["rows"] == [WINDOW.minimum.code] and c["level"] == "documented"
        )
        answered(case, bundled_contract().status_of(code), code)
        case["verdict"] = "failed"
        data["cases"] = [c for c in data["cases"] if UNJUDGED not in c.get("expectations", ())]

    results = edited(reference_results, directory / "results.json", fail_one)
    output = directory / "report.html"
    assert report(results, "--format", "html", "--output", output).status == 0
    return output


@pytest.fixture(scope="module")
def history_page(nightly: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("history-page") / "history.html"
    assert drift(nightly, "--format", "html", "--output", output).status == 0
    return output


def test_the_run_page_shows_the_verdict_the_matrix_and_the_failure(run_page: Path, tmp_path: Path) -> None:
    dom = rendered(run_page, tmp_path / "profile")
    text = dom.visible()
    assert text.startswith("Conformance run:\n1 failed")
    for heading in ("Error-table rows x endpoints", "Failures", "Behaviour recorded, not judged", "Latency"):
        assert f"\n{heading}" in text, heading
    assert dom.cells, "no matrix cell with a link in the rendered page"
    assert set(dom.cells) <= dom.ids, "a cell links to evidence that is not on the page"
    assert dom.cells[f"cell-{WINDOW.minimum.code}-{WINDOW.endpoint}"] == "v-failed"
    assert set(dom.cells.values()) == {"v-failed", "v-passed"}  # a recorded case ranks below a pass
    failures = text.split("\nFailures\n")[1].split("\nBehaviour recorded")[0]
    assert WINDOW.minimum.code in failures
    assert bundled_contract().behaviour.eligibility.no_eligible_code in failures


def test_the_run_page_renders_to_a_screenshot(run_page: Path, tmp_path: Path) -> None:
    shot = screenshot(run_page, tmp_path / "profile", tmp_path / "run.png")
    assert shot.startswith(PNG)
    assert len(shot) > NOT_BLANK_BYTES


def test_the_history_page_shows_a_timeline_per_cell_and_marks_the_flapping(
    history_page: Path, nightly: Path, tmp_path: Path
) -> None:
    dom = rendered(history_page, tmp_path / "profile")
    whitespace = next(c for c in load(nightly / NIGHT_FILES[0])["cases"] if c["case"] == "whitespace body")
    flapping = f"timeline-{whitespace['rows'][0]}-{whitespace['endpoint']}"
    assert dom.rows[flapping] == "flapping"
    runs = dom.runs[flapping]
    assert len(runs) == len(nights())
    assert all("v-passed" in classes for classes in runs)
    assert ["turn" in classes for classes in runs] == [False, False, True, True, True]
    probe = next(
        c for c in load(nightly / NIGHT_FILES[0])["cases"] if "lifecycle:end:REGISTERED" in c["case"]
    )
    held = f"timeline-{probe['rows'][0]}-{probe['endpoint']}"
    assert dom.rows[held] == "changed"
    assert ["turn" in classes for classes in dom.runs[held]] == [False, True, False, False, False]
    assert "unchanged" in dom.rows.values()
    text = dom.visible()
    assert text.startswith(f"Conformance drift over {len(nights())} runs:\nno documented regression")
    assert "B since run 5, first seen in run 3; flapping (3 changes)" in text
    assert f"history-{whitespace['rows'][0]}-{whitespace['endpoint']}" in dom.ids


def test_the_history_page_renders_to_a_screenshot(history_page: Path, tmp_path: Path) -> None:
    shot = screenshot(history_page, tmp_path / "profile", tmp_path / "history.png")
    assert shot.startswith(PNG)
    assert len(shot) > NOT_BLANK_BYTES


def test_the_run_page_shows_the_coverage_table_failed_items_first(run_page: Path, tmp_path: Path) -> None:
    """The coverage table is on the page: the failed expectation first, then the ones no case judged,
    and the lines of what was exercised at its end."""
    text = rendered(run_page, tmp_path / "profile").visible()
    coverage = text.split("\nContract coverage\n")[1].split("\nFailures\n")[0]
    failed = (f"{WINDOW.minimum.code} on {WINDOW.endpoint}", WINDOW.minimum.expectation.id)
    passed = f"{bundled_contract().behaviour.sandbox_fallback_code} on {WINDOW.endpoint}"
    unjudged = coverage.index(UNJUDGED)
    assert max(coverage.index(item) for item in failed) < unjudged < coverage.index(passed)
    assert "\ndocumented expectations exercised: " in coverage
    assert coverage.rstrip().splitlines()[-1].startswith("undocumented behaviour recorded: ")
