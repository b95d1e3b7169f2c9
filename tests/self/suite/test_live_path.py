"""The live path, for real: the suite with `--target live` against `conformance sandbox serve` on loopback.

This is what a nightly job does against the real API: a real clock (bracketed from `Date` headers),
real sleeps for the token sync, the rate budget, and the control API only where the profile names
its token. The served sandbox is a separate process, stopped with Ctrl-C (SIGINT) at the end.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.contract import load_contract
from conformance.profile.target_profile import load_profile
from tests.self.suite.suite_runner import (
    SUITE_TIMEOUT_SECONDS,
    TIME_BOUND,
    TOKEN_VARIABLE,
    SuiteRun,
    run_suite,
    served_profile,
    served_sandbox,
)

TOKEN = "self-test-control-token"
STARTUP_SECONDS = 30


def live_suite(
    tmp: Path, url: str, *options: str, token: str | None = TOKEN, timeout: float = SUITE_TIMEOUT_SECONDS
) -> SuiteRun:
    """The suite with `--target live` against `url`, its profile written to `tmp`; with the control
    token in the environment unless `token` is None (then the target offers no control API)."""
    profile = served_profile(url, tmp)
    live = ("--target", "live", "--base-url", url, "--target-profile", str(profile))
    return run_suite(tmp, *live, *options, env={TOKEN_VARIABLE: token} if token else None, timeout=timeout)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`conformance sandbox serve` on an ephemeral loopback port, with a known control token."""
    with served_sandbox(TOKEN) as running:
        yield running


@pytest.fixture(scope="module")
def live_run(served: tuple[str, subprocess.Popen[str]], tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    url, _ = served
    return live_suite(tmp_path_factory.mktemp("live"), url)


def test_suite_passes_over_http_against_the_served_sandbox(live_run: SuiteRun) -> None:
    """Over loopback HTTP with a real clock, every case passes or is recorded, or is skipped with a reason."""
    counts = live_run.results["counts"]
    assert live_run.returncode == 0, live_run.output[-3000:]
    assert counts["failed"] == 0
    assert counts["passed"] > 500
    skipped = {c["reason"] for c in live_run.results["cases"] if c["verdict"] == "skipped"}
    assert all("--allow-rate-limit-probe" in reason for reason in skipped), skipped


def test_no_key_reaches_output_or_results(live_run: SuiteRun) -> None:
    """Neither the suite's output nor its results file holds an API key or the control token."""
    reference = load_contract().directory / "targets" / "sandbox.toml"
    keys = re.findall(r'key = "([^"]+)"', reference.read_text(encoding="utf-8"))
    written = live_run.output + str(live_run.results)
    assert keys
    for secret in [*keys, TOKEN]:
        assert secret not in written


def test_no_insider_id_or_udid_reaches_the_results(live_run: SuiteRun) -> None:
    """A live target's insiders are named by profile entry in what the results file keeps."""
    profile = load_profile(load_contract().directory / "targets" / "sandbox.toml", load_contract())
    written = json.dumps(live_run.results)
    assert [i for i in profile.personal_ids() if i in written] == []
    assert "<gdpr_denied 1>" in written  # the expected answers name the denied insider


def test_parallel_workers_share_the_budget_and_merge_their_results(
    served: tuple[str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    """`-n 2` without the control API: no failure, and one results file with every worker's cases."""
    url, _ = served
    run = live_suite(tmp_path, url, "-n", "2", token=None)
    assert run.returncode == 0, run.output[-3000:]
    assert run.results["counts"]["failed"] == 0
    assert run.results["counts"]["passed"] > 500


def test_parallel_workers_are_refused_a_shared_control_api(
    served: tuple[str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    """With the control API enabled, `-n 2` stops at once with one usage error naming why."""
    url, _ = served
    run = live_suite(tmp_path, url, "-n", "2")
    assert run.returncode == 4, run.output[-2000:]
    assert "parallel workers (-n)" in run.output


# Last in the module: it stops the server every other test here uses.
@pytest.mark.usefixtures("live_run")
def test_served_sandbox_stops_cleanly_on_ctrl_c(served: tuple[str, subprocess.Popen[str]]) -> None:
    """SIGINT stops `conformance sandbox serve` with exit status 0 and no traceback."""
    _, server = served
    server.send_signal(signal.SIGINT)
    output, _ = server.communicate(timeout=STARTUP_SECONDS)
    assert server.returncode == 0
    assert "Traceback" not in output


PROBE_TIMEOUT_SECONDS = 900


@pytest.mark.slow
@pytest.mark.parametrize("counting", ["every-request", "successes-only"])
def test_rate_limit_probe_leaves_the_run_clean(counting: str, tmp_path: Path) -> None:
    """`--allow-rate-limit-probe` on a live target without a control API, whether or not rejected
    requests count against the limit: no false failure (no test meets a bucket a probe exhausted),
    the 429 rows verified where a harmless success exists, the others not verified with the reason."""
    with served_sandbox(TOKEN, "--reading", f"rate-limit-counts={counting}") as (url, _):
        run = live_suite(tmp_path, url, "--allow-rate-limit-probe", token=None, timeout=PROBE_TIMEOUT_SECONDS)
    assert run.returncode == 0, run.output[-3000:]
    assert run.results["counts"]["failed"] == 0
    limited = [c for c in run.results["cases"] if c["case"].startswith("over the rate limit")]
    unverified = [c for c in run.results["cases"] if "rate-limit-counts=successes-only" in c["reason"]]
    if counting == "every-request":
        assert len(limited) == 8, limited  # the six 429 rows, the backoff test and the bucket test
        assert all(c["verdict"] == "passed" for c in limited), limited
        assert unverified == []
    else:
        assert {c["endpoint"] for c in limited if c["verdict"] == "passed"} == {"add-users", "remove-users"}
        assert {c["endpoint"] for c in unverified} == {"register", "start", "update", "end"}


def test_a_served_sandbox_on_a_virtual_clock_is_read_exactly(tmp_path: Path) -> None:
    """A served target whose control API says its clock is virtual is read from that clock, not
    bracketed from `Date` headers (which would stand still while the suite waits): the run passes
    as it does in-process, named edges and edge probes included."""
    with served_sandbox(TOKEN, "--clock", "virtual") as (url, _):
        run = live_suite(tmp_path, url, "-k", TIME_BOUND)
    counts = run.results["counts"]
    assert run.returncode == 0, run.output[-3000:]
    assert counts["failed"] == counts["error"] == counts["skipped"] == 0
    assert counts["passed"] > 50
