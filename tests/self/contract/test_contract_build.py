"""`conformance contracts build [--check]`: errors.yaml is regenerated from error-table.md, atomically."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.cli import main
from tests.self.contract.contract_cases import replace_once

MEANING = "| Generic validation error |"
NEW_MEANING = "| Generic validation failure |"


def _files(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*")}


def _edit_table(directory: Path, old: str, new: str) -> None:
    table = directory / "error-table.md"
    table.write_text(replace_once(table.read_text(encoding="utf-8"), old, new)[0], encoding="utf-8")


def test_check_passes_on_the_repository(capsys: pytest.CaptureFixture[str]) -> None:
    """The committed errors.yaml is what the committed error-table.md builds to."""
    assert main(["contracts", "build", "--check"]) == 0
    assert "is up to date" in capsys.readouterr().out


def test_check_fails_on_an_edited_table_until_rebuilt(
    contracts_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After an edit of error-table.md, --check exits 1 and says to rebuild; build fixes it."""
    _edit_table(contracts_copy, MEANING, NEW_MEANING)
    assert main(["--contracts", str(contracts_copy), "contracts", "build", "--check"]) == 1
    err = capsys.readouterr().err
    assert "errors.yaml is stale" in err
    assert "run `conformance contracts build`" in err

    assert main(["--contracts", str(contracts_copy), "contracts", "build"]) == 0
    rebuilt = (contracts_copy / "errors.yaml").read_text(encoding="utf-8")
    assert "meaning: Generic validation failure" in rebuilt
    assert main(["--contracts", str(contracts_copy), "contracts", "build", "--check"]) == 0


def test_build_leaves_no_temporary_file(contracts_copy: Path) -> None:
    """The write goes through a temporary file and a rename: afterwards the directory holds the same files."""
    before = _files(contracts_copy)
    _edit_table(contracts_copy, MEANING, NEW_MEANING)
    assert main(["--contracts", str(contracts_copy), "contracts", "build"]) == 0
    assert _files(contracts_copy) == before


def test_build_of_a_broken_table_writes_nothing(
    contracts_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken table fails the build with one message (exit 2) and errors.yaml stays as it was."""
    errors = (contracts_copy / "errors.yaml").read_text(encoding="utf-8")
    before = _files(contracts_copy)
    _edit_table(contracts_copy, "404 | NOT_FOUND |", "4O4 | NOT_FOUND |")
    assert main(["--contracts", str(contracts_copy), "contracts", "build"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("contract error in error-table.md at line ")
    assert "Traceback" not in err
    assert (contracts_copy / "errors.yaml").read_text(encoding="utf-8") == errors
    assert _files(contracts_copy) == before


def test_failed_write_is_one_message_and_leaves_no_temporary_file(
    contracts_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """When the final rename fails: exit 2 with one message, errors.yaml unchanged, no temporary file left."""
    errors = (contracts_copy / "errors.yaml").read_text(encoding="utf-8")
    before = _files(contracts_copy)
    _edit_table(contracts_copy, MEANING, NEW_MEANING)

    def refuse(*_args: object) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", refuse)
    assert main(["--contracts", str(contracts_copy), "contracts", "build"]) == 2
    assert "disk full" in capsys.readouterr().err
    assert (contracts_copy / "errors.yaml").read_text(encoding="utf-8") == errors
    assert _files(contracts_copy) == before
