"""Mutation score of the conformance suite: run it against every sandbox mutant, report what it kills.

Each mutant of tests/self/mutants/sandbox_mutants.py (contract edits, request rewrites, response
corruptions) gets a whole suite run (no -x) in its own interpreter, `--jobs` runs at a time; so do the
reference sandbox and the conforming variations, which must pass. Prints, per mutant, whether the
suite killed it, how many suite tests failed and the first one that did, then the score (killed /
total) and the machine. Exits 1 when an outcome differs from what the table expects (a known gap
closed, a new survivor, a variation failing, an ends_at edge mutant first caught elsewhere than at
the named edge it moved).

    python benchmarks/mutation_score.py [--jobs N] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# The checkout's root, so that the self-tests' helpers import as the package `tests.self`.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.self.mutants.mutant_kinds import Mutant
from tests.self.mutants.mutant_runs import (
    IN_FILE_ORDER,
    REFERENCE,
    failed_tests,
    killed,
    named_edge_of,
    run_mutant,
)
from tests.self.mutants.sandbox_mutants import CONFORMING, MUTANTS, NAMED_EDGE_MOVED

AS_MUTANT = {"failed": "killed", "passed": "survived"}
ERROR_TAIL = 1500


@dataclass(frozen=True)
class Outcome:
    name: str
    verdict: str  # the suite's: failed (on a documented row) | passed | error (a crash, or no row named)
    failed: tuple[str, ...]  # ids of the failed suite tests, in the order they ran
    seconds: float
    tail: str  # the end of the run's output, shown for an error


def measure(name: str, workdir: Path, pycache: Path) -> Outcome:
    """One whole suite run against mutant `name` (or the REFERENCE sandbox); a timeout is an error."""
    run_dir = workdir / name
    run_dir.mkdir()
    start = time.perf_counter()
    try:
        run = run_mutant(run_dir, name, *IN_FILE_ORDER, "-rf", pycache=pycache)
    except subprocess.TimeoutExpired as timeout:
        return Outcome(name, "error", (), time.perf_counter() - start, str(timeout))
    verdict = "failed" if killed(run) else "passed" if run.returncode == 0 else "error"
    seconds = time.perf_counter() - start
    return Outcome(name, verdict, tuple(failed_tests(run)), seconds, run.output[-ERROR_TAIL:])


def measure_all(names: Sequence[str], jobs: int) -> dict[str, Outcome]:
    """Every run, `jobs` at a time; a shared bytecode cache spares each run compiling the package."""
    with tempfile.TemporaryDirectory(prefix="mutation-score-") as directory:
        workdir = Path(directory)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            outcomes = pool.map(lambda name: measure(name, workdir, workdir / "pycache"), names)
            return {outcome.name: outcome for outcome in outcomes}


def expected(mutant: Mutant) -> str:
    """The suite verdict the table expects: a mutant fails it unless a known gap lets it survive."""
    return "passed" if mutant.category == "conforming" or mutant.survives else "failed"


def as_expected(mutant: Mutant, outcome: Outcome) -> bool:
    """The expected verdict; for a mutant moving an ends_at edge, first caught at that named edge."""
    edge = NAMED_EDGE_MOVED.get(mutant.name)
    first = outcome.failed[0] if outcome.failed else ""
    return outcome.verdict == expected(mutant) and (edge is None or named_edge_of(first) == edge)


def print_table(
    title: str, mutants: Sequence[Mutant], outcomes: dict[str, Outcome], *, killing: bool
) -> None:
    """One line per mutant; `killing`: say killed / survived rather than the suite's failed / passed."""
    print(f"\n{title}")
    print(
        f"{'mutant':28} {'family':8} {'category':13} {'result':9} {'failed':>6} {'s':>5}  first failing test"
    )
    for mutant in mutants:
        outcome = outcomes[mutant.name]
        result = AS_MUTANT.get(outcome.verdict, outcome.verdict) if killing else outcome.verdict
        flag = "" if as_expected(mutant, outcome) else "  (!) unexpected"
        first = outcome.failed[0] if outcome.failed else "-"
        print(
            f"{mutant.name:28} {mutant.family:8} {mutant.category:13} {result:9} "
            f"{len(outcome.failed):>6} {outcome.seconds:5.1f}  {first}{flag}"
        )


def cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return platform.processor() or "unknown"
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown")


def print_machine(jobs: int, wall: float) -> None:
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    print(
        f"\nmachine: nproc {os.cpu_count()}, CPU {cpu_model()}, Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()}"
    )
    print(f"run: {jobs} jobs, {wall:.1f} s wall; load average after the run {load}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="suite runs at a time")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these mutants")
    options = parser.parse_args(argv)
    mutants = [m for m in MUTANTS if not options.only or m.name in options.only]
    variations = [v for v in CONFORMING if not options.only or v.name in options.only]
    start = time.perf_counter()
    names = [REFERENCE, *(v.name for v in variations), *(m.name for m in mutants)]
    outcomes = measure_all(names, max(1, options.jobs))
    print_table("mutants (the suite must fail on each)", mutants, outcomes, killing=True)
    print_table("conforming variations (the suite must pass on each)", variations, outcomes, killing=False)
    dead = sum(outcomes[m.name].verdict == "failed" for m in mutants)
    reference = outcomes[REFERENCE]
    print(
        f"\nreference sandbox: suite {reference.verdict} ({len(reference.failed)} failed tests, "
        f"{reference.seconds:.1f} s)"
    )
    print(f"mutation score: {dead}/{len(mutants)} killed = {dead / max(1, len(mutants)):.0%}")
    print_machine(options.jobs, time.perf_counter() - start)
    for outcome in outcomes.values():
        if outcome.verdict == "error":
            print(f"\n{outcome.name} ended in an error:\n{outcome.tail}")
    surprises = [m.name for m in (*mutants, *variations) if not as_expected(m, outcomes[m.name])]
    return 1 if surprises or reference.verdict != "passed" else 0


if __name__ == "__main__":
    sys.exit(main())
