"""Put the suite harness (tests/self/suite) and the sandbox caller (tests/self/sandbox) on sys.path."""

from __future__ import annotations

import sys
from pathlib import Path

for helpers in ("suite", "sandbox"):
    path = str(Path(__file__).parents[1] / helpers)
    if path not in sys.path:
        sys.path.append(path)
