"""Suite figures for the README: wall time in-process and over loopback, requests sent, repeatability.

    python benchmarks/suite_run.py [--repeats 20]

1. The full suite (CI Hypothesis profile) against the in-process sandbox: wall time per run, over
   `--repeats` runs, and whether every run gave identical verdicts for every case.
2. The live path: `conformance sandbox serve` on 127.0.0.1 (real clock) and the suite with
   `--target live`: wall time and the number of requests sent (what a live run spends of its budget);
   then the same recorded into cassettes (pseudonymised) and replayed: whether every case's outcome
   is the recorded one.
3. The replay of the checked-in cassettes: wall time per run, interactions replayed, and whether
   its verdicts are those of the in-process run (they were recorded from it).
Bounded: each run has a timeout, the served sandbox is stopped with SIGINT at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from conformance.cassettes.pseudonyms import PSEUDONYM_KEY_VARIABLE
from conformance.plugin.command import suite_command

RUN_TIMEOUT_SECONDS = 600
TOKEN_VARIABLE = "LA_SANDBOX_CONTROL_TOKEN"
CHECKOUT = Path(__file__).resolve().parents[1]
PROFILE = CHECKOUT / "contracts" / "targets" / "sandbox.toml"
CASSETTES = CHECKOUT / "cassettes"


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def run_suite(workdir: Path, *args: str, env: dict[str, str] | None = None) -> tuple[float, dict[str, Any]]:
    results = workdir / "results.json"
    command = suite_command("-q", "--results", str(results), *args)
    started = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=workdir,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"the suite failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed, json.loads(results.read_text(encoding="utf-8"))


def verdicts(results: dict[str, Any]) -> dict[tuple[str, str, int], str]:
    seen: Counter[tuple[str, str]] = Counter()
    keyed = {}
    for case in results["cases"]:
        key = (case["test"], case["case"])
        seen[key] += 1
        keyed[(*key, seen[key])] = case["verdict"]
    return keyed


def outcomes(results: dict[str, Any]) -> list[str]:
    """Every case with its verdict, rows, observed answer and reason, in order."""
    fields = ("test", "case", "endpoint", "verdict", "rows", "observed", "reason")
    return [json.dumps([case.get(f) for f in fields], sort_keys=True) for case in results["cases"]]


def in_process(repeats: int) -> dict[str, Any]:
    times, first, identical = [], None, True
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            elapsed, results = run_suite(Path(tmp))
        times.append(elapsed)
        current = verdicts(results)
        first = first or current
        identical &= current == first
    counts = results["counts"]
    print(
        f"in-process sandbox, CI profile: {repeats} runs, wall time median {statistics.median(times):.2f} s "
        f"(min {min(times):.2f}, max {max(times):.2f}); {len(results['cases'])} cases per run {counts}; "
        f"verdicts identical across runs: {identical}"
    )
    return results


def replay(repeats: int, recorded: dict[str, Any]) -> None:
    paths = sorted(CASSETTES.rglob("*.yaml"))
    interactions = sum(p.read_text(encoding="utf-8").count("\n- request:") for p in paths)
    size = sum(p.stat().st_size for p in paths) / 2**20
    times, identical = [], True
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            elapsed, results = run_suite(Path(tmp), "--target", "cassettes", "--cassette-dir", str(CASSETTES))
        times.append(elapsed)
        identical &= verdicts(results) == verdicts(recorded)
    print(
        f"replay of the checked-in cassettes: {repeats} runs, wall time median "
        f"{statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f}); {interactions} "
        f"interactions in {len(paths)} cassettes ({size:.1f} MB); verdicts those of the in-process run: "
        f"{identical}"
    )


def live() -> None:
    env = {TOKEN_VARIABLE: "benchmark-control-token"}
    server = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "sandbox", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **env},
    )
    try:
        assert server.stdout is not None
        url = re.search(r"on (http://\S+)", server.stdout.readline())
        if url is None:
            sys.exit("the sandbox did not start")
        with tempfile.TemporaryDirectory() as tmp:
            profile = Path(tmp) / "served.toml"
            text = PROFILE.read_text(encoding="utf-8")
            profile.write_text(
                re.sub(r'(?m)^base_url = ".*"$', f'base_url = "{url.group(1)}"', text), encoding="utf-8"
            )
            live_target = ("--target", "live", "--base-url", url.group(1), "--target-profile", str(profile))
            elapsed, results = run_suite(Path(tmp), *live_target, env=env)
            journal = httpx.get(
                f"{url.group(1)}/_sandbox/journal", headers={"X-Sandbox-Control": env[TOKEN_VARIABLE]}
            )
            seen = Counter(entry["endpoint"] for entry in journal.json()["entries"])
            print(
                f"live path against a served sandbox (real clock): wall time {elapsed:.2f} s; the sandbox "
                f"saw {sum(seen.values())} requests {dict(seen)}; {results['counts']}"
            )
            cassettes = Path(tmp) / "cassettes"
            keyed = {**env, PSEUDONYM_KEY_VARIABLE: "benchmark-pseudonym-key"}
            recording = ("--record-mode=rewrite", "--cassette-dir", str(cassettes))
            recorded_in, recorded = run_suite(Path(tmp), *live_target, *recording, env=keyed)
            replayed_in, replayed = run_suite(
                Path(tmp),
                "--target",
                "cassettes",
                "--target-profile",
                str(profile),
                "--cassette-dir",
                str(cassettes),
                env=keyed,
            )
            same = outcomes(replayed) == outcomes(recorded)
            print(
                f"live recording (pseudonymised): {recorded_in:.2f} s, {len(recorded['cases'])} cases; its "
                f"replay: {replayed_in:.2f} s, every case's outcome the recorded one: {same}"
            )
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    recorded = in_process(args.repeats)
    replay(max(1, args.repeats // 4), recorded)
    live()


if __name__ == "__main__":
    main()
