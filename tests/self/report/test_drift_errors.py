"""A malformed results file or a bad command line: one message naming the file, the place and the fix.

Exit status 2, no traceback, and no report written (an existing one is left as it was).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.judging.results import MeasuredEdge, read_results
from tests.self.reference import bundled_contract
from tests.self.report.report_support import drift, edited, synthetic_runs

WINDOW = bundled_contract().behaviour.ends_at
IDS = bundled_contract().behaviour.insider_ids
Edit = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Edit:
    """Set a dotted path (`cases.3.verdict`; `-key` at the end deletes it)."""

    def edit(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if last.startswith("-"):
            del node[last[1:]]
        else:
            node[int(last) if isinstance(node, list) else last] = value

    return edit


MALFORMED: dict[str, tuple[Edit, str]] = {
    "not a results file": (_set("format", 2), "format"),
    "cases not a list": (_set("cases", {}), "cases"),
    "a case not an object": (_set("cases.0", "passed"), "cases[0]"),
    "a case without verdict": (_set("cases.3.-verdict", None), "cases[3].verdict"),
    "an unknown verdict": (_set("cases.1.verdict", "maybe"), "cases[1].verdict"),
    "an unknown level": (_set("cases.1.level", "rumoured"), "cases[1].level"),
    "a status as text": (_set("cases.0.observed.status", "400"), "cases[0].observed.status"),
    "has_body as a number": (_set("cases.0.observed.has_body", 1), "cases[0].observed.has_body"),
    "a row that is a number": (_set("cases.2.rows", [7]), "cases[2].rows[0]"),
    "a negative latency": (_set("cases.2.latency_ms", -1), "cases[2].latency_ms"),
    "an edge interval backwards": (_set(f"edges.{IDS.row}.measured", [5, 3]), f"edges.{IDS.row}.measured"),
    "an edge interval open both ways": (
        _set(f"edges.{IDS.row}.measured", [None, None]),
        f"edges.{IDS.row}.measured",
    ),
    "an edge in an unknown unit": (_set(f"edges.{IDS.row}.unit", "minutes"), f"edges.{IDS.row}.unit"),
    "an edge count as a boolean": (_set(f"edges.{IDS.row}.requests", True), f"edges.{IDS.row}.requests"),
}


@pytest.fixture
def good(tmp_path: Path) -> Path:
    baseline, _ = synthetic_runs()
    baseline.write(tmp_path / "good.json")
    return tmp_path / "good.json"


def _assert_one_message(err: str, file: Path, place: str) -> None:
    assert err.startswith(f"results error in {file} at {place}: "), err
    assert "\n  fix: " in err, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 2, err


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_results_file(good: Path, tmp_path: Path, name: str) -> None:
    edit, place = MALFORMED[name]
    broken = edited(good, tmp_path / "broken.json", edit)
    output = tmp_path / "report.md"
    result = drift(good, broken, "--output", output)
    assert result.status == 2
    _assert_one_message(result.err, broken, place)
    assert not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.json", "good.json"]


@pytest.mark.parametrize(
    ("content", "place"),
    [(None, "(whole file)"), ('{\n  "format": 1,\n', "line 3"), ("\udcff", "(whole file)")],
    ids=["missing", "truncated JSON", "not UTF-8"],
)
def test_unreadable_results_file(good: Path, tmp_path: Path, content: str | None, place: str) -> None:
    path = tmp_path / "current.json"
    if content is not None:
        path.write_bytes(content.encode("utf-8", errors="surrogateescape"))
    output = tmp_path / "report.md"
    output.write_text("the previous report\n", encoding="utf-8")
    result = drift(good, path, "--output", output)
    assert result.status == 2
    _assert_one_message(result.err, path, place)
    assert output.read_text(encoding="utf-8") == "the previous report\n"


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        ("missing/report.md", "does not exist"),
        (".", "is a directory"),
        ("good.json", "one of the results files"),
    ],
)
def test_bad_output_path(good: Path, output: str, problem: str) -> None:
    before = good.read_bytes()
    path = good.parent / output
    result = drift(good, good, "--output", path)
    assert result.status == 2
    assert result.err.startswith(f"usage error in {path} at --output: "), result.err
    assert problem in result.err
    assert "Traceback" not in result.err
    assert good.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "pdf"), "argument --format: invalid choice"),
        ((), "is one results file, and no CURRENT file was given to compare it with"),
    ],
    ids=["unknown format", "one file"],
)
def test_bad_command_line(good: Path, args: tuple[str, ...], message: str) -> None:
    result = drift(good, *args) if args else drift(good)
    assert result.status == 2
    assert message in result.err
    assert "Traceback" not in result.err


def test_the_installed_command_exits_2_without_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "drift", "nowhere.json", "nothing.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == (
        "results error in nowhere.json at (whole file): the file does not exist\n"
        "  fix: give the path of a results JSON file\n"
    )


def test_measured_edges_survive_the_results_file(tmp_path: Path) -> None:
    """Exact, interval and open-ended measurements read back as they were recorded."""
    run, _ = synthetic_runs()
    run.record_edge(IDS.row, MeasuredEdge(IDS.max_items, (2 * IDS.max_items + 1, None), "ids", 30))
    run.write(tmp_path / "r.json")
    again = read_results(tmp_path / "r.json")
    assert again.edges == run.edges
    assert again.edges[WINDOW.maximum.code].measured == (WINDOW.maximum.value - 1, WINDOW.maximum.value + 1)
    assert again.cases == run.cases
