"""A derandomized run draws the same examples whatever local modules happen to be imported.

The plugin calls `ignore_local_constants` when pytest starts (see conformance/generate/determinism.py
for why). Run without the plugin (`-p no:live_activity_conformance`), this test fails: the second
draw picks some of the newly imported module's constants.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

# Constants of the kinds Hypothesis collects (short strings, integers), many, so that a draw which
# used local constants would meet them.
MODULE = "VALUES = [{}]\n".format(", ".join(f'"local-{n:04d}", {1000 + n}' for n in range(400)))


def _draws() -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []

    @settings(derandomize=True, max_examples=300, database=None)
    @given(st.text(max_size=20), st.integers(min_value=1000, max_value=1399))
    def collect(text: str, number: int) -> None:
        found.append((text, number))

    collect()
    return found


def test_importing_a_local_module_leaves_the_draws_unchanged(tmp_path: Path) -> None:
    before = _draws()
    (tmp_path / "conformance_constants_probe.py").write_text(MODULE, encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module("conformance_constants_probe")
        after = _draws()
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("conformance_constants_probe", None)
    assert after == before
    drawn = {text for text, _ in after}
    assert not drawn & {v for v in module.VALUES if isinstance(v, str)}
