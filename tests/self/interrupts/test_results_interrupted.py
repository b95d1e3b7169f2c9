"""The results file says whether the run was interrupted: written, read back, validated, merged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.core.errors import ResultsError
from conformance.judging.results import RunResults, Verdict, merge, read_results, unverified


def results(*, interrupted: bool = False) -> RunResults:
    run = RunResults("live", "http://x", "d", "v", "2031-01-01T00:00:00+00:00", interrupted=interrupted)
    run.cases.append(unverified("t.py::test_a", Verdict.SKIPPED, "why"))
    return run


def test_interrupted_round_trips(tmp_path: Path) -> None:
    results(interrupted=True).write(tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["interrupted"] is True
    assert read_results(tmp_path / "r.json").interrupted is True


def test_a_file_written_before_the_field_existed_reads_as_not_interrupted(tmp_path: Path) -> None:
    results(interrupted=True).write(tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    del data["interrupted"]
    (tmp_path / "r.json").write_text(json.dumps(data), encoding="utf-8")
    assert read_results(tmp_path / "r.json").interrupted is False


def test_an_interrupted_that_is_not_true_or_false_is_one_message(tmp_path: Path) -> None:
    results().write(tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    data["interrupted"] = "yes"
    (tmp_path / "r.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ResultsError, match="interrupted: expected true or false, found a string"):
        read_results(tmp_path / "r.json")


def test_a_run_is_interrupted_if_any_parallel_worker_was() -> None:
    assert merge([results(), results(interrupted=True)]).interrupted is True
    assert merge([results(), results()]).interrupted is False
