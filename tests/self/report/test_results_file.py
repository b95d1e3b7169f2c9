"""The results file keeps every verdict a run can give, `error` included, and still refuses others."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.core.errors import ResultsError
from conformance.judging.results import Verdict, read_results, unverified
from tests.self.report.report_support import CRASH, synthetic_runs


def test_an_error_case_round_trips_through_the_file(tmp_path: Path) -> None:
    """Written and read back unchanged, and counted under its own verdict."""
    run, _ = synthetic_runs()
    run.cases.append(unverified("t.py::test_crash", Verdict.ERROR, CRASH, case="error (call)"))
    run.write(tmp_path / "results.json")
    back = read_results(tmp_path / "results.json")
    assert back == run
    assert back.cases[-1].verdict == Verdict.ERROR
    assert back.counts()[Verdict.ERROR] == 2  # the synthetic baseline has one error of its own
    assert json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["counts"][Verdict.ERROR] == 2


def test_an_unknown_verdict_is_still_refused_with_one_message(tmp_path: Path) -> None:
    """The message names the case and lists every verdict the file may hold, `error` among them."""
    run, _ = synthetic_runs()
    run.write(tmp_path / "results.json")
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    data["cases"][2]["verdict"] = "crashed"
    (tmp_path / "results.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ResultsError) as refused:
        read_results(tmp_path / "results.json")
    message = str(refused.value)
    assert "cases[2].verdict" in message
    assert all(repr(v.value) in message for v in Verdict)


def test_a_file_written_before_errors_were_counted_still_reads(tmp_path: Path) -> None:
    """Counts are derived, not read: a file whose counts lack `error` reads, and counts 0 errors."""
    run, _ = synthetic_runs()
    run.cases = [c for c in run.cases if c.verdict != Verdict.ERROR]
    run.write(tmp_path / "results.json")
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    del data["counts"][Verdict.ERROR]
    (tmp_path / "results.json").write_text(json.dumps(data), encoding="utf-8")
    assert read_results(tmp_path / "results.json").counts()[Verdict.ERROR] == 0


def test_verdicts_keep_the_files_spelling_and_read_back_as_verdicts(tmp_path: Path) -> None:
    """A file written with every verdict holds the words files always held, and reads back as `Verdict`s."""
    run, _ = synthetic_runs()
    run.cases = [unverified(f"t.py::test_{v.value}", v, "why") for v in Verdict]
    run.write(tmp_path / "results.json")
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    spelled = ["passed", "failed", "recorded", "skipped", "error"]
    assert [c["verdict"] for c in data["cases"]] == spelled
    assert sorted(data["counts"]) == sorted(spelled)
    assert all(type(c.verdict) is Verdict for c in read_results(tmp_path / "results.json").cases)
