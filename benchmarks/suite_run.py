"""Suite figures for the README: wall time in-process and over loopback, requests sent, repeatability.

    python benchmarks/suite_run.py [--repeats 20]

1. The full suite (CI Hypothesis profile) against the in-process sandbox: wall time per run, over
   `--repeats` runs, and whether every run gave identical verdicts for every case.
2. The live path: `conformance sandbox serve` on 127.0.0.1 (real clock) and the suite with
   `--target live`: wall time and the number of requests sent (what a live run spends of its budget).
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

from conformance.cli import suite_command

RUN_TIMEOUT_SECONDS = 600
TOKEN_VARIABLE = "LA_SANDBOX_CONTROL_TOKEN"
PROFILE = Path(__file__).resolve().parents[1] / "contracts" / "targets" / "sandbox.toml"


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


def in_process(repeats: int) -> None:
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
            elapsed, results = run_suite(
                Path(tmp),
                "--target",
                "live",
                "--base-url",
                url.group(1),
                "--target-profile",
                str(profile),
                env=env,
            )
        journal = httpx.get(
            f"{url.group(1)}/_sandbox/journal", headers={"X-Sandbox-Control": env[TOKEN_VARIABLE]}
        )
        seen = Counter(entry["endpoint"] for entry in journal.json()["entries"])
        print(
            f"live path against a served sandbox (real clock): wall time {elapsed:.2f} s; the sandbox saw "
            f"{sum(seen.values())} requests {dict(seen)}; {results['counts']}"
        )
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    in_process(args.repeats)
    live()


if __name__ == "__main__":
    main()
