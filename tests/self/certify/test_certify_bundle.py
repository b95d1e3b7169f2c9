"""The certificate bundle: what it holds, that secrets and personal ids stay out, and that `certify verify`
accepts it whole and names each file changed, added or removed, in a directory and in a zip."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conformance.certify import Certification, certify_in_process, verify_bundle, write_bundle
from conformance.certify.bundle import MANIFEST, PUBLIC_KEY, SIGNATURE
from conformance.certify.verdict import CertificateVerdict, Decision, verdict_problem
from conformance.cli import main
from conformance.client import run_flow
from conformance.client.settings import FlowSettings
from conformance.core.errors import UsageError

SCENARIOS = ["update-400", "start-lost-dropped"]


def leaky_flow(settings: FlowSettings) -> None:
    """The reference flow, plus a log line holding the key and the insider ids: what redaction must catch."""
    run_flow(settings)
    with settings.log_file.open("a", encoding="utf-8") as log:
        log.write(f"debug key={settings.api_key} ids={','.join(settings.insider_ids)}\n")


@pytest.fixture(scope="module")
def certification() -> Certification:
    return certify_in_process(leaky_flow, SCENARIOS)


@pytest.fixture(scope="module")
def bundle(certification: Certification, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bundle(certification, tmp_path_factory.mktemp("b") / "bundle")


def test_the_bundle_holds_verdicts_hashes_scenarios_evidence_and_reports(
    bundle: Path, certification: Certification
) -> None:
    names = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    assert {
        "certificate.json",
        "contract-sha256.json",
        "scenarios.json",
        "junit.xml",
        "summary.html",
    } <= names
    assert {MANIFEST, SIGNATURE, PUBLIC_KEY} <= names
    assert {f"evidence/{s}.json" for s in SCENARIOS} <= names
    certificate = json.loads((bundle / "certificate.json").read_text())
    assert certificate["contract_digest"] == certification.policy.contract.digest
    assert certificate["suite_version"]
    assert {v["id"] for v in certificate["verdicts"]} == set(certification.policy.rules)
    hashes = json.loads((bundle / "contract-sha256.json").read_text())
    assert {"errors.yaml", "behaviour.yaml", "certification.yaml", "schema/certification.schema.json"} <= set(
        hashes
    )


def test_no_key_and_no_insider_id_reaches_the_bundle(bundle: Path, certification: Certification) -> None:
    text = "\n".join(p.read_text(errors="replace") for p in bundle.rglob("*") if p.is_file())
    for secret in certification.secrets:
        assert secret not in text
    for real in certification.aliases:
        assert real not in text
    assert "key=<redacted>" in text
    assert "<eligible 1>" in text


def test_an_intact_bundle_verifies(bundle: Path) -> None:
    check = verify_bundle(bundle)
    assert check.intact, check.describe()
    assert main(["certify", "verify", str(bundle)]) == 0


def _every_file(bundle: Path) -> list[str]:
    return sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())


def test_one_changed_byte_in_any_file_is_named(bundle: Path, tmp_path: Path) -> None:
    """Flip one byte (the first, a middle and the last) of each file in turn: exactly that file is named."""
    for name in _every_file(bundle):
        size = (bundle / name).stat().st_size
        for offset in sorted({0, size // 2, size - 1}):
            copy = tmp_path / f"{name.replace('/', '_')}-{offset}"
            shutil.copytree(bundle, copy)
            data = bytearray((copy / name).read_bytes())
            data[offset] ^= 0x01
            (copy / name).write_bytes(bytes(data))
            check = verify_bundle(copy)
            assert not check.intact, (name, offset)
            assert check.changed == (name,), (name, offset, check.describe())
            shutil.rmtree(copy)


def test_added_and_removed_files_are_named(bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    (copy / "evidence" / "update-400.json").unlink()
    (copy / "extra.txt").write_text("slipped in")
    check = verify_bundle(copy)
    assert check.removed == ("evidence/update-400.json",)
    assert check.added == ("extra.txt",)
    assert main(["certify", "verify", str(copy)]) == 1


def test_a_zip_bundle_verifies_and_names_an_edited_member(
    certification: Certification, tmp_path: Path
) -> None:
    archive = write_bundle(certification, tmp_path / "zipped", zip_it=True)
    assert archive.suffix == ".zip"
    assert verify_bundle(archive).intact
    edited = tmp_path / "edited.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(edited, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, data.replace(b"pass", b"PASS") if name == "certificate.json" else data)
    assert verify_bundle(edited).changed == ("certificate.json",)


def test_a_given_signing_key_signs_and_a_pinned_other_key_is_refused(
    certification: Certification, tmp_path: Path
) -> None:
    key = Ed25519PrivateKey.generate()
    pem = tmp_path / "key.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public = tmp_path / "public.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    bundle = write_bundle(certification, tmp_path / "signed", signing_key=pem)
    pinned = verify_bundle(bundle, public)
    assert pinned.intact
    assert "signed by the given key" in pinned.describe()
    assert "the key the bundle carries" in verify_bundle(bundle).describe()  # unpinned: says so
    other = tmp_path / "other.pem"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert verify_bundle(bundle, other).changed == (SIGNATURE,)


def test_an_unreadable_bundle_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(UsageError, match="neither a directory nor a readable zip"):
        verify_bundle(junk)
    assert main(["certify", "verify", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_the_output_directory_must_be_new(certification: Certification, bundle: Path) -> None:
    with pytest.raises(UsageError, match="exists and is not an empty directory"):
        write_bundle(certification, bundle)


def test_a_signing_key_that_is_no_ed25519_pem_is_refused(
    certification: Certification, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("hello")
    with pytest.raises(UsageError, match="not an unencrypted PEM private key"):
        write_bundle(certification, tmp_path / "out", signing_key=bad)
    assert not (tmp_path / "out").exists()


def test_verify_prints_the_verdict_profiles_scenario_count_and_digest(
    bundle: Path, certification: Certification, capsys: pytest.CaptureFixture[str]
) -> None:
    """A two-scenario run's bundle verifies intact, and verify says plainly it is not a certificate."""
    assert main(["certify", "verify", str(bundle)]) == 0
    out = capsys.readouterr().out
    planned = len(certification.policy.plan(None))
    assert "verdict: incomplete (INCOMPLETE: this run is not a certificate)" in out
    assert "profiles: core" in out
    assert f"scenarios: 2 of {planned} planned" in out
    assert f"contract digest: {certification.policy.contract.digest}" in out
    certificate = json.loads((bundle / "certificate.json").read_text())
    assert certificate["verdict"] == "incomplete"
    assert certificate["warning"] == "INCOMPLETE: this run is not a certificate"
    assert certificate["profiles"] == ["core"]


def test_a_signed_bundle_whose_verdict_does_not_follow_from_its_results_fails(
    certification: Certification, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bundle signed with a valid key but claiming `certified` for a partial run is refused (exit 1)."""
    claimed = Decision(CertificateVerdict.CERTIFIED, ())
    monkeypatch.setattr(Certification, "decision", property(lambda _self: claimed))
    forged = write_bundle(certification, tmp_path / "forged")
    monkeypatch.undo()
    check = verify_bundle(forged)
    assert check.exit_status == 1
    assert "certificate.json says 'certified', but its own results say 'incomplete'" in check.describe()


def test_the_bundle_spells_verdicts_as_bundles_always_have(bundle: Path) -> None:
    """certificate.json keeps the spellings bundles signed before the enums carry, so they still verify."""
    certificate = json.loads((bundle / "certificate.json").read_text())
    rulings = {v["verdict"] for v in certificate["verdicts"]}
    rulings |= {o["verdict"] for v in certificate["verdicts"] for o in v["outcomes"]}
    assert certificate["verdict"] == "incomplete"
    assert rulings <= {"pass", "fail", "not exercised", "advice"}
    assert {"pass", "not exercised"} <= rulings


def test_a_rule_verdict_no_bundle_holds_is_named(bundle: Path) -> None:
    """A certificate.json whose rule verdict is misspelled says which spelling, and which it may hold."""
    certificate = json.loads((bundle / "certificate.json").read_text())
    certificate["verdicts"][0]["verdict"] = "passed"
    assert verdict_problem(certificate) == (
        "certificate.json lacks what its verdict rests on (ValueError: a rule's verdict 'passed' is not "
        "one of 'pass', 'fail', 'not exercised', 'advice')"
    )
