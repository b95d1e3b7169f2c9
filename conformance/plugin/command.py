"""`conformance run`: the suite in a fresh interpreter, so pytest imports (and assert-rewrites) it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.core.subcommand import BAD_INPUT, Command
from conformance.plugin.options import help_epilog

PYTEST_USAGE_ERROR = 4  # pytest.ExitCode.USAGE_ERROR: how the suite's preflight stops a run

# The suite's own pytest settings (junit_family, filterwarnings), whatever the rootdir would be.
SUITE_CONFIG = Path(__file__).parents[1] / "suite" / "pytest.ini"


def suite_command(*pytest_args: str) -> list[str]:
    """The command that runs the suite in a fresh interpreter, so pytest imports (and assert-rewrites) it,
    with the suite's own settings and rootdir (`SUITE_CONFIG`), wherever it is run from."""
    return [
        sys.executable,
        "-m",
        "pytest",
        "--pyargs",
        "conformance.suite",
        "-c",
        str(SUITE_CONFIG),
        "--rootdir",
        str(SUITE_CONFIG.parent),
        "-p",
        "no:cacheprovider",
        *pytest_args,
    ]


def _arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments of its own (the suite's options are pytest's); its help lists them."""
    parser.usage = "%(prog)s [SUITE OPTIONS] [PYTEST OPTIONS]"
    parser.epilog = help_epilog()
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def _run(args: argparse.Namespace, _contracts: Path) -> int:
    from conformance.plugin.interrupts import run_child

    # --contracts goes to the suite only as given: the suite finds the bundled one itself.
    contracts = ["--contracts", str(args.contracts)] if args.contracts else []
    status = run_child(suite_command(*contracts, *args.unknown_arguments))
    # Ctrl-C and SIGTERM let the suite clean up and write its results. A run that cannot start (its
    # preflight failed) exits as every other command given bad input.
    return BAD_INPUT if status == PYTEST_USAGE_ERROR else status


RUN = Command(
    "run",
    "run the conformance suite (default: the embedded sandbox); other arguments go to pytest",
    description="Runs `pytest --pyargs conformance.suite` with the options below, e.g.\n"
    "  conformance run --target live --base-url URL --target-profile PROFILE.toml\n"
    "Exit status: 0 every test passed or skipped and something documented was verified; 1 a test "
    "failed, or the run verified nothing (no documented case judged, or more errors than verdicts: "
    "the summary and the results file say which); 2 interrupted, or the run could not start (its "
    "preflight failed: one message).",
    run=_run,
    arguments=_arguments,
    takes_unknown_arguments=True,
)
