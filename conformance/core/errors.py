"""User-facing errors: every one names the file, the place in it, what is wrong and how to fix it.

The CLI and the pytest plugin print these as one message and exit; nothing else in the package
raises an error meant for a person, so a traceback always means a bug in this package.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CassetteError",
    "ConformanceError",
    "ContractError",
    "ProfileError",
    "ResultsError",
    "UsageError",
]


@dataclass(frozen=True)
class Place:
    """Where in a file the problem sits: a line number, a key path such as `rows[3].code`, or both."""

    path: str = ""
    line: int | None = None

    def __str__(self) -> str:
        parts = []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.path:
            parts.append(self.path)
        return ", ".join(parts) or "(whole file)"


class ConformanceError(Exception):
    """An input a person gave us is wrong; the message says where and how to fix it."""

    kind = "input"

    def __init__(self, file: str | Path, place: Place | str, problem: str, fix: str) -> None:
        self.file = str(file)
        self.place = place if isinstance(place, Place) else Place(path=place)
        self.problem = problem
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.kind} error in {self.file} at {self.place}: {self.problem}\n  fix: {self.fix}"


class ContractError(ConformanceError):
    """A file under contracts/ is malformed or contradicts another one."""

    kind = "contract"


class ProfileError(ConformanceError):
    """A target profile (TOML) is malformed or names something that is not there."""

    kind = "target profile"


class ResultsError(ConformanceError):
    """A results file given to a report command is malformed."""

    kind = "results"


class CassetteError(ConformanceError):
    """A cassette is unreadable, of an older format, or lacks a recorded interaction."""

    kind = "cassette"


class TargetError(ConformanceError):
    """The target cannot be reached, or answers in a way no run could work with."""

    kind = "target"


class UsageError(ConformanceError):
    """The command line is wrong."""

    kind = "usage"
