"""The three renderings: Markdown (snapshot, capped), JSON (its shape), and the output file."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.report.drift import compare
from conformance.report.markdown import render_markdown
from conformance.report.markdown_parts import LIMIT
from tests.self.reference import bundled_contract
from tests.self.report.report_support import break_every_documented_case, drift, edited, synthetic_runs

SNAPSHOT = Path(__file__).parent / "data" / "drift.md"
# A GitHub pull-request comment holds at most this many characters.
COMMENT_LIMIT = 65_536


def _synthetic_files(directory: Path) -> tuple[Path, Path]:
    baseline, current = synthetic_runs()
    baseline.write(directory / "baseline.json")
    current.write(directory / "current.json")
    return directory / "baseline.json", directory / "current.json"


def test_markdown_matches_the_snapshot(tmp_path: Path) -> None:
    """Every kind of change, rendered from two small hand-built runs."""
    baseline, current = synthetic_runs()
    text = render_markdown(compare(baseline, current, (Path("baseline.json"), Path("current.json"))))
    written = tmp_path / "drift.md"
    written.write_text(text, encoding="utf-8")
    assert text == SNAPSHOT.read_text(encoding="utf-8"), f"if the change is intended: cp {written} {SNAPSHOT}"


def test_markdown_is_capped_for_a_comment(reference_results: Path, tmp_path: Path) -> None:
    """Hundreds of changes still make a summary table first and sections of at most LIMIT lines."""
    current = edited(reference_results, tmp_path / "current.json", break_every_documented_case)
    result = drift(reference_results, current)
    assert result.status == 1
    assert len(result.out) < COMMENT_LIMIT
    assert result.out.index("| change | count |") < result.out.index("### Documented regressions")
    regressions = result.out.split("### Documented regressions")[1].split("###")[0]
    assert regressions.count("\n- ") == LIMIT
    assert " more (see the HTML or JSON report)_" in regressions


def test_json_has_the_documented_shape(tmp_path: Path) -> None:
    baseline, current = _synthetic_files(tmp_path)
    result = drift(baseline, current, "--format", "json")
    data = json.loads(result.out)
    assert result.status == 1
    assert data["format"] == 1
    assert data["regressed"] is True
    assert {"baseline", "current", "summary", "regressions", "outcome_changes", "field_changes"} <= set(data)
    assert {"newly_failing", "newly_passing", "no_longer_verified", "edges", "latency", "matrix"} <= set(data)
    assert {"newly_erroring", "no_longer_erroring"} <= set(data)
    assert {"test", "case", "before", "after", "reason"} == set(data["newly_erroring"][0])
    assert all(isinstance(v, int) for v in data["summary"].values())
    assert data["baseline"]["file"] == str(baseline)
    assert {"row", "endpoint", "baseline", "current", "level", "change", "cases", "skip_reasons"} == set(
        data["matrix"][0]
    )
    edge = next(e for e in data["edges"] if e["moved"])
    assert edge == {
        "row": bundled_contract().behaviour.ends_at.minimum.code,
        "unit": "s",
        "documented": bundled_contract().behaviour.ends_at.minimum.value,
        "baseline": bundled_contract().behaviour.ends_at.minimum.value,
        "current": bundled_contract().behaviour.ends_at.minimum.value - 60,
        "moved": True,
        "off_documented": True,
        "requests": {"baseline": 2, "current": 14},
    }
    interval = next(e for e in data["edges"] if isinstance(e["current"], list))
    assert interval["moved"] is False
    assert {"endpoint", "baseline", "current"} == set(data["latency"][0])
    assert {"count", "p50", "p95", "p99", "max"} == set(data["latency"][0]["current"])
    assert all({"undocumented", "before", "after", "count"} <= set(c) for c in data["outcome_changes"])


def test_output_file_is_written_whole(tmp_path: Path) -> None:
    baseline, current = _synthetic_files(tmp_path)
    output = tmp_path / "report.html"
    result = drift(baseline, current, "--format", "html", "--output", output)
    assert (result.status, result.out, result.err) == (1, "", "")
    assert output.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline.json", "current.json", "report.html"]
