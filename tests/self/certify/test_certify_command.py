"""`conformance certify` over HTTP: exit statuses, the one message of each bad input; Ctrl-C ends cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance.certify import certify_command
from conformance.certify.harness import substitute
from conformance.cli import main

PYTHON = sys.executable
# A client that sends /register twice whatever it gets: it retries a 401 (and keeps no log).
RETRIES_EVERYTHING = (
    f'{PYTHON} -c "import os, urllib.request as u\n'
    "for _ in range(2):\n"
    "  r = u.Request(os.environ['LA_BASE_URL'] + '/api/v1/live-activity/register', b'{}', "
    "{'X-Api-Key': os.environ['LA_API_KEY'], 'Content-Type': 'application/json'})\n"
    "  try: u.urlopen(r)\n"
    '  except Exception: pass"'
)


def test_placeholders_are_replaced_shell_quoted() -> None:
    values = {
        "base_url": "http://127.0.0.1:1",
        "api_key": "k'ey",
        "insider_ids": "a,b",
        "activity_type": "T",
        "log_file": "logs/a b",
    }
    assert substitute("run {base_url} {api_key} {log_file} {other}", values) == (
        "run http://127.0.0.1:1 'k'\"'\"'ey' 'logs/a b' {other}"
    )


def test_a_command_that_is_not_found_ends_with_one_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["certify", "--command", "no-such-client-xyz", "--scenario", "update-400"]) == 2
    err = capsys.readouterr().err
    assert "the command was not found: 'no-such-client-xyz'" in err
    assert "fix:" in err
    assert "Traceback" not in err


def test_a_flow_that_never_reaches_the_sandbox_ends_with_one_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        main(["certify", "--command", "echo hello", "--scenario", "update-400", "--scenario", "register-401"])
        == 2
    )
    err = capsys.readouterr().err
    assert "the flow never reached the sandbox (exited 0, no request)" in err
    assert "its output ended with: hello" in err


def test_an_unknown_scenario_ends_before_any_sandbox_starts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["certify", "--command", "true", "--scenario", "nope"]) == 2
    assert "no scenario is named 'nope'" in capsys.readouterr().err


def test_malformed_options_end_with_one_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["certify", "--scenario", "update-400"]) == 2
    assert "no command given" in capsys.readouterr().err
    assert main(["certify", "--command", "true", "--parallel", "0"]) == 2
    assert "--parallel" in capsys.readouterr().err


def test_a_one_scenario_run_shows_the_failure_and_exits_3_as_incomplete(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--scenario: the broken rule is shown, but the run is incomplete (exit 3), never a certificate."""
    status = main(
        [
            "certify",
            "--command",
            RETRIES_EVERYTHING,
            "--scenario",
            "register-401",
            "--output",
            str(tmp_path / "b"),
        ]
    )
    out = capsys.readouterr().out
    assert status == 3
    assert "FAIL no-retry-auth" in out
    assert "INCOMPLETE: this run is not a certificate" in out
    assert "register-401: after 401 HTTP_401 on /register, sent again 1 time(s); at most 0 allowed" in out
    assert "sbx-key" not in out  # the key the command was given is never printed
    assert main(["certify", "verify", str(tmp_path / "b")]) == 0
    assert "verdict: incomplete" in capsys.readouterr().out


def test_the_reference_client_passes_over_http_in_parallel() -> None:
    """Two scenarios, each its own sandbox on loopback at once: every exercised rule passes."""
    result = certify_command(
        f"{PYTHON} -m conformance.client", ["update-400", "update-502"], quiet_seconds=0.2
    )
    assert not result.failed_rules(), result.failed_rules()
    assert result.exit_status == 3  # two scenarios of the plan: incomplete
    assert {"no-retry-validation", "retry-upstream-idempotent", "log-timestamp-retry"} <= set(
        result.passed_rules()
    )


def test_ctrl_c_stops_every_command_and_ends_without_a_traceback(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    command = f"echo $$ > {marker}.pid; mv {marker}.pid {marker}; exec sleep 60"
    process = subprocess.Popen(
        [PYTHON, "-m", "conformance.cli", "certify", "--command", command, "--scenario", "update-400"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGINT)
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "interrupted: every running command was stopped" in err
    assert "Traceback" not in err
    with pytest.raises(ProcessLookupError):  # the command (now `sleep`) was stopped, not left running
        os.kill(int(marker.read_text()), 0)
