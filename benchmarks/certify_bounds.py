"""certify and `certify verify` against hostile inputs: peak memory, bundle size and wall time.

Each case runs `conformance certify` (or `certify verify`) as a child process and reads its peak
resident set from wait4 (the largest of certify and every process it waited for, the vendor's
command included). Cases:

- `reference`: the reference client, every scenario over HTTP (the baseline);
- `stdout-flood`: every scenario's command writes --flood-mb MB to stdout (default 200), then runs
  the reference client: all scenarios at once, so certify reads them all in parallel;
- `log-flood`: one scenario whose command appends --log-mb MB (default 330) to its log after the flow
  (every scenario with --log-all: what is kept does not depend on the size past the cap);
- `zip-bomb`: `certify verify` on a zip holding 1 GiB of zeros (deflated) beside a genuine bundle.

Run: `python benchmarks/certify_bounds.py [--case NAME ...]`. Write under --tmp (default /tmp).
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from certify_inprocess import _cpu  # the same machine line as the other certify benchmark

ROOT = Path(__file__).resolve().parents[1]
PYTHON = shlex.quote(sys.executable)
REFERENCE = f"{PYTHON} -m conformance.client"
MB = 1024 * 1024
CASES = ("reference", "stdout-flood", "log-flood", "zip-bomb")


def _run(args: list[str], workdir: Path) -> tuple[int, int, float]:
    """(exit status, peak RSS in bytes, wall seconds) of `python -m conformance.cli ARGS`."""
    begin = time.perf_counter()
    with (workdir / "out.txt").open("wb") as out, (workdir / "err.txt").open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "conformance.cli", *args], stdout=out, stderr=err, cwd=ROOT
        )
        _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    scale = 1 if sys.platform == "darwin" else 1024
    return process.returncode, usage.ru_maxrss * scale, time.perf_counter() - begin


def _size(path: Path) -> int:
    return (
        path.stat().st_size
        if path.is_file()
        else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    )


def _certify(name: str, command: str, scenarios: list[str], workdir: Path) -> Path:
    bundle = workdir / "bundle"
    picked = [a for s in scenarios for a in ("--scenario", s)]
    status, peak, wall = _run(
        ["certify", "--command", command, *picked, "--output", str(bundle), "--zip"], workdir
    )
    zipped = bundle.with_suffix(".zip")
    print(
        f"{name:<13} exit {status}; peak RSS {peak / MB:6.1f} MB; bundle {_size(bundle) / MB:5.2f} MB "
        f"(zip {_size(zipped) / MB:5.2f} MB); wall {wall:5.1f} s; scenarios {len(scenarios) or 'all'}"
    )
    return zipped


def _bomb(genuine: Path, workdir: Path) -> None:
    bomb = workdir / "bomb.zip"
    with (
        zipfile.ZipFile(genuine) as original,
        zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
    ):
        for info in original.infolist():
            archive.writestr(info, original.read(info))
        with archive.open("evidence/bomb.json", "w", force_zip64=True) as entry:
            for _ in range(1024):
                entry.write(bytes(MB))
    status, peak, wall = _run(["certify", "verify", str(bomb)], workdir)
    print(
        f"{'zip-bomb':<13} exit {status}; peak RSS {peak / MB:6.1f} MB; zip {_size(bomb) / MB:5.2f} MB "
        f"holding 1024 MiB of zeros; wall {wall:5.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="append", choices=CASES)
    parser.add_argument("--flood-mb", type=int, default=200)
    parser.add_argument("--log-mb", type=int, default=330)
    parser.add_argument("--log-all", action="store_true", help="flood the log in every scenario")
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    cases = args.case or list(CASES)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} CPUs, {_cpu()}, Python {platform.python_version()}, load {load:.1f}")
    workdir = Path(tempfile.mkdtemp(prefix="certify-bounds-", dir=args.tmp))
    try:
        genuine = None
        if "reference" in cases or "zip-bomb" in cases:
            (workdir / "reference").mkdir()
            genuine = _certify("reference", REFERENCE, [], workdir / "reference")
        if "stdout-flood" in cases:
            (workdir / "flood").mkdir()
            flood = f"head -c {args.flood_mb * MB} /dev/zero | tr '\\0' x"
            _certify("stdout-flood", f"{flood}; {REFERENCE}", [], workdir / "flood")
        if "log-flood" in cases:
            (workdir / "log").mkdir()
            noise = f"yes 'debug: nothing to see' | head -c {args.log_mb * MB} >> \"$LA_LOG_FILE\""
            _certify(
                "log-flood", f"{REFERENCE}; {noise}", [] if args.log_all else ["update-400"], workdir / "log"
            )
        if "zip-bomb" in cases and genuine is not None:
            _bomb(genuine, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
