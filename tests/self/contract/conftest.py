"""Fixtures for the contract self-tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.self.contract.contract_cases import CONTRACTS


@pytest.fixture
def contracts_copy(tmp_path: Path) -> Path:
    """A copy of contracts/ in tmp_path: `load_contract` caches per directory, so each test needs its own."""
    copy = tmp_path / "contracts"
    shutil.copytree(CONTRACTS, copy)
    return copy
