"""The certificate bundle: verdicts, contract hashes, scenarios, redacted evidence, JUnit, HTML, and a
manifest of sha256 sums signed with Ed25519.

What the signature proves: that no byte of any listed file changed since the holder of the private
key wrote the bundle. With a fresh key (the default; its private half is thrown away) it proves
only that the bundle is whole as written, and only to someone who got the key's fingerprint by
another channel (the vendor sends it with the bundle, e.g. in the e-mail); with `--signing-key`
whose public key is published, it also proves who wrote it. It does not prove the run was honest:
whoever runs the harness can run a patched one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from conformance.certify.findings import Certification
from conformance.certify.render import render_html, render_junit
from conformance.certify.verdict import NOT_A_CERTIFICATE, CertificateVerdict
from conformance.core import strict_json
from conformance.core.clock import rfc3339
from conformance.core.errors import UsageError
from conformance.profile.target_profile import replace_ids

MANIFEST = "MANIFEST.json"
CERTIFICATE = "certificate.json"
SIGNATURE = "MANIFEST.sig"
PUBLIC_KEY = "public_key.pem"
REDACTED = "<redacted>"


def suite_version() -> str:
    try:
        return version("insider-la-conformance")
    except PackageNotFoundError:
        return "unknown"


def fingerprint(key: Ed25519PublicKey) -> str:
    """`ed25519:` + sha256 of the raw public key: what a vendor tells the recipient by another channel."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()


def redactor(c: Certification) -> Any:
    """text -> text with every key of the profile replaced and every insider id and udid pseudonymised."""
    replacements = {**dict(c.aliases), **dict.fromkeys(c.secrets, REDACTED)}

    def redact(text: str) -> str:
        return replace_ids(text, replacements)

    return redact


def bundle_files(c: Certification) -> dict[str, bytes]:
    """Every file of the bundle except the manifest, its signature and the key, redacted."""
    redact = redactor(c)
    contract = c.policy.contract
    meta = {
        "suite_version": suite_version(),
        "contract_digest": contract.digest,
        "certification_digest": c.policy.digest,
        "mode": c.mode,
        "started": rfc3339(c.started),
    }
    decision = c.decision
    certificate = {
        "format": 1,
        "verdict": decision.verdict,
        "verdict_reasons": list(decision.reasons),
        **({"warning": NOT_A_CERTIFICATE} if decision.verdict == CertificateVerdict.INCOMPLETE else {}),
        "profiles": list(c.profiles),
        "plan": c.plan_json(),
        "subject": c.subject,
        **meta,
        "wall_seconds": round(c.wall_seconds, 3),
        "counts": c.counts(),
        "exit_status": c.exit_status,
        "verdicts": [v.to_json() for v in c.verdicts.values()],
    }
    files = {
        CERTIFICATE: _json(certificate),
        "contract-sha256.json": _json(contract_hashes(contract.directory)),
        "scenarios.json": _json(
            {
                "budget": dataclasses.asdict(c.policy.budget),
                "scenarios": [r.scenario.to_json() for r in c.runs],
            }
        ),
        "junit.xml": render_junit(c, meta),
        "summary.html": render_html(c, meta),
        **{f"evidence/{run.scenario.name}.json": _json(run.to_json()) for run in c.runs},
    }
    return {name: redact(text).encode() for name, text in files.items()}


def contract_hashes(directory: Path) -> dict[str, str]:
    return {
        path.relative_to(directory).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def _json(data: Any) -> str:
    """Strict JSON (no NaN or Infinity: strict parsers reject them), one space per level."""
    return strict_json.dumps(data, indent=1) + "\n"


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise UsageError(
            path, "--signing-key", f"cannot be read: {exc.strerror or exc}", "pass a readable PEM file"
        ) from None
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise UsageError(
            path,
            "--signing-key",
            "not an unencrypted PEM private key",
            "make one with `openssl genpkey -algorithm ed25519 -out key.pem`",
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(
            path,
            "--signing-key",
            "the key is not an Ed25519 key",
            "make one with `openssl genpkey -algorithm ed25519`",
        )
    return key


def write_bundle(
    certification: Certification, directory: Path, *, signing_key: Path | None = None, zip_it: bool = False
) -> Path:
    """Write the bundle to `directory` (which must not exist or be empty), and `directory`.zip if asked.

    The files are written beside it first and moved into place whole, so a failure leaves nothing
    half-written. Returns the directory (or the zip).
    """
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise UsageError(
            directory, "--output", "exists and is not an empty directory", "choose a new --output directory"
        )
    key = load_signing_key(signing_key) if signing_key else Ed25519PrivateKey.generate()
    files = bundle_files(certification)
    files[PUBLIC_KEY] = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    manifest = _json(
        {
            "format": 1,
            "hash": "sha256",
            "signature": "ed25519 over the bytes of MANIFEST.json",
            "public_key_fingerprint": fingerprint(key.public_key()),
            "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
        }
    ).encode()
    files[MANIFEST] = manifest
    files[SIGNATURE] = _json(
        {"manifest_sha256": hashlib.sha256(manifest).hexdigest(), "signature": key.sign(manifest).hex()}
    ).encode()
    staging = directory.with_name(f".{directory.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        for name, data in files.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if directory.exists():
            directory.rmdir()
        staging.rename(directory)
        if zip_it:
            return _zip(directory, files)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise UsageError(
            directory, "--output", f"cannot be written: {exc.strerror or exc}", "choose a writable directory"
        ) from None
    return directory


def _zip(directory: Path, files: dict[str, bytes]) -> Path:
    target = directory.with_suffix(".zip")
    partial = target.with_name(f".{target.name}.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    partial.replace(target)
    return target
