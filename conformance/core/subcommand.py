"""What a `conformance` subcommand is: a value an area's `command.py` defines and the CLI's table lists.

A command says its name, its help, how to add its arguments and how to run (-> exit status); the
CLI builds its parser from the table and runs the command the arguments chose. A command imports
the work it runs when it runs, so that building the parser (for any command) stays cheap.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BAD_INPUT = 2  # the exit status of every command given input it cannot work with
INTERRUPTED = 130  # what a shell reports for a command that SIGINT ended (128 + 2)

# (the parsed arguments, the contracts directory: --contracts or the bundled one) -> exit status.
# Bad input raises a ConformanceError, which the CLI prints as one message (exit BAD_INPUT).
Run = Callable[[argparse.Namespace, Path], int]


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    """A command that takes no arguments of its own."""


@dataclass(frozen=True)
class Command:
    """`conformance NAME`. `actions` are its own commands (`contracts build`), one of which must be
    chosen when it has no `run` of its own; a chosen action runs instead of it. A command that
    `takes_unknown_arguments` gets those the parser does not know as `args.unknown_arguments` (`run`
    passes them to pytest); any other refuses them."""

    name: str
    help: str
    run: Run | None = None
    arguments: Callable[[argparse.ArgumentParser], None] = _no_arguments
    description: str | None = None
    actions: tuple[Command, ...] = ()
    takes_unknown_arguments: bool = False

    def add_to(self, commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        """Add this command, and its actions, to a parser's subcommands; the one chosen is `args.chosen`."""
        parser = commands.add_parser(self.name, help=self.help, description=self.description)
        self.arguments(parser)
        if self.run is not None:
            parser.set_defaults(chosen=self)  # an action's parser sets it after this one: the action wins
        if self.actions:
            actions = parser.add_subparsers(dest="action", required=self.run is None, metavar="ACTION")
            for action in self.actions:
                action.add_to(actions)
