"""Helpers shared by the contract self-tests: where things are, and the data-driven case files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
CONTRACTS = REPO / "contracts"
DATA = Path(__file__).parent / "data"


def case_params(folder: str) -> list[Any]:
    """One pytest param per YAML case file in data/<folder>, id'd by file name; `xfail` marks known bugs."""
    params = []
    for path in sorted((DATA / folder).glob("*.yaml")):
        case = yaml.safe_load(path.read_text(encoding="utf-8"))
        marks = [pytest.mark.xfail(reason=case["xfail"], strict=True)] if "xfail" in case else []
        params.append(pytest.param(case, id=path.stem, marks=marks))
    return params


def replace_once(text: str, old: str, new: str) -> tuple[str, int]:
    """Replace the one occurrence of `old`; return the new text and the 1-based line the edit starts on."""
    assert text.count(old) == 1, f"case out of date: {old!r} occurs {text.count(old)} times, not once"
    return text.replace(old, new), text.count("\n", 0, text.index(old)) + 1
