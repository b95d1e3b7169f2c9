"""Installing the suite changes nothing in someone else's pytest session.

The plugin loads through the `pytest11` entry point in every session of the environment; outside a
suite run it must leave Hypothesis's settings, its draws, the SIGTERM handler and the working folder
as they were.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

UNRELATED_TEST = """
import json, signal
from pathlib import Path

from hypothesis import given, settings, strategies as st
from hypothesis.internal.conjecture import providers


@given(st.integers())
def test_unrelated_property(n):
    assert isinstance(n, int)


def test_report_what_this_session_sees():
    current = settings.default
    seen = {
        "profile": settings.get_current_profile_name(),
        "max_examples": current.max_examples,
        "derandomize": current.derandomize,
        "database": type(current.database).__name__,
        "deadline": str(current.deadline),
        "local_constants": providers._get_local_constants.__name__,
        "sigterm": str(signal.getsignal(signal.SIGTERM)),
    }
    Path("seen.json").write_text(json.dumps(seen))
"""


def _seen(folder: Path, *plugin_args: str) -> dict[str, object]:
    """Run the unrelated tests in a folder of their own; what their session saw of Hypothesis and signals."""
    folder.mkdir()
    (folder / "test_unrelated.py").write_text(UNRELATED_TEST, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin_args, "test_unrelated.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    seen: dict[str, object] = json.loads((folder / "seen.json").read_text(encoding="utf-8"))
    return seen


def test_an_unrelated_session_sees_hypothesis_defaults(tmp_path: Path) -> None:
    """The same settings, draws and SIGTERM handler with the plugin installed as without it."""
    without = _seen(tmp_path / "without", "-p", "no:live_activity_conformance")
    installed = _seen(tmp_path / "with")
    assert installed == without
    assert not str(installed["profile"]).startswith("conformance-")
    assert installed["local_constants"] != "<lambda>"  # Hypothesis's own, not the suite's patch
