"""The drift history's store: one SQLite file (the standard library's), one row per run holding the
run's digest, so a night adds a few kilobytes and reading a year of nights holds one night at a time.

Why SQLite: it ships with Python, a row per run is read in order with a bounded cache, and a file is
one artifact a CI cache can carry from night to night. A run is keyed by its file name; the same file
read again is skipped (same SHA-256), a different file under a stored name is refused. Changes go to
a copy beside the store, renamed over it once committed: a crash never leaves half a store.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from conformance.core.errors import Place, ResultsError, UsageError
from conformance.judging.results import read_results
from conformance.report.history_digest import StoredRun, decode, digest_run, encode

FORMAT = "conformance-drift-history 1"
SQLITE_HEADER = b"SQLite format 3\x00"
SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    file TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    started TEXT NOT NULL,  -- UTC, sortable: the history's order (then the file name)
    started_at TEXT NOT NULL,  -- as the results file says it
    counts TEXT NOT NULL,
    interrupted INTEGER NOT NULL,
    digest BLOB NOT NULL
);
"""


class Store:
    """An open store; `add` results files, then read `runs()` oldest first."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    def add(self, results_file: Path) -> bool:
        """Read, check and digest one results file into the store; False when it is stored already."""
        content = _read_bytes(results_file)
        sha = hashlib.sha256(content).hexdigest()
        stored = self._db.execute("SELECT sha256 FROM runs WHERE file = ?", (results_file.name,)).fetchone()
        if stored is not None:
            if stored[0] != sha:
                raise ResultsError(
                    results_file,
                    Place(),
                    f"the history store {self.path} holds another run under the name {results_file.name}",
                    "give each night's results file its own name (a date, a run id)",
                )
            return False
        results = read_results(results_file)
        self._db.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                results_file.name,
                sha,
                _sortable(results.started_at, results_file),
                results.started_at,
                json.dumps(results.counts()),
                int(results.interrupted),
                encode(digest_run(results)),
            ),
        )
        return True

    def count(self) -> int:
        found: int = self._query("SELECT count(*) FROM runs").fetchone()[0]
        return found

    def runs(self) -> Iterator[StoredRun]:
        """Every run, oldest first (by started_at, then file name), one at a time."""
        rows = self._query(
            "SELECT file, started_at, counts, interrupted, digest FROM runs ORDER BY started, file"
        )
        for row in rows:
            yield self._run(*row)

    def latest(self) -> StoredRun:
        """The run `runs()` gives last."""
        latest = self._query(
            "SELECT file, started_at, counts, interrupted, digest FROM runs ORDER BY started DESC, file DESC"
        )
        return self._run(*latest.fetchone())

    def _run(self, file: str, started_at: str, counts: str, interrupted: int, blob: bytes) -> StoredRun:
        try:
            digest = decode(blob)
            counted = {str(k): int(v) for k, v in json.loads(counts).items()}
        except (ValueError, AttributeError) as exc:
            raise self._corrupt(f"the run {file}: {exc}") from None
        return StoredRun(file, started_at, counted, bool(interrupted), digest)

    def _query(self, sql: str) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql)
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(str(exc)) from None

    def _corrupt(self, problem: str) -> UsageError:
        return corrupt(self.path, problem)


def corrupt(path: Path, problem: str) -> UsageError:
    return UsageError(
        path,
        Place(path="--store"),
        f"is not a readable drift history store ({problem})",
        "restore the last good copy (the CI cache or artifact it came from), or delete it to start a "
        "new history from the results files",
    )


@contextmanager
def opened(path: Path) -> Iterator[Store]:
    """The store at `path` (created if absent), changed on a copy that replaces it when all went well."""
    if path.is_dir():
        raise UsageError(path, Place(path="--store"), "is a directory", "give a file path for the store")
    if not path.parent.is_dir():
        raise UsageError(
            path, Place(path="--store"), f"the directory {path.parent} does not exist", "create it first"
        )
    working = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        try:
            if path.exists():
                _check_header(path)
                _copy(path, working)
            with closing(sqlite3.connect(working, isolation_level=None)) as connection:
                _prepare(connection, path)
                connection.execute("BEGIN")
                yield Store(connection, path)
                connection.execute("COMMIT")
            working.replace(path)
        except sqlite3.DatabaseError as exc:
            raise corrupt(path, str(exc)) from None
        except OSError as exc:
            raise UsageError(
                path,
                Place(path="--store"),
                f"cannot be written: {exc.strerror}",
                "check the path and permissions",
            ) from None
    finally:
        working.unlink(missing_ok=True)


@contextmanager
def temporary(directory: Path) -> Iterator[Store]:
    """A store for one reading of a directory, in `directory` (a temporary one), dropped afterwards."""
    path = directory / "history.sqlite"
    with closing(sqlite3.connect(path, isolation_level=None)) as connection:
        _prepare(connection, path)
        connection.execute("PRAGMA journal_mode = OFF")
        connection.execute("BEGIN")
        yield Store(connection, path)


def _check_header(path: Path) -> None:
    """A SQLite file starts with its magic string; SQLite itself would take a short or empty file for a
    new database, and the store would silently start over."""
    with path.open("rb") as file:
        header = file.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise corrupt(path, "empty" if not header else "not a SQLite file")


def _copy(source: Path, target: Path) -> None:
    """A consistent copy of the store, through SQLite (a corrupt file fails here, named)."""
    with (
        closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as reading,
        closing(sqlite3.connect(target)) as writing,
    ):
        reading.backup(writing)


def _prepare(connection: sqlite3.Connection, path: Path) -> None:
    """Create the tables in a new store; check an existing one is a store of this format."""
    tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        connection.executescript(SCHEMA)
        connection.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
        return
    found = (
        connection.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        if "meta" in tables
        else None
    )
    if found is None or found[0] != FORMAT or "runs" not in tables:
        raise corrupt(
            path, f"expected a store of format {FORMAT!r}, found {found[0] if found else 'another file'!r}"
        )


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ResultsError(
            path, Place(), f"the file cannot be read: {exc.strerror}", "give the path of a results JSON file"
        ) from None


def _sortable(started_at: str, path: Path) -> str:
    """When the run started, in UTC, as text that sorts in time order (a time without a zone is UTC)."""
    try:
        started = datetime.fromisoformat(started_at)
    except ValueError:
        raise ResultsError(
            path,
            Place(path="started_at"),
            f"{started_at!r} is not an ISO 8601 time",
            "use a file the suite wrote, unedited",
        ) from None
    started = started if started.tzinfo else started.replace(tzinfo=UTC)
    return started.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
