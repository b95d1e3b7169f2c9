"""The `conformance` command: contracts build|lint, sandbox serve, run, drift, report.

Each area defines its own commands (its `command.py`); this module lists them, builds the parser
and runs the one chosen. Every user-facing failure is a `ConformanceError`: printed as one message,
exit status 2. A reader that stops reading (`conformance check | head`) ends the command quietly, as
SIGPIPE ends a Unix tool.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance.certify.command import CERTIFY
from conformance.contract.command import CONTRACTS
from conformance.contract.loader import default_contracts_dir
from conformance.core.errors import ConformanceError
from conformance.core.subcommand import BAD_INPUT, INTERRUPTED, Command
from conformance.judging.command import VERDICT
from conformance.plugin.command import RUN
from conformance.report.command import DRIFT, REPORT
from conformance.sandbox.command import SANDBOX
from conformance.targets.command import CASSETTES, CHECK

# The commands, in the order `conformance --help` lists them. A new one: its area's `command.py`, one entry.
COMMANDS: tuple[Command, ...] = (CONTRACTS, RUN, DRIFT, REPORT, CHECK, VERDICT, CERTIFY, CASSETTES, SANDBOX)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conformance", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--contracts", type=Path, default=None, help="the contracts directory (default: the bundled one)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_to(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, unknown = parser.parse_known_args(argv)
    chosen: Command = args.chosen
    if unknown and not chosen.takes_unknown_arguments:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.unknown_arguments = unknown
    assert chosen.run is not None  # only a command that runs is ever chosen (`Command.add_to`)
    try:
        status = chosen.run(args, args.contracts or default_contracts_dir())
        sys.stdout.flush()  # here, where a reader gone is caught, not in the interpreter's exit
        return status
    except ConformanceError as error:
        print(error, file=sys.stderr)
        return BAD_INPUT
    except BrokenPipeError:
        return _reader_gone()
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return INTERRUPTED


# What a shell reports for a command that SIGPIPE ended (128 + 13).
READER_GONE = 141


def _reader_gone() -> int:
    """Stdout's reader went away (`| head`): stop without a traceback. Point stdout at /dev/null, so
    that the interpreter's flush at exit does not raise BrokenPipeError again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return READER_GONE


if __name__ == "__main__":
    sys.exit(main())
