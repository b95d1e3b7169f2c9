"""`conformance report RESULTS`: one run for a person, in Markdown, HTML and JUnit.

A real run of the suite (the session's reference run) shows the whole matrix and stays a few KB of
Markdown; small hand-built runs show each section: failures with the row, expected and received;
what was not verified and why; recorded behaviour; latency; an interrupted run flagged first.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conformance.judging.results import Verdict, read_results
from conformance.report.junit import render_junit
from conformance.report.markdown_parts import LIMIT
from conformance.report.matrix import ROW_ID
from conformance.report.run_html import render_run_html
from conformance.report.run_markdown import INTERRUPTED, render_run_markdown
from conformance.report.run_report import build_report
from tests.self.reference import bundled_contract
from tests.self.report.report_support import (
    CRASH,
    answered,
    break_every_documented_case,
    edited,
    load,
    report,
    synthetic_runs,
)

WINDOW = bundled_contract().behaviour.ends_at
# A GitHub job summary holds at most 1 MiB; a person reads a few KB.
SUMMARY_BUDGET = 8_192


def _written(tmp_path: Path) -> Path:
    """The hand-built run with a failure, a skip, an error and a recorded probe, as a file."""
    _, current = synthetic_runs()
    current.write(tmp_path / "results.json")
    return tmp_path / "results.json"


def _section(markdown: str, title: str) -> str:
    return markdown.split(f"### {title}")[1].split("\n### ", maxsplit=1)[0]


def _answered(case: dict[str, Any]) -> str | None:
    observed = case["observed"]
    if observed is None or observed["status"] is None or observed["status"] < 400:
        return None
    return str(observed["code"] or f"HTTP_{observed['status']}")


def test_a_real_run_in_markdown_is_a_few_kb_with_the_whole_matrix(reference_results: Path) -> None:
    result = report(reference_results)
    data = load(reference_results)
    assert (result.status, result.err) == (0, "")
    assert len(result.out.encode()) < SUMMARY_BUDGET
    assert result.out.startswith("## Conformance run: every verified case passed\n")
    counts = data["counts"]
    assert (
        f"| {' | '.join(str(counts[v]) for v in ('passed', 'failed', 'recorded', 'skipped', 'error'))} |"
        in (result.out)
    )
    # A row is in one run's matrix where the target answered with it (or a case of it failed or skipped).
    rows = {
        row
        for case in data["cases"]
        if case["endpoint"]
        for row in case["rows"]
        if ROW_ID.fullmatch(row) and (case["verdict"] not in ("passed", "recorded") or _answered(case) == row)
    }
    grid = _section(result.out, "Error-table rows x endpoints")
    assert {
        line.split(" | ")[0].removeprefix("| ") for line in grid.splitlines() if line.startswith("| ")
    } == {
        *rows,
        "row",
    }
    assert "### Latency per endpoint (ms)" in result.out


def test_a_failure_names_the_row_the_expectation_and_the_answer(
    reference_results: Path, tmp_path: Path
) -> None:
    soon = WINDOW.minimum
    code = bundled_contract().behaviour.eligibility.no_eligible_code
    broken: dict[str, Any] = {}

    def fail_one(data: dict[str, Any]) -> None:
        case = next(
            c
            for c in data["cases"]
            if c["rows"] == [soon.code] and c["level"] == "documented" and c["verdict"] == "passed"
        )
        answered(case, bundled_contract().status_of(code), code)
        case["verdict"], case["reason"] = (
            "failed",
            f"/{case['endpoint']} does not behave as documented (documented):",
        )
        broken.update(case)

    path = edited(reference_results, tmp_path / "failed.json", fail_one)
    result = report(path)
    assert result.status == 0  # the report renders; the run itself already exited 1
    assert result.out.startswith("## Conformance run: 1 failed\n")
    failures = _section(result.out, "Failures")
    line = next(line for line in failures.splitlines() if soon.code in line)
    assert f"/{broken['endpoint']}" in line
    assert broken["case"] in line
    assert broken["expected"][0] in line.replace("\\|", "|")
    assert f"{bundled_contract().status_of(code)} {code}" in line
    grid = _section(result.out, "Error-table rows x endpoints")
    assert next(row for row in grid.splitlines() if row.startswith(f"| {soon.code} |")).count("✗") == 1


def test_what_was_not_verified_is_listed_with_its_reason(tmp_path: Path) -> None:
    result = report(_written(tmp_path))
    section = _section(result.out, "Not verified, and why")
    assert (
        "| skipped | the target profile offers no key for account state 'unknown_app' | 1 | t.py::test_app |"
        in (section)
    )
    assert f"| error | {CRASH} | 1 | t.py::test_crash |" in section
    assert result.out.startswith("## Conformance run: 1 failed, 1 error(s)\n")


def test_recorded_behaviour_and_latency_are_summarised(tmp_path: Path) -> None:
    result = report(_written(tmp_path))
    recorded = _section(result.out, "Behaviour recorded, not judged (undocumented first)")
    assert "| /update | probe | undocumented | 200 {status} |  | 1 |" in recorded
    latency = _section(result.out, "Latency per endpoint (ms)")
    # The hand-built run's one timed /register case took 3 ms, its /end case 11 ms.
    assert "| /register | 1 | 3.0 | 3.0 | 3.0 |" in latency
    assert "| /end | 1 | 11.0 | 11.0 | 11.0 |" in latency


def test_long_lists_are_capped_with_a_count(reference_results: Path, tmp_path: Path) -> None:
    """Hundreds of failures: counted together where alike, at most LIMIT lines, still a few KB."""
    path = edited(reference_results, tmp_path / "broken.json", break_every_documented_case)
    built = build_report(read_results(path), path)
    groups = built.failure_groups()
    result = report(path)
    failures = _section(result.out, "Failures")
    assert len(built.failures) > len(groups) > LIMIT
    assert sum(g.count for g in groups) == len(built.failures)
    assert failures.startswith(f" ({len(built.failures)} cases, alike ones counted together)")
    assert failures.count("\n| /") == LIMIT
    assert f"_… and {len(groups) - LIMIT} more (see the HTML or JSON report)_" in failures
    assert len(result.out.encode()) < SUMMARY_BUDGET


def test_an_interrupted_run_says_so_before_anything_else(tmp_path: Path) -> None:
    path = _written(tmp_path)
    results = read_results(path)
    vars(results)["interrupted"] = True  # the field RunResults gains with interrupt handling
    built = build_report(results, path)
    markdown = render_run_markdown(built)
    assert markdown.splitlines()[0] == "## Conformance run: interrupted, 1 failed, 1 error(s)"
    assert markdown.index(INTERRUPTED) < markdown.index("| passed |")
    html = render_run_html(built)
    assert html.index('class="banner" id="interrupted"') < html.index("<table")
    suite = ET.fromstring(render_junit(built)).find("testsuite")  # noqa: S314 - our own output
    assert suite is not None
    assert {p.get("name"): p.get("value") for p in suite.iter("property")}["interrupted"] == "true"


def test_junit_has_one_testcase_per_case(reference_results: Path, tmp_path: Path) -> None:
    """Valid XML a CI system reads: counts on the suite, a failure, an error and a skip with their reasons."""
    _, run = synthetic_runs()
    run.cases += read_results(reference_results).cases
    run.write(tmp_path / "results.json")
    output = tmp_path / "junit.xml"
    assert report(tmp_path / "results.json", "--format", "junit", "--output", output).status == 0
    root = ET.parse(output).getroot()  # noqa: S314 - our own output
    suite = root.find("testsuite")
    assert root.tag == "testsuites"
    assert suite is not None
    cases = suite.findall("testcase")
    counts = run.counts()
    assert len(cases) == len(run.cases) == int(suite.get("tests", ""))
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == tuple(
        str(counts[v]) for v in ("failed", Verdict.ERROR, "skipped")
    )
    assert len({(c.get("classname"), c.get("name")) for c in cases}) == len(cases), "testcase names repeat"
    failure = next(c for c in cases if c.find("failure") is not None).find("failure")
    assert failure is not None
    assert failure.get("message") == "/register does not behave as documented (documented):"
    assert "received 422 NO_ELIGIBLE_DEVICE" in (failure.text or "")
    skipped = next(c for c in cases if c.find("skipped") is not None).find("skipped")
    assert skipped is not None
    assert "unknown_app" in (skipped.get("message") or "")
    error = next(c for c in cases if c.find("error") is not None).find("error")
    assert error is not None
    assert error.get("message") == CRASH
    assert sum(1 for c in cases if c.find("failure") is not None) == counts["failed"]


@pytest.mark.parametrize("rendering", ["markdown", "html", "junit"])
def test_the_output_file_is_written_whole(tmp_path: Path, rendering: str) -> None:
    path = _written(tmp_path)
    output = tmp_path / f"report.{rendering}"
    result = report(path, "--format", rendering, "--output", output)
    assert (result.status, result.out, result.err) == (0, "", "")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["results.json", output.name])
    assert output.read_text(encoding="utf-8").startswith(
        {"markdown": "## Conformance run", "html": "<!DOCTYPE html>", "junit": "<?xml"}[rendering]
    )


@pytest.mark.parametrize(
    ("problem", "arguments", "message"),
    [
        (
            "a missing file",
            ("missing.json",),
            "results error in missing.json at (whole file): the file does not exist",
        ),
        ("not JSON", ("not-json.json",), "not valid JSON"),
        (
            "the output is the input",
            ("results.json", "--output", "results.json"),
            "is one of the results files read",
        ),
        ("the output is a directory", ("results.json", "--output", "."), "is a directory"),
    ],
)
def test_bad_input_is_one_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, problem: str, arguments: tuple[str, ...], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    _written(tmp_path)
    (tmp_path / "not-json.json").write_text("{", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    result = report(*arguments)
    assert result.status == 2, problem
    assert message in result.err
    assert "Traceback" not in result.err
    assert len(result.err.splitlines()) == 2
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
