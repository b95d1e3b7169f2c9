"""Reading a certificate bundle (a directory or a zip) for `certify verify`: streamed, with limits.

A bundle comes from someone else and may be hostile. Every entry is streamed through sha256 in
chunks, never held whole (except the few small files verify must parse, under a smaller limit),
with a limit per entry and in total measured on the bytes actually read, not on what the zip
declares: a 1 MB zip of 1 GiB of zeros stops at the first limit. What a bundle we wrote never
holds is refused and named, each one: a name given twice (a zip may hold two entries of one name,
and readers disagree about which one counts), an entry that is no regular file (a symlink, a FIFO,
a device), a name outside the bundle (absolute, or with `..`).
"""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from conformance.certify.capped import file_kind
from conformance.core.errors import UsageError

CHUNK = 1024 * 1024
# No file we write comes near these: a bundle of a flood run is under 20 MB in all.
ENTRY_LIMIT = 64 * 1024 * 1024
TOTAL_LIMIT = 256 * 1024 * 1024
WHOLE_LIMIT = 16 * 1024 * 1024  # a file read whole to be parsed (the manifest, its signature, the key)
MAX_ENTRIES = 10_000


class _TooLarge(Exception):
    """An entry passed a limit; the message says which."""


@dataclass
class Entries:
    """What a bundle holds: sha256 per name, the bytes of the files asked for whole, what is wrong."""

    digests: dict[str, str] = field(default_factory=dict)
    whole: dict[str, bytes] = field(default_factory=dict)
    corrupt: list[str] = field(default_factory=list)  # zip members whose bytes cannot be read back
    refused: list[str] = field(default_factory=list)  # "NAME: why", one per refused entry
    _total: int = 0

    def names(self) -> set[str]:
        return set(self.digests) | set(self.corrupt)

    def take(self, name: str, stream: IO[bytes], keep: bool) -> None:
        """Hash `stream` in chunks under the limits; keep its bytes when `keep` (under WHOLE_LIMIT)."""
        digest, size, kept = hashlib.sha256(), 0, bytearray()
        limit = WHOLE_LIMIT if keep else ENTRY_LIMIT
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            self._total += len(chunk)
            if size > limit:
                raise _TooLarge(f"larger than {_mib(limit)}, more than any file of a bundle")
            if self._total > TOTAL_LIMIT:
                raise _TooLarge(f"the bundle passes {_mib(TOTAL_LIMIT)} in all here, more than any bundle")
            digest.update(chunk)
            if keep:
                kept += chunk
        self.digests[name] = digest.hexdigest()
        if keep:
            self.whole[name] = bytes(kept)


def read_entries(path: Path, whole: Collection[str]) -> Entries:
    """The entries of the bundle at `path`; `whole` names the files whose bytes are kept.

    UsageError when `path` is missing, or is neither a directory nor a readable zip.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise UsageError(path, "BUNDLE", "does not exist", "pass the bundle directory or its .zip") from None
    except OSError as exc:
        raise _unreadable(path, exc.strerror or str(exc)) from None
    if stat.S_ISDIR(mode):
        return _directory(path, whole)
    kind = file_kind(mode)
    if kind is not None:
        raise _unreadable(path, kind)
    try:
        with zipfile.ZipFile(path) as archive:
            return _zip(archive, whole)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _unreadable(path, str(exc)) from None


def _zip(archive: zipfile.ZipFile, whole: Collection[str]) -> Entries:
    entries = Entries()
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        entries.refused.append(f"(the zip): {len(infos)} entries, more than {MAX_ENTRIES}")
        return entries
    counts = Counter(info.filename for info in infos)
    entries.refused += [f"{name}: {n} entries of this name" for name, n in sorted(counts.items()) if n > 1]
    for info in infos:
        name = info.filename
        problem = _outside(name) or _not_regular(info)
        if problem == "":  # a directory entry holds nothing to check
            continue
        if problem is None and info.file_size > ENTRY_LIMIT:
            problem = f"declares {info.file_size} bytes, more than any file of a bundle"
        if problem is not None:
            entries.refused.append(f"{name}: {problem}")
            continue
        if counts[name] > 1:
            continue
        try:
            with archive.open(info) as stream:
                entries.take(name, stream, name in whole)
        except _TooLarge as too_large:
            entries.refused.append(f"{name}: {too_large}")
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            ValueError,
            OSError,
            RuntimeError,
            NotImplementedError,
        ):
            entries.corrupt.append(name)  # a CRC mismatch, encryption, an unknown compression
    return entries


def _outside(name: str) -> str | None:
    """Why `name` points outside the bundle, or None."""
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "an absolute name, outside the bundle"
    if ".." in PurePosixPath(name).parts:
        return "a name with '..', outside the bundle"
    return None


def _not_regular(info: zipfile.ZipInfo) -> str | None:
    """None for a regular file, "" for a directory entry, else what it is."""
    if info.is_dir():
        return ""
    mode = info.external_attr >> 16
    if not stat.S_IFMT(mode) or stat.S_ISREG(mode):  # no file type recorded (zipfile's writestr): a file
        return None
    if stat.S_ISDIR(mode):
        return "a directory entry holding data"
    if stat.S_ISLNK(mode):
        return "a symlink, not a regular file"
    return f"{file_kind(mode)}, not a regular file"


def _directory(root: Path, whole: Collection[str]) -> Entries:
    entries = Entries()
    for count, (path, name) in enumerate(_walk(root, root), start=1):
        if count > MAX_ENTRIES:
            entries.refused.append(f"(the directory): more than {MAX_ENTRIES} entries")
            break
        try:
            if path.is_symlink():
                entries.refused.append(f"{name}: a symlink, not a regular file")
                continue
            kind = file_kind(path.lstat().st_mode)
            if kind is not None:
                entries.refused.append(f"{name}: {kind}, not a regular file")
                continue
            # O_NONBLOCK and O_NOFOLLOW: a file swapped for a FIFO or a symlink since is not followed
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_NOCTTY)
            with os.fdopen(fd, "rb") as stream:
                if file_kind(os.fstat(fd).st_mode) is not None:
                    entries.refused.append(f"{name}: changed while read, not a regular file")
                    continue
                entries.take(name, stream, name in whole)
        except _TooLarge as too_large:
            entries.refused.append(f"{name}: {too_large}")
        except OSError as exc:
            entries.refused.append(f"{name}: cannot be read: {exc.strerror or exc}")
    return entries


def _walk(root: Path, directory: Path) -> Iterator[tuple[Path, str]]:
    """(path, name in the bundle) of everything under `directory` but its subdirectories, which it
    enters; a symlink to a directory is not entered (it is refused as a symlink)."""
    try:
        children = sorted(directory.iterdir())
    except OSError as exc:
        raise UsageError(
            directory, "BUNDLE", f"cannot be listed: {exc.strerror or exc}", "make the bundle readable"
        ) from None
    for path in children:
        if path.is_dir() and not path.is_symlink():
            yield from _walk(root, path)
        else:
            yield path, path.relative_to(root).as_posix()


def _mib(size: int) -> str:
    return f"{size // (1024 * 1024)} MiB"


def _unreadable(path: Path, why: str) -> UsageError:
    return UsageError(
        path,
        "BUNDLE",
        f"is neither a directory nor a readable zip: {why}",
        "pass the bundle directory or its .zip",
    )
