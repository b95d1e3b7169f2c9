"""`conformance drift DIRECTORY [--store FILE]` at scale: runs read one at a time into a store of digests,
with the findings of the reader that held every run in memory, and a store that survives bad input.

data/history-60-nights.old-reader.json.gz is what that earlier reader (commit 9611567) printed with
`conformance drift DIR --format json` over `write_history(DIR, 60)`: 60 generated nights with a held
change, flapping answers, a flapping documented regression, a new test, errors, skips and interrupted
runs (see nightly_history). It was captured before the reader was replaced, and is compared byte
for byte.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.self.report.nightly_history import write_history
from tests.self.report.report_support import drift

NIGHTS = 60
CAPTURED = Path(__file__).parent / "data" / f"history-{NIGHTS}-nights.old-reader.json.gz"


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_history(tmp_path_factory.mktemp("generated") / "nightly", NIGHTS)


def _captured() -> str:
    return gzip.decompress(CAPTURED.read_bytes()).decode("utf-8")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_one_message(err: str) -> None:
    """One message: what and where on one line, the fix on the next; never a traceback."""
    assert "\n  fix: " in err, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 2, err


def _split(nights: list[Path], root: Path, at: int) -> tuple[Path, Path]:
    """Two directories: the nights before `at`, and the rest (as a CI job would have them, night by night)."""
    earlier, later = root / "earlier", root / "later"
    for directory, part in ((earlier, nights[:at]), (later, nights[at:])):
        directory.mkdir()
        for path in part:
            shutil.copy(path, directory / path.name)
    return earlier, later


def _stored(nights: list[Path], root: Path) -> tuple[Path, Path, Path]:
    """The first three nights in a store; the directories of `_split`, and the store."""
    earlier, later = _split(nights, root, 3)
    store = root / "history.sqlite"
    assert drift(earlier, "--store", store).status == 0
    return earlier, later, store


def test_the_streamed_reader_finds_what_the_reader_before_it_found(nights: list[Path]) -> None:
    """Same runs, regressions, errors, cells, states and changes, byte for byte, over 60 generated nights."""
    result = drift(nights[0].parent, "--format", "json")
    assert result.err == ""
    assert result.status == 1  # the generated last night breaks a documented case and errors a test
    assert result.out == _captured()


def test_a_store_kept_from_night_to_night_gives_the_same_history(nights: list[Path], tmp_path: Path) -> None:
    """Forty nights stored first, then the other twenty from a directory that holds only them."""
    earlier, later = _split(nights, tmp_path, 40)
    store = tmp_path / "history.sqlite"
    assert drift(earlier, "--store", store, "--format", "json").status == 0
    result = drift(later, "--store", store, "--format", "json")
    assert (result.status, result.err) == (1, "")
    assert result.out == _captured()
    again = drift(later, "--store", store, "--format", "json")  # the same files again: nothing added
    assert again.out == _captured()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["earlier", "history.sqlite", "later"]


def test_a_different_file_under_a_stored_name_is_refused_and_the_store_is_unchanged(
    nights: list[Path], tmp_path: Path
) -> None:
    earlier, later, store = _stored(nights, tmp_path)
    before = _digest(store)
    shutil.copy(later / nights[5].name, earlier / nights[0].name)
    result = drift(earlier, "--store", store)
    assert result.status == 2
    _assert_one_message(result.err)
    assert nights[0].name in result.err
    assert "give each night's results file its own name" in result.err
    assert _digest(store) == before


def test_a_malformed_results_file_is_one_message_and_the_store_is_unchanged(
    nights: list[Path], tmp_path: Path
) -> None:
    _, later, store = _stored(nights, tmp_path)
    before = _digest(store)
    (later / "broken.json").write_text('{"format": 1, "cases": [', encoding="utf-8")
    result = drift(later, "--store", store)
    assert result.status == 2
    _assert_one_message(result.err)
    assert "broken.json" in result.err
    assert "use a file the suite wrote" in result.err
    assert _digest(store) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["earlier", "history.sqlite", "later"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"this is not a database, it is a text file " * 50, "not a SQLite file"),
        (b"x", "not a SQLite file"),  # SQLite alone would take it for a new database
        (b"", "empty"),  # a cache that saved nothing
        (None, "expected a store of format"),  # a real SQLite file of some other program
    ],
)
def test_a_corrupt_store_is_one_message_naming_it_and_the_fix(
    nights: list[Path], tmp_path: Path, content: bytes | None, problem: str
) -> None:
    store = tmp_path / "history.sqlite"
    if content is None:
        with sqlite3.connect(store) as other:
            other.execute("CREATE TABLE notes (text TEXT)")
        other.close()
    else:
        store.write_bytes(content)
    before = _digest(store)
    result = drift(nights[0].parent, "--store", store)
    assert result.status == 2
    _assert_one_message(result.err)
    assert str(store) in result.err
    assert problem in result.err
    assert "restore the last good copy" in result.err
    assert _digest(store) == before


def test_a_store_with_two_files_is_a_usage_error(nights: list[Path], tmp_path: Path) -> None:
    result = drift(nights[0], nights[1], "--store", tmp_path / "history.sqlite")
    assert result.status == 2
    assert "give a DIRECTORY with --store" in result.err
    assert not (tmp_path / "history.sqlite").exists()


def _shown_runs(history: dict[str, Any]) -> set[int]:
    """The runs a condensed report must show, from the JSON: the first, the last 30, the first run of
    each distinct change of every cell that changed, and each regression's last good and first bad run."""
    count = len(history["runs"])
    runs = {1, *range(count - 29, count + 1)}
    for tracked in (*history["cells"], *history["outside_the_table"]):
        first: dict[tuple[str, str], int] = {}
        for change in tracked["changes"]:
            first.setdefault((change["before"], change["after"]), change["run"])
        runs.update(first.values())
    for broken in (*history["regressions"], *history["newly_erroring"]):
        runs.update((broken["good_run"], broken["since"]))
    return runs


def test_the_markdown_leads_with_what_changed_and_shows_the_runs_condensed(nights: list[Path]) -> None:
    """Regressions, errors and changes first; runs and timelines: the last 30 and each change's first run."""
    history = json.loads(_captured())
    markdown = drift(nights[0].parent).out
    titles = [line for line in markdown.splitlines() if line.startswith("### ")]
    assert titles[:2] == ["### Documented regressions", "### Tests newly erroring"]
    assert titles[-2:] == ["### Counts", "### Runs: the last 30, and the first run of each change"]
    assert titles[2:-2] == ["### Recorded behaviour outside the error table that changed"]  # no cell changed
    runs = markdown.split(titles[-1])[1].splitlines()
    listed = [int(line.split("|")[1]) for line in runs if line.startswith("| ") and line[2].isdigit()]
    expected = sorted(_shown_runs(history))
    assert listed == expected
    assert len(listed) < NIGHTS
    gaps = [line for line in runs if line.startswith("| … |")]
    assert len(gaps) == sum(1 for a, b in itertools.pairwise(expected) if b > a + 1)
    changes = markdown.split(titles[2])[1].split("\n### ")[0]
    rows = [line for line in changes.splitlines() if line.startswith("| ") and "| level |" not in line]
    assert rows
    for row in rows:
        timeline = row.split(" | ")[3].split()
        assert len(timeline) == len(expected) + len(gaps), row


def test_the_html_timeline_has_a_column_per_run_shown_and_one_per_gap(
    nights: list[Path], tmp_path: Path
) -> None:
    history = json.loads(_captured())
    output = tmp_path / "history.html"
    assert drift(nights[0].parent, "--format", "html", "--output", output).status == 1
    page = output.read_text(encoding="utf-8")
    timeline = page.split('<table class="timeline">')[1].split("</tr>")[0]
    columns = re.findall(r'<th(?: class="gap")? title="[^"]*">([^<]*)</th>', timeline)
    expected = sorted(_shown_runs(history))
    assert [int(c) for c in columns if c != "…"] == expected
    assert columns.count("…") == sum(1 for a, b in itertools.pairwise(expected) if b > a + 1)
    assert (
        page.index("Documented regressions")
        < page.index("What changed, and since when")
        < page.index("<h2>Runs</h2>")
    )


def test_a_truncated_store_is_one_message_and_stays_as_it_was(nights: list[Path], tmp_path: Path) -> None:
    """A store cut short (a cache upload that stopped half-way): its header is right, its pages are not."""
    store = tmp_path / "history.sqlite"
    assert drift(nights[0].parent, "--store", store).status == 1
    store.write_bytes(store.read_bytes()[: store.stat().st_size // 2])
    before = _digest(store)
    result = drift(nights[0].parent, "--store", store)
    assert result.status == 2
    _assert_one_message(result.err)
    assert "database disk image is malformed" in result.err
    assert _digest(store) == before
