"""In-process certification of the reference client (`conformance.client.run_flow`): wall time against the
virtual time its backoff spans.

Measured per scenario (median of --repeat runs): the wall time of playing it, and the virtual seconds
between the first and the last attempt. The headline is `register-503-always`, where the client's
whole backoff schedule runs until its budget is spent (full jitter, 1-2-4-8-... s ceilings, about a
minute of virtual time at most), and `register-429` (five 429s, then an answer). Then the whole
certification (every scenario of both profiles, judged) once per repeat.
Run: `python benchmarks/certify_inprocess.py [--repeat 5]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from conformance.certify import certify_in_process, load_policy  # noqa: E402 - the checkout, not an installed copy
from conformance.client import run_flow  # noqa: E402 - after the path is set, as the line above

HEADLINE = ("register-503-always", "register-429", "update-token-not-synced")
PROFILES = ["segments"]  # segments includes core: the whole plan


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    policy = load_policy()
    print(f"machine: {os.cpu_count()} CPUs, {_cpu()}, Python {platform.python_version()}")
    for name in HEADLINE:
        walls, spans, attempts = [], [], []
        for _ in range(args.repeat):
            result = certify_in_process(run_flow, [name], policy=policy, profiles=PROFILES)
            run = result.runs[0]
            walls.append(run.wall_seconds)
            spans.append(run.seconds(run.attempts[-1].received) - run.seconds(run.attempts[0].received))
            attempts.append(len(run.attempts))
            assert not result.failed_rules(), result.failed_rules()  # one scenario: incomplete, never exit 0
        print(
            f"{name:<26} wall median {statistics.median(walls) * 1000:7.1f} ms "
            f"(max {max(walls) * 1000:.1f}); "
            f"virtual span median {statistics.median(spans):5.1f} s; attempts {min(attempts)}-{max(attempts)}"
        )
    totals = []
    for _ in range(args.repeat):
        begin = time.perf_counter()
        result = certify_in_process(run_flow, policy=policy, profiles=PROFILES)
        totals.append(time.perf_counter() - begin)
        assert result.exit_status == 0, result.decision
    print(
        f"whole certification ({len(policy.plan(PROFILES))} scenarios, judged, {result.decision.verdict}): "
        f"median {statistics.median(totals):.2f} s, max {max(totals):.2f} s"
    )


if __name__ == "__main__":
    main()
