"""`certify verify` on hostile bundles: a zip bomb is refused in bounded memory; duplicate names,
symlinks, FIFOs and names outside the bundle are refused, each named; and every JSON file certify
writes or reads is strict (no NaN, no Infinity)."""

from __future__ import annotations

import math
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conformance.certify import Certification, certify_in_process, verify_bundle, write_bundle
from conformance.certify.bundle import MANIFEST
from conformance.certify.entries import ENTRY_LIMIT, TOTAL_LIMIT
from conformance.cli import main
from conformance.client import run_flow
from conformance.client.settings import FlowSettings
from conformance.core import strict_json

MB = 1024 * 1024
SCENARIO = "update-400"


def nan_logging_flow(settings: FlowSettings) -> None:
    """The reference flow, then a log line with NaN and one with Infinity: JSON only to Python."""
    run_flow(settings)
    with settings.log_file.open("a", encoding="utf-8") as log:
        log.write('{"endpoint": "end", "status": NaN, "retry": Infinity}\n')


@pytest.fixture(scope="module")
def certification() -> Certification:
    return certify_in_process(nan_logging_flow, [SCENARIO])


@pytest.fixture(scope="module")
def genuine(certification: Certification, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bundle(certification, tmp_path_factory.mktemp("b") / "bundle", zip_it=True)


def copy_zip(source: Path, target: Path, *, before: dict[str, bytes] | None = None) -> zipfile.ZipFile:
    """`target` opened for appending, holding `before` entries first, then every entry of `source`."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for name, data in (before or {}).items():
            copy.writestr(name, data)
        for info in original.infolist():
            copy.writestr(info, original.read(info))
    return zipfile.ZipFile(target, "a")


def zeros(archive: zipfile.ZipFile, name: str, size: int) -> None:
    """An entry of `size` zero bytes, written in chunks (never held whole), deflated."""
    with archive.open(name, "w", force_zip64=True) as entry:
        chunk = bytes(MB)
        for _ in range(size // MB):
            entry.write(chunk)


# -- zip bombs ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bomb(genuine: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The genuine bundle plus 1 GiB of zeros in one entry, and 300 MiB more in five entries of 60."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    with (
        zipfile.ZipFile(genuine) as original,
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
    ):
        for info in original.infolist():
            archive.writestr(info, original.read(info))
        zeros(archive, "evidence/bomb.json", 1024 * MB)
        for i in range(5):
            zeros(archive, f"evidence/part-{i}.json", 60 * MB)
    return path


def test_a_zip_bomb_is_refused_in_bounded_memory(bomb: Path, tmp_path: Path) -> None:
    """1 GiB of zeros in a small zip: refused by its size; the parts that pass the total, too."""
    assert bomb.stat().st_size < 10 * MB
    out = tmp_path / "out"
    with out.open("wb") as stdout:
        process = subprocess.Popen(
            [sys.executable, "-m", "conformance.cli", "certify", "verify", str(bomb)], stdout=stdout
        )
        _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    text = out.read_text()
    assert process.returncode == 1, text
    assert usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024) < 300 * MB
    assert "REFUSED" in text
    assert f"evidence/bomb.json: declares {1024 * MB} bytes, more than any file of a bundle" in text
    # Each part declares less than the entry limit: the total is counted on the bytes read, streamed.
    assert 60 * MB < ENTRY_LIMIT
    assert f"passes {TOTAL_LIMIT // MB} MiB in all" in text


# -- entries a bundle never holds ----------------------------------------------------------------------


def test_a_tampered_entry_before_a_genuine_one_of_the_same_name_is_refused(
    genuine: Path, tmp_path: Path
) -> None:
    """Readers differ on which of two same-named entries counts: the bundle is refused, naming it."""
    tampered = tmp_path / "twice.zip"
    with zipfile.ZipFile(genuine) as original:
        forged = original.read("certificate.json").replace(b'"fail"', b'"pass"')
    with pytest.warns(UserWarning, match="Duplicate name"):  # zipfile warns, and writes it all the same
        copy_zip(genuine, tampered, before={"certificate.json": forged}).close()
    check = verify_bundle(tampered)
    assert not check.intact
    assert check.refused == ("certificate.json: 2 entries of this name",)
    assert main(["certify", "verify", str(tampered)]) == 1


def test_symlinks_and_names_outside_the_bundle_in_a_zip_are_refused_each(
    genuine: Path, tmp_path: Path
) -> None:
    hostile = tmp_path / "hostile.zip"
    with copy_zip(genuine, hostile) as archive:
        link = zipfile.ZipInfo("evidence/link.json")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        fifo = zipfile.ZipInfo("evidence/fifo.json")
        fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
        archive.writestr(fifo, "")
        archive.writestr("../escape.json", "{}")
        archive.writestr("/etc/absolute.json", "{}")
    check = verify_bundle(hostile)
    assert set(check.refused) == {
        "evidence/link.json: a symlink, not a regular file",
        "evidence/fifo.json: a FIFO (named pipe), not a regular file",
        "../escape.json: a name with '..', outside the bundle",
        "/etc/absolute.json: an absolute name, outside the bundle",
    }


def test_a_symlink_and_a_fifo_in_a_bundle_directory_are_refused_not_skipped(
    certification: Certification, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A FIFO is refused before it is opened: verify does not block on it."""
    bundle = write_bundle(certification, tmp_path / "bundle")
    (bundle / "evidence" / "link.json").symlink_to(bundle / "certificate.json")
    (bundle / "linked-dir").symlink_to(bundle / "evidence")
    os.mkfifo(bundle / "evidence" / "fifo.json")
    assert main(["certify", "verify", str(bundle)]) == 1
    out = capsys.readouterr().out
    assert "  refused: evidence/link.json: a symlink, not a regular file" in out
    assert "  refused: linked-dir: a symlink, not a regular file" in out
    assert "  refused: evidence/fifo.json: a FIFO (named pipe), not a regular file" in out


def test_a_fifo_given_as_the_bundle_is_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "bundle.zip"
    os.mkfifo(fifo)
    assert main(["certify", "verify", str(fifo)]) == 2
    err = capsys.readouterr().err
    assert "is neither a directory nor a readable zip: a FIFO (named pipe)" in err
    assert "Traceback" not in err


# -- strict JSON -------------------------------------------------------------------------------------


def test_nan_in_a_log_line_is_no_json_and_never_reaches_the_evidence(genuine: Path) -> None:
    """The line is kept as unparsed text; every JSON file of the bundle parses strictly."""
    with zipfile.ZipFile(genuine) as archive:
        for name in archive.namelist():
            if name.endswith(".json"):
                strict_json.loads(archive.read(name))  # raises on NaN or Infinity
        evidence = strict_json.loads(archive.read(f"evidence/{SCENARIO}.json"))
    assert {"unparsed": '{"endpoint": "end", "status": NaN, "retry": Infinity}'} in evidence["log"]


@pytest.mark.parametrize(
    "text", ["NaN", "[Infinity]", '{"a": -Infinity}', "1e999", "[" * 100_000 + "]" * 100_000]
)
def test_strict_json_refuses_what_rfc_8259_has_not(text: str) -> None:
    with pytest.raises(ValueError, match=r"not JSON|out of the range|nested too deeply"):
        strict_json.loads(text)


def test_strict_json_never_writes_nan_or_infinity() -> None:
    for value in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="not JSON compliant"):
            strict_json.dumps({"x": value})


def test_a_manifest_holding_nan_is_named_not_trusted(certification: Certification, tmp_path: Path) -> None:
    bundle = write_bundle(certification, tmp_path / "bundle")
    manifest = bundle / MANIFEST
    manifest.write_text(manifest.read_text().replace('"format": 1', '"format": NaN'))
    check = verify_bundle(bundle)
    assert check.changed == (MANIFEST,)
    assert f"{MANIFEST} is not the JSON the bundle was signed with" in check.describe()
