"""The bundle's HTML summary in headless Chromium: counts, each rule with its verdict, a failure's evidence.

Needs Chromium (Debian: `apt-get install -y chromium`); skips with that reason where there is none.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.certify import certify_in_process, write_bundle
from conformance.client import run_flow
from conformance.client.settings import FlowSettings
from tests.self.report.browser_support import NO_BROWSER, NOT_BLANK_BYTES, PNG, rendered, screenshot

pytestmark = NO_BROWSER


def unlogged_flow(settings: FlowSettings) -> None:
    """The reference flow with its log thrown away: every logging rule fails."""
    run_flow(settings)
    settings.log_file.write_text("")


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    certification = certify_in_process(unlogged_flow, ["update-400", "register-429"])
    return write_bundle(certification, tmp_path_factory.mktemp("html") / "bundle") / "summary.html"


def test_the_summary_shows_counts_rules_and_a_failures_evidence(page: Path, tmp_path: Path) -> None:
    dom = rendered(page, tmp_path / "profile")
    text = dom.visible()
    assert "5 failed" in text
    assert "3 passed" in text
    assert {"rule-no-retry-validation", "rule-log-activity-id", "count-fail"} <= dom.ids
    assert "v-fail" in dom.rows["rule-log-activity-id"]
    assert "v-pass" in dom.rows["rule-backoff-rate-limit"]
    assert "no log line for any of the" in text
    assert "-> 429 HTTP_429 [answer HTTP_429]" in text  # the evidence of a failure is shown, not folded away


def test_the_summary_renders_to_a_screenshot(page: Path, tmp_path: Path) -> None:
    shot = screenshot(page, tmp_path / "profile", tmp_path / "summary.png")
    assert shot.startswith(PNG)
    assert len(shot) > NOT_BLANK_BYTES
