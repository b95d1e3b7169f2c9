"""Put the suite harness (tests/self/suite) on sys.path: these tests run the suite as a person does."""

from __future__ import annotations

import sys
from pathlib import Path

SUITE_HELPERS = str(Path(__file__).parents[1] / "suite")
if SUITE_HELPERS not in sys.path:
    sys.path.append(SUITE_HELPERS)
