"""A hostile command is bounded and contained: floods of output and log are capped (memory and bundle
stay small, the bundle says what was cut), what it forks is gone when certify ends, and a log path
that is no regular file is refused with one message instead of blocking."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.certify import certify_command, certify_in_process
from conformance.certify.capped import (
    LOG_HEAD,
    LOG_HEAD_LINES,
    LOG_TAIL,
    LOG_TAIL_LINES,
    STREAM_HEAD,
    STREAM_TAIL,
    HeadTail,
    read_log,
)
from conformance.certify.harness import log_lines
from conformance.cli import main
from conformance.client.settings import FlowSettings
from conformance.core.errors import UsageError

PYTHON = shlex.quote(sys.executable)
CLIENTS = Path(__file__).parent / "clients"
REFERENCE = f"{PYTHON} -m conformance.client"
FORKING = f"{PYTHON} {shlex.quote(str(CLIENTS / 'forking.py'))}"
SCENARIO = "update-400"
MB = 1024 * 1024


@dataclass(frozen=True)
class Finished:
    status: int
    peak_rss: int  # bytes: the largest resident set of certify or any process it waited for
    out: str
    err: str


def certify(args: Sequence[str], tmp_path: Path) -> Finished:
    """`conformance certify ARGS` in a child process; its exit status and its peak memory (wait4)."""
    out, err = tmp_path / "certify.out", tmp_path / "certify.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "conformance.cli", "certify", *args], stdout=stdout, stderr=stderr
        )
        _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)  # already reaped: Popen must not wait again
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return Finished(process.returncode, usage.ru_maxrss * scale, out.read_text(), err.read_text())


def certify_bounded(command: str, tmp_path: Path) -> dict[str, Any]:
    """certify `command` on one scenario into a bundle: peak memory < 400 MB, bundle < 20 MB; its evidence."""
    bundle = tmp_path / "bundle"
    done = certify(["--command", command, "--scenario", SCENARIO, "--output", str(bundle)], tmp_path)
    assert bundle.is_dir(), done.err
    assert done.peak_rss < 400 * MB
    assert size_of(bundle) < 20 * MB
    return evidence(bundle)


def size_of(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def evidence(bundle: Path) -> dict[str, Any]:
    data = json.loads((bundle / "evidence" / f"{SCENARIO}.json").read_text())
    assert isinstance(data, dict)
    return data


# -- floods ------------------------------------------------------------------------------------


def test_200_mb_on_stdout_keeps_certify_under_400_mb_and_the_bundle_under_20_mb(tmp_path: Path) -> None:
    """A client that writes 200 MB to stdout and 20 MB to stderr: head and tail kept, the cut said."""
    flood = (
        f"{PYTHON} -c \"import sys; line = b'x' * {MB - 1} + b'\\n'\n"
        "for _ in range(200): sys.stdout.buffer.write(line)\n"
        'for _ in range(20): sys.stderr.buffer.write(line)"'
    )
    run = certify_bounded(f"{flood}; {REFERENCE}", tmp_path)
    output = run["output"]
    assert output["stdout"]["bytes"] == 200 * MB
    assert output["stdout"]["truncated"] is True
    assert output["stdout"]["skipped_bytes"] == 200 * MB - STREAM_HEAD - STREAM_TAIL
    assert f"{200 * MB - STREAM_HEAD - STREAM_TAIL} bytes of stdout skipped" in output["stdout"]["text"]
    assert output["stderr"]["bytes"] >= 20 * MB  # and the client's own last words
    assert output["stderr"]["truncated"] is True


def test_a_330_mb_log_is_cut_to_its_head_and_tail_and_its_lines_keep_their_numbers(tmp_path: Path) -> None:
    """The reference flow's log followed by 330 MB of noise: the flow's lines are judged, the cut said."""
    noise = f"yes 'debug: nothing to see' | head -c {330 * MB} >> \"$LA_LOG_FILE\""
    run = certify_bounded(f"{REFERENCE}; {noise}", tmp_path)
    log = run["output"]["log"]
    assert log["truncated"] is True
    assert log["bytes"] > 330 * MB
    assert 0 < log["bytes"] - log["skipped_bytes"] <= LOG_HEAD + LOG_TAIL  # what was kept
    assert len(run["log"]) <= LOG_HEAD_LINES + LOG_TAIL_LINES
    assert "text" not in log  # the kept lines are the run's "log"; not twice
    lines = run["log"]
    assert lines[0]["endpoint"] == "register"  # the flow's own lines, at the head, were kept
    assert lines[-1] == {"unparsed": "debug: nothing to see"}


BIG_BODY = (
    f'{PYTHON} -c "import os, http.client, urllib.parse as p\n'
    "url = p.urlsplit(os.environ['LA_BASE_URL'])\n"
    "c = http.client.HTTPConnection(url.hostname, url.port)\n"
    "size = 300 * 1024 * 1024\n"
    "c.putrequest('POST', '/api/v1/live-activity/register')\n"
    "c.putheader('Content-Length', str(size)); c.putheader('Content-Type', 'application/json')\n"
    "c.putheader('X-Api-Key', os.environ['LA_API_KEY'])\n"
    "c.endheaders()\n"
    "block = b' ' * (1024 * 1024)\n"
    "for _ in range(300): c.send(block)\n"
    'print(c.getresponse().status)"'
)


def test_a_300_mb_request_body_is_not_held_by_the_harness(tmp_path: Path) -> None:
    """The scripted sandbox keeps only what it needs to refuse a body as too large (unbounded: 959 MB)."""
    run = certify_bounded(f"{BIG_BODY}; {REFERENCE}", tmp_path)
    first = run["attempts"][0]
    assert (first["endpoint"], first["status"]) == ("register", 400)  # journaled, refused


def test_kept_lines_of_a_cut_log_are_whole_and_numbered_as_written() -> None:
    """Only whole lines survive the cut, and the tail's lines keep their numbers in the file."""
    kept = HeadTail("log", 10, 16)
    lines = [f'{{"n": {i}}}\n'.encode() for i in range(1, 101)]
    for line in lines:
        kept.feed(line)
    parsed = log_lines(kept.captured())
    assert [(line.number, line.data) for line in parsed] == [(1, {"n": 1}), (100, {"n": 100})]


def test_a_log_of_many_short_lines_keeps_a_bounded_number_of_them(tmp_path: Path) -> None:
    """Lines are capped, not only bytes (judging pairs each line with each attempt): head and tail kept."""
    log = tmp_path / "client.log"
    log.write_text("".join(f'{{"n": {i}}}\n' for i in range(1, 50_001)))
    lines = log_lines(read_log(log, SCENARIO))
    assert len(lines) == LOG_HEAD_LINES + LOG_TAIL_LINES
    around_the_cut = [line.number for line in lines[LOG_HEAD_LINES - 1 : LOG_HEAD_LINES + 1]]
    assert around_the_cut == [LOG_HEAD_LINES, 50_000 - LOG_TAIL_LINES + 1]
    assert all(line.data == {"n": line.number} for line in lines)


# -- processes left behind ------------------------------------------------------------------------


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="the sweep of setsid children needs /proc (Linux)")
def test_forked_and_setsid_children_are_gone_when_certify_exits(tmp_path: Path) -> None:
    """A child that sleeps, and two setsid grandchildren that sleep (one with an empty environment),
    are all killed by the end of certify."""
    pidfile = tmp_path / "pids"
    command = f"{FORKING} {shlex.quote(str(pidfile))}"
    done = certify(["--command", command, "--scenario", SCENARIO], tmp_path)
    assert "FAIL" not in done.out, done.out + done.err
    pids = [int(line) for line in pidfile.read_text().split()]
    assert len(pids) == 3
    leftovers = [pid for pid in pids if alive(pid)]
    for pid in leftovers:  # never leave them running, even when the test fails
        os.kill(pid, 9)
    assert leftovers == []


def zombie_children() -> set[int]:
    """Children of this process that ended and were never reaped."""
    me, found = os.getpid(), set()
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] == "Z" and int(fields[1]) == me:
            found.add(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="the subreaper is Linux's")
def test_what_certify_adopted_is_killed_and_reaped_in_its_own_process(tmp_path: Path) -> None:
    """certify_command in this process: the orphans it adopted meanwhile are neither alive nor zombies."""
    pidfile = tmp_path / "pids"
    before = zombie_children()
    certify_command(f"{FORKING} {shlex.quote(str(pidfile))}", [SCENARIO], quiet_seconds=0.2)
    leftovers = [pid for pid in map(int, pidfile.read_text().split()) if alive(pid)]
    for pid in leftovers:
        os.kill(pid, 9)
    assert leftovers == []
    assert zombie_children() - before == set()


# -- the log path -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        ('mkfifo "$LA_LOG_FILE"', "a FIFO (named pipe)"),
        ('mkdir "$LA_LOG_FILE"', "a directory"),
        ('ln -s /dev/null "$LA_LOG_FILE"', "a character device"),
        ('mkfifo "$LA_LOG_FILE.fifo" && ln -s "$LA_LOG_FILE.fifo" "$LA_LOG_FILE"', "a FIFO (named pipe)"),
    ],
    ids=["fifo", "directory", "symlink-to-device", "symlink-to-fifo"],
)
def test_a_log_path_that_is_no_regular_file_is_refused_with_one_message(
    make: str, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused before it is opened, so a FIFO with no writer cannot block certify."""
    assert main(["certify", "--command", make, "--scenario", SCENARIO]) == 2
    err = capsys.readouterr().err
    assert f"is {kind}, not a regular file" in err
    assert "the client's log (LA_LOG_FILE) in scenario update-400" in err
    assert "fix: write the log as a plain file" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 2  # the message and its fix


def test_a_fifo_at_the_log_path_in_process_is_refused() -> None:
    """The in-process harness reads the log the same way: a FIFO is refused, not opened."""

    def fifo_instead_of_log(settings: FlowSettings) -> None:
        os.mkfifo(settings.log_file)

    with pytest.raises(UsageError, match=r"is a FIFO \(named pipe\), not a regular file"):
        certify_in_process(fifo_instead_of_log, [SCENARIO])


def test_the_peak_memory_measure_sees_a_large_child() -> None:
    """The wait4 measure the flood tests rely on is not blind: a child that holds 100 MB reports it."""
    hold = "b = bytearray(100 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"  # every page touched
    process = subprocess.Popen([sys.executable, "-c", hold])
    _pid, _status, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    assert usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024) > 100 * MB
