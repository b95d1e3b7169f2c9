"""The progress lines and the end-of-run summary: real counts, and plain lines a CI log keeps readable."""

from __future__ import annotations

import re
from pathlib import Path

from conformance.judging.coverage import unit_counts
from conformance.judging.results import CaseResult, Observed, RunResults, Verdict, read_results, unverified
from conformance.plugin.progress import LEFT_SHOWN, failed_rows, summary_lines, top_reasons
from tests.self.reference import bundled_contract
from tests.self.suite.suite_runner import run_suite

# A profile without the key of one account state: the tests that need it skip, with the reason.
MISSING = "p12_cert"


def case(test: str, rows: tuple[str, ...], verdict: Verdict, endpoint: str = "register") -> CaseResult:
    observed = Observed(status=400, code="X", body_fields=(), has_body=True)
    return CaseResult(test, "c", endpoint, rows, "documented", ("400 X",), observed, verdict)


def run(*cases: CaseResult, leftovers: tuple[str, ...] = (), interrupted: bool = False) -> RunResults:
    results = RunResults("live", "http://x", "d", "v", "t", cases=list(cases), interrupted=interrupted)
    results.leftovers = list(leftovers)
    return results


def test_the_top_reasons_are_the_most_frequent_first_skips_and_errors_alike() -> None:
    cases = [
        unverified("a", Verdict.SKIPPED, "no key for p12_cert"),
        unverified("b", Verdict.SKIPPED, "no key for p12_cert"),
        unverified("c", Verdict.ERROR, "KeyError: 'x'"),
        case("d", ("R1",), Verdict.FAILED),
    ]
    assert top_reasons(cases) == [("skipped: no key for p12_cert", 2), ("error: KeyError: 'x'", 1)]


def test_the_summary_names_failed_rows_an_interruption_and_what_was_left_started() -> None:
    left = tuple(f"id-{n} (STARTED, expires 2031-01-01T00:00:00Z)" for n in range(LEFT_SHOWN + 2))
    results = run(
        case("t.py::test_x", ("ENDS_AT_TOO_SOON",), Verdict.FAILED, "start"),
        case("t.py::test_y", ("ENDS_AT_TOO_SOON",), Verdict.FAILED, "register"),
        leftovers=(*left, "id-r (REGISTERED, expires 2031-01-01T00:00:00Z)"),
        interrupted=True,
    )
    lines = summary_lines(results)
    assert failed_rows(results.cases) == [
        "ENDS_AT_TOO_SOON [register, start]: 2 failed, e.g. t.py::test_x (c)"
    ]
    assert any(line.startswith("interrupted") for line in lines)
    assert f"left STARTED on the target ({LEFT_SHOWN + 2}; they end at their expiry):" in lines
    assert "  ... and 2 more in the results file (leftovers)" in lines
    assert not any("REGISTERED" in line for line in lines)


def test_a_run_in_a_ci_log_shows_progress_and_a_summary_that_match_its_results(tmp_path: Path) -> None:
    """stdout piped (no terminal): a progress line per module, the summary with the file's counts,
    the top reason for what was not verified, and no carriage return or colour anywhere."""
    reference = bundled_contract().directory / "targets" / "sandbox.toml"
    text, removed = re.subn(rf"(?m)^{MISSING} = .*\n", "", reference.read_text(encoding="utf-8"))
    assert removed == 1
    profile = tmp_path / "without-one-key.toml"
    profile.write_text(text, encoding="utf-8")
    done = run_suite(tmp_path, "--target-profile", str(profile), "-k", "error_rows or lifecycle")
    assert done.returncode == 0, done.output[-3000:]
    assert "\r" not in done.output
    assert "\x1b" not in done.output
    results = read_results(tmp_path / "results.json")
    tally = unit_counts(results)
    assert tally is not None
    progress = re.findall(
        r"(?m)^conformance: (\d+)/(\d+) tests, after (test_\w+\.py): rows: \d+ verified", done.output
    )
    assert len(progress) >= 2, done.output[-3000:]
    done_counts = [int(n) for n, _, _ in progress]
    assert done_counts == sorted(set(done_counts)), "one line per module, as the run goes on"
    ran = re.search(r"(?m)^(\d+) passed(?:, (\d+) skipped)?.* in ", done.output)  # pytest's last line
    assert ran
    assert {int(total) for _, total, _ in progress} == {int(ran.group(1)) + int(ran.group(2) or 0)}
    summary = done.output.split(" conformance summary ", 1)[1].splitlines()[1:]
    assert summary[0] == tally.line()
    counts = results.counts()
    assert summary[1] == f"{len(results.cases)} cases: " + ", ".join(f"{n} {v}" for v, n in counts.items())
    assert counts["skipped"] > 0
    reasons = [line for line in summary if line.startswith("  ") and " x skipped: " in line]
    assert reasons, summary
    assert any(MISSING in line for line in reasons)
