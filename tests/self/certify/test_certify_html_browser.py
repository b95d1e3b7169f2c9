"""The bundle's HTML summary in headless Chromium: counts, each rule with its verdict, a failure's evidence.

Needs Chromium (Debian: `apt-get install -y chromium`); skips with that reason where there is none.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conformance.certify import certify_in_process, write_bundle
from conformance.client import run_flow
from conformance.client.settings import FlowSettings
from tests.self.report.browser_support import NO_BROWSER, NOT_BLANK_BYTES, PNG, rendered, screenshot

pytestmark = NO_BROWSER


def unlogged_flow(settings: FlowSettings) -> None:
    """The reference flow with `activity_id` cut from its log: log-activity-id fails."""
    run_flow(settings)
    lines = [json.loads(line) for line in settings.log_file.read_text().splitlines()]
    settings.log_file.write_text("".join(json.dumps({**d, "activity_id": None}) + "\n" for d in lines))


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    certification = certify_in_process(unlogged_flow, ["update-400", "register-429"])
    return write_bundle(certification, tmp_path_factory.mktemp("html") / "bundle") / "summary.html"


def test_the_summary_shows_counts_rules_and_a_failures_evidence(page: Path, tmp_path: Path) -> None:
    dom = rendered(page, tmp_path / "profile")
    text = dom.visible()
    counts = certification_counts(text)
    assert counts["failed"] == 1
    assert counts["passed"] >= 3
    assert "INCOMPLETE: this run is not a certificate" in text
    assert "verdict" in dom.ids
    assert {"rule-no-retry-validation", "rule-log-activity-id", "count-fail"} <= dom.ids
    assert "v-fail" in dom.rows["rule-log-activity-id"]
    assert "v-pass" in dom.rows["rule-backoff-rate-limit"]
    assert "no log line" not in text
    assert "-> 429 HTTP_429 [answer HTTP_429]" in text  # the evidence of a failure is shown, not folded away


def certification_counts(text: str) -> dict[str, int]:
    """The summary's `N passed` and `N failed` badges."""
    return {word: int(re.search(rf"(\d+) {word}", text).group(1)) for word in ("passed", "failed")}  # type: ignore[union-attr]


def test_the_summary_renders_to_a_screenshot(page: Path, tmp_path: Path) -> None:
    shot = screenshot(page, tmp_path / "profile", tmp_path / "summary.png")
    assert shot.startswith(PNG)
    assert len(shot) > NOT_BLANK_BYTES
