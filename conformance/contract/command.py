"""`conformance contracts build` and `conformance contracts lint`: make and check the contract files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.core.subcommand import Command


def _build_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when errors.yaml is stale instead of writing it"
    )


def _build(args: argparse.Namespace, contracts: Path) -> int:
    """Write errors.yaml from error-table.md; with --check, exit 1 when it is stale instead."""
    from conformance.contract.build import ERRORS_FILE, is_stale, render_errors_yaml, write_atomically

    if args.check:
        if is_stale(contracts):
            print(f"{contracts / ERRORS_FILE} is stale: run `conformance contracts build`", file=sys.stderr)
            return 1
        print(f"{contracts / ERRORS_FILE} is up to date")
        return 0
    write_atomically(contracts / ERRORS_FILE, render_errors_yaml(contracts))
    print(f"wrote {contracts / ERRORS_FILE}")
    return 0


def _lint(_args: argparse.Namespace, contracts: Path) -> int:
    from conformance.contract.lint import lint_main

    return lint_main(contracts)


CONTRACTS = Command(
    "contracts",
    "build and check the contract files",
    actions=(
        Command(
            "build", "regenerate errors.yaml from error-table.md", run=_build, arguments=_build_arguments
        ),
        Command("lint", "cross-check the contract files and print the coverage matrix", run=_lint),
    ),
)
