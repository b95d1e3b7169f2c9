"""Sync waits overlapped: a live run at a 5 s token-sync bound against the same run at 0.3 s.

    python benchmarks/sync_pool.py [--together] [--serial] [--keep DIR] [--workers N]

For each bound, `conformance sandbox serve --sync-delay BOUND` on 127.0.0.1 (real clock) and the suite
with `--target live` and a profile declaring the same bound; the sandbox's journal counts the requests
it saw. Runs, one after another in this process:
  1. 0.3 s, with the sync pool (the default, `--sync-pool` said explicitly);
  2. 5 s, with the sync pool;
  3. 0.3 s, without it (`--no-sync-pool`): per-test arrangement, the request baseline;
  4. with --serial, 5 s without it too (what a run cost before the pool: several minutes).
With --together, runs 1 and 2 run at the same time (on a machine whose load changes, one after the
other would compare two different machines). Reports wall times, the 5 s / 0.3 s ratio, request
counts against the baseline, and whether `conformance drift` finds any verdict change between the
runs. Each run is bounded by a timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
from suite_run import machine  # the same machine line as the suite benchmark

from conformance.plugin.command import suite_command

RUN_TIMEOUT_SECONDS = 900
PAIR = (("short", 0.3), ("long", 5))
POOL = "--sync-pool"  # the default, said explicitly
NO_POOL = "--no-sync-pool"
TOKEN_VARIABLE = "LA_SANDBOX_CONTROL_TOKEN"
TOKEN = "benchmark-control-token"
PROFILE = Path(__file__).resolve().parents[1] / "contracts" / "targets" / "sandbox.toml"


@contextmanager
def served(bound: float) -> Iterator[str]:
    """A served sandbox whose tokens sync after `bound` seconds: its URL; stopped with SIGINT."""
    serve = ("-m", "conformance.cli", "sandbox", "serve", "--port", "0", "--sync-delay", str(bound))
    server = subprocess.Popen(
        [sys.executable, *serve],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, TOKEN_VARIABLE: TOKEN},
    )
    try:
        assert server.stdout is not None
        url = re.search(r"on (http://\S+)", server.stdout.readline())
        if url is None:
            sys.exit("the sandbox did not start")
        yield url.group(1)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)


def live_run(workdir: Path, bound: float, *options: str) -> tuple[float, int, Path]:
    """One live run at `bound`: (wall seconds, requests the sandbox saw, results file). Under `-n N` the
    profile names no control API (workers would see each other's faults: the suite refuses), while the
    sandbox still serves its journal, which counts the requests."""
    workdir.mkdir(parents=True)
    with served(bound) as url:
        profile = workdir / "served.toml"
        text = re.sub(r'(?m)^base_url = ".*"$', f'base_url = "{url}"', PROFILE.read_text(encoding="utf-8"))
        text = re.sub(r"(?m)^sync_delay_seconds = .*$", f"sync_delay_seconds = {bound}", text)
        if "-n" in options:
            text = re.sub(r"(?m)^(control|faults) = .*$", "", text)
        profile.write_text(text, encoding="utf-8")
        results = workdir / "results.json"
        live = ("--target", "live", "--base-url", url, "--target-profile", str(profile))
        command = suite_command("-q", "--results", str(results), *live, *options)
        started = time.perf_counter()
        done = subprocess.run(
            command,
            cwd=workdir,
            env={**os.environ, TOKEN_VARIABLE: TOKEN},
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_SECONDS,
            check=False,
        )
        elapsed = time.perf_counter() - started
        journal = httpx.get(f"{url}/_sandbox/journal", headers={"X-Sandbox-Control": TOKEN}, timeout=30)
        requests = len(journal.json()["entries"])
    if not results.exists():
        sys.exit(f"the run at {bound} s wrote no results (exit {done.returncode}):\n{done.stdout[-2000:]}")
    counts = json.loads(results.read_text(encoding="utf-8"))["counts"]
    mode = " ".join(options) or "(without the pool)"
    print(f"  sync bound {bound} s {mode}: {elapsed:.1f} s, {requests} requests, {counts}")
    return elapsed, requests, results


def drift(before: Path, after: Path) -> str:
    """What `conformance drift` finds between two results files: its change rows that are not 0 (none:
    "no change") and the cases only one run has."""
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "drift", str(before), str(after)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    rows = [line.strip("| ").split(" | ") for line in done.stdout.splitlines() if line.startswith("| ")]
    only = next((f"{r[1]} / {r[2]}" for r in rows if r[0] == "cases only in this run"), "?")
    changed = [f"{r[0]}: {r[1]}" for r in rows if len(r) == 2 and r[1].isdigit() and r[1] != "0"]
    found = ", ".join(changed) or "no change"
    return f"exit {done.returncode}; {found}; cases only in one run: {only}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serial", action="store_true", help="also run 5 s without the pool (minutes)")
    parser.add_argument("--keep", type=Path, help="keep each run's profile and results in this new folder")
    parser.add_argument(
        "--together",
        action="store_true",
        help="run the pooled 0.3 s and 5 s runs at the same time, so that a machine whose load changes "
        "slows both alike (each has its own sandbox)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="run each suite on this many pytest-xdist workers (-n N)"
    )
    args = parser.parse_args()
    parallel = ("-n", str(args.workers)) if args.workers > 1 else ()
    print(machine())
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or scratch
        if args.together:
            with ThreadPoolExecutor(2) as runs:
                pooled = (POOL, *parallel)
                both = [runs.submit(live_run, Path(tmp) / name, bound, *pooled) for name, bound in PAIR]
                (short, short_requests, short_results), (long, long_requests, long_results) = (
                    run.result() for run in both
                )
        else:
            short, short_requests, short_results = live_run(Path(tmp) / "short", 0.3, POOL, *parallel)
            long, long_requests, long_results = live_run(Path(tmp) / "long", 5, POOL, *parallel)
        _, base_requests, base_results = live_run(Path(tmp) / "base", 0.3, NO_POOL, *parallel)
        print(f"5 s / 0.3 s with the pool: {long / short:.2f}x ({long:.1f} s / {short:.1f} s)")
        for name, requests in (("0.3 s", short_requests), ("5 s", long_requests)):
            growth = 100 * (requests - base_requests) / base_requests
            print(f"requests with the pool at {name}: {requests}, without {base_requests} ({growth:+.1f} %)")
        print(f"drift 0.3 s pool -> 5 s pool: {drift(short_results, long_results)}")
        print(f"drift 0.3 s without -> 0.3 s pool: {drift(base_results, short_results)}")
        if args.serial:
            serial, serial_requests, serial_results = live_run(Path(tmp) / "serial", 5, NO_POOL, *parallel)
            ratio = serial / short
            print(f"5 s without the pool: {serial:.1f} s ({ratio:.2f}x 0.3 s), {serial_requests} requests")
            print(f"drift 5 s without -> 5 s pool: {drift(serial_results, long_results)}")


if __name__ == "__main__":
    main()
