"""Where cassettes live, and the one message a person gets when a replay cannot go on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from vcr.errors import CannotOverwriteExistingCassetteException  # type: ignore[import-untyped]

from conformance.cassettes.vcr import short
from conformance.core.errors import CassetteError, Place


def default_cassette_dir() -> Path:
    """The checkout's `cassettes/` next to `contracts/`, else `./cassettes`."""
    checkout = Path(__file__).resolve().parents[2] / "cassettes"
    return checkout if (checkout.parent / "contracts").is_dir() else Path.cwd() / "cassettes"


def rerecord_command(test_name: str) -> str:
    """The command that records a test's cassettes again (every parameter of the test function)."""
    function = test_name.split("[", 1)[0]
    return f"conformance run --record-mode=rewrite -k {function}"


def unrecorded_message(error: BaseException, test_name: str) -> str | None:
    """One message for a request a cassette does not hold, or None when `error` is something else."""
    found = _find_unrecorded(error)
    if found is None:
        return None
    request = found.failed_request
    body = short(request.body)
    return (
        f"no recorded interaction for this request in {getattr(found.cassette, '_path', 'the cassette')}\n"
        f"  test     {test_name}\n"
        f"  request  {request.method} {request.path} {body}\n"
        f"  fix      record it again (from the sandbox; add --target live ... for a live target): "
        f"{rerecord_command(test_name)}"
    )


def unreadable_message(error: BaseException, path: Path, test_name: str) -> str | None:
    """One message for a cassette VCR.py could not load (broken YAML, an older VCR format)."""
    if not isinstance(error, yaml.YAMLError | ValueError | KeyError | TypeError):
        return None
    mark = getattr(error, "problem_mark", None)
    place = Place(line=mark.line + 1) if mark is not None else Place()
    problem = f"cannot be read as a cassette: {type(error).__name__}: {str(error).splitlines()[0]}"
    return str(CassetteError(path, place, problem, f"record it again: {rerecord_command(test_name)}"))


def _find_unrecorded(error: BaseException | None) -> Any:
    seen: set[int] = set()
    stack = [error]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, CannotOverwriteExistingCassetteException):
            return current
        stack += [current.__cause__, current.__context__, *getattr(current, "exceptions", ())]
    return None
