"""`conformance verdict RESULTS`: the colour of a nightly job (see `earned.py`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from conformance.core.subcommand import Command


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", type=Path, help="tonight's results JSON")
    parser.add_argument("--baseline", type=Path, default=None, help="the accepted baseline's results JSON")
    parser.add_argument(
        "--github", action="store_true", help="print each reason as a GitHub Actions error annotation"
    )


def _run(args: argparse.Namespace, _contracts: Path) -> int:
    from conformance.judging.earned import verdict_main

    return verdict_main(args.results, args.baseline, github=args.github)


VERDICT = Command(
    "verdict",
    "the colour of a nightly job: is tonight's run red against the accepted baseline",
    description="Exit status 1 (one line per reason) when the run verified nothing or errors "
    "outnumber its verdicts, when any case ended in error, and, against BASELINE, when a documented "
    "case fails that the baseline did not have failing or fewer documented cases were judged; "
    "without a baseline, when any documented case failed. 0 otherwise; 2 on a malformed file.",
    run=_run,
    arguments=_arguments,
)
