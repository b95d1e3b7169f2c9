"""`conformance drift DIRECTORY` over a long nightly history: wall time and peak memory (max RSS).

    python benchmarks/drift_history.py [--nights 1000] [--work /tmp/drift-bench] [--check-365]

The nights are generated from a real results file of the whole suite against the sandbox (845
cases, 750 kB each; tests/self/report/nightly_history.py: latencies jitter, answers flap, a change
holds, a documented case breaks now and then, a new test appears, tests error, skip or are cut short).
Each measurement is one `conformance drift` process, its peak resident memory from wait4():

1. nightly: a store (--store) holding the nights before the last, and a directory holding only the
   last night: what the nightly workflow does each night (Markdown, then HTML of the same store);
2. cold: the whole directory read without a store (every file parsed, validated and digested once);
3. with --check-365: the JSON findings over 365 generated nights, compared by SHA-256 with what the
   reader before the store printed over the same nights (OLD_READER_365, captured at commit 9611567:
   26.1 s and 612 MB on this machine, loaded).
Bounded: every process has a timeout. The generated files stay in --work for a second look.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(CHECKOUT))

from tests.self.report.nightly_history import write_history  # noqa: E402 - the checkout's generator

TIMEOUT_SECONDS = 600
ENTRY = "import sys; from conformance.cli import main; sys.exit(main(sys.argv[1:]))"
OLD_READER_365 = "6e97190081d7601832448db837dd37634cc1f53a4578a6018d9b20c04fd5efa9"


def machine() -> str:
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    python = f"Python {platform.python_version()}"
    return f"{os.cpu_count()} cores ({platform.machine()}), {python}, load average {load} (other work on it)"


def measured(*args: str | Path, output: Path) -> tuple[float, int, int]:
    """Wall seconds, peak RSS in MB and exit status of one `conformance drift ARGS` process."""
    command = [sys.executable, "-c", ENTRY, "drift", *map(str, args)]
    started = time.perf_counter()
    with output.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, cwd=CHECKOUT)
        try:
            _, status, usage = _wait(process)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    assert process.stderr is not None
    errors = process.stderr.read().decode()
    if code not in (0, 1) or errors:
        raise SystemExit(f"conformance drift exited {code}: {errors}")
    return elapsed, usage.ru_maxrss // 1024, code


def _wait(process: subprocess.Popen[bytes]) -> tuple[int, int, resource.struct_rusage]:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return pid, status, usage
        time.sleep(0.05)
    raise subprocess.TimeoutExpired(process.args, TIMEOUT_SECONDS)


def generated(directory: Path, nights: int) -> list[Path]:
    """The nights in `directory`, generated unless a previous run of this benchmark left them there."""
    existing = sorted(directory.glob("nightly-*.json")) if directory.is_dir() else []
    if len(existing) == nights:
        return existing
    shutil.rmtree(directory, ignore_errors=True)
    started = time.perf_counter()
    paths = write_history(directory, nights)
    size = sum(p.stat().st_size for p in paths) / 1e6
    print(f"generated {nights} nights ({size:.0f} MB) in {time.perf_counter() - started:.0f} s")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nights", type=int, default=1000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "drift-bench")
    parser.add_argument("--check-365", action="store_true", help="compare findings with the earlier reader's")
    args = parser.parse_args()
    print(machine())
    work: Path = args.work
    nights = generated(work / f"nights-{args.nights}", args.nights)

    earlier, tonight = work / "earlier", work / "tonight"
    for directory in (earlier, tonight):
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
    for path in nights[:-1]:
        (earlier / path.name).symlink_to(path)
    (tonight / nights[-1].name).symlink_to(nights[-1])
    store = work / "history.sqlite"
    store.unlink(missing_ok=True)
    seconds, memory, _ = measured(earlier, "--store", store, output=work / "earlier.md")
    size = store.stat().st_size / 1e6
    print(
        f"store built from {len(nights) - 1} nights: {seconds:.1f} s, {memory} MB peak; store {size:.1f} MB"
    )
    for rendering in ("markdown", "html"):
        report = work / f"nightly.{rendering}"
        seconds, memory, status = measured(tonight, "--store", store, "--format", rendering, output=report)
        said = (
            f"{seconds:.1f} s, {memory} MB peak, exit {status}, report {report.stat().st_size / 1e3:.0f} kB"
        )
        print(f"nightly ({rendering}, {len(nights)} runs): {said}")
    seconds, memory, status = measured(nights[0].parent, "--format", "markdown", output=work / "cold.md")
    print(f"cold, no store ({len(nights)} files): {seconds:.1f} s, {memory} MB peak, exit {status}")

    if args.check_365:
        year = generated(work / "nights-365", 365)
        seconds, memory, _ = measured(year[0].parent, "--format", "json", output=work / "year.json")
        same = hashlib.sha256((work / "year.json").read_bytes()).hexdigest() == OLD_READER_365
        print(
            f"365 nights, cold: {seconds:.1f} s, {memory} MB peak; findings as the earlier reader's: {same}"
        )


if __name__ == "__main__":
    main()
