"""Checking a certificate bundle offline: every file against the signed manifest, and the signature.

A single changed byte is named precisely: a listed file whose sum differs; the manifest (its sum
no longer matches the one the signature file recorded, and the signature fails); the signature
file (the manifest is whole, yet the signature or its recorded sum does not match); the public key
(its sum is in the manifest).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from conformance.certify.bundle import CERTIFICATE, MANIFEST, PUBLIC_KEY, SIGNATURE, fingerprint
from conformance.certify.entries import read_entries
from conformance.certify.verdict import certificate_summary
from conformance.core import strict_json
from conformance.core.errors import UsageError


@dataclass(frozen=True)
class BundleCheck:
    intact: bool
    changed: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    fingerprint: str  # of the key that signed it, "" when unknown
    problems: tuple[str, ...]  # why, in words
    pinned: bool = False  # the key was given by the recipient, not read from the bundle
    refused: tuple[str, ...] = ()  # entries no bundle holds ("NAME: why"): nothing else was checked
    summary: str = ""  # the certificate's verdict, profiles, scenario count, contract digest

    @property
    def exit_status(self) -> int:
        return 0 if self.intact else 1

    def describe(self) -> str:
        return self.summary + self._describe_files()

    def _describe_files(self) -> str:
        if self.intact:
            if self.pinned:
                return (
                    f"intact: every file matches the manifest, signed by the given key {self.fingerprint}\n"
                )
            return (
                f"intact: every file matches the manifest, signed by {self.fingerprint}: the key the bundle "
                "carries: compare it with the one its sender gave you (or pass --public-key)\n"
            )
        if self.refused:
            lines = [
                "REFUSED: this bundle holds entries no certificate bundle holds; nothing else was checked"
            ]
            return "\n".join(lines + [f"  refused: {why}" for why in self.refused]) + "\n"
        lines = ["EDITED: this bundle is not as it was signed"]
        lines += [f"  changed: {name}" for name in self.changed]
        lines += [f"  added:   {name}" for name in self.added]
        lines += [f"  removed: {name}" for name in self.removed]
        lines += [f"  ({problem})" for problem in self.problems]
        return "\n".join(lines) + "\n"


def verify_bundle(path: Path, public_key: Path | None = None) -> BundleCheck:
    """Check `path` (a bundle directory or zip); `public_key` pins the key it must be signed with."""
    entries = read_entries(path, whole=(MANIFEST, SIGNATURE, PUBLIC_KEY, CERTIFICATE))
    if entries.refused:
        # Which of two entries of one name, or what a symlink points to, is not ours to guess.
        return BundleCheck(False, (), (), (), "", (), refused=tuple(entries.refused))
    files, digests, corrupt = entries.whole, entries.digests, entries.corrupt
    if MANIFEST not in digests and SIGNATURE not in digests:
        raise UsageError(
            path,
            "BUNDLE",
            f"holds no {MANIFEST}: not a certificate bundle",
            "pass what `conformance certify --output` wrote",
        )
    key = _public_key(public_key.read_bytes() if public_key else files.get(PUBLIC_KEY))
    signed_by = fingerprint(key) if key else ""
    missing = tuple(n for n in (MANIFEST, SIGNATURE) if n not in digests)
    manifest = files.get(MANIFEST, b"")
    listed = _listed(manifest)
    unsigned = _signature_problem(manifest, files[SIGNATURE], key) if SIGNATURE in files else None
    if missing or listed is None or unsigned == MANIFEST:
        # An edited manifest cannot vouch for the other files: it alone is named.
        why = (
            "the manifest does not match its signature"
            if listed is not None
            else f"{MANIFEST} is not the JSON the bundle was signed with"
        )
        named: tuple[str, ...] = () if missing else (MANIFEST,)
        return BundleCheck(False, named, (), missing, signed_by, () if missing else (why,))
    present = entries.names()
    removed = tuple(sorted(n for n in listed if n not in present))
    added = tuple(sorted(n for n in present if n not in listed and n not in (MANIFEST, SIGNATURE)))
    changed = [
        n for n, digest in sorted(listed.items()) if n in corrupt or (n in digests and digests[n] != digest)
    ]
    problems = []
    if unsigned is not None and not (PUBLIC_KEY in changed and public_key is None):
        changed.append(SIGNATURE)
        problems.append(unsigned)
    if public_key is not None and key is None:
        problems.append(f"{public_key} is no Ed25519 public key in PEM")
    summary, verdict_wrong = certificate_summary(files.get(CERTIFICATE))
    if verdict_wrong is not None:
        problems.append(verdict_wrong)
    intact = not (changed or added or removed or problems)
    return BundleCheck(
        intact,
        tuple(changed),
        added,
        removed,
        signed_by,
        tuple(problems),
        pinned=public_key is not None,
        summary=summary,
    )


def _listed(manifest: bytes | None) -> dict[str, str] | None:
    try:
        data = strict_json.loads(manifest or b"")
    except ValueError:
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        return None
    return {str(k): v for k, v in files.items()}


def _public_key(text: bytes | None) -> Ed25519PublicKey | None:
    try:
        key = serialization.load_pem_public_key(text or b"")
    except (ValueError, TypeError):
        return None
    return key if isinstance(key, Ed25519PublicKey) else None


def _signature_problem(manifest: bytes, signature_file: bytes, key: Ed25519PublicKey | None) -> str | None:
    """None when the signature holds; MANIFEST when the manifest changed; else what is wrong with the rest."""
    try:
        data = strict_json.loads(signature_file)
        recorded = str(data["manifest_sha256"])
        signature = bytes.fromhex(str(data["signature"]))
    except (ValueError, KeyError, TypeError):
        return f"{SIGNATURE} is not the signature file the bundle was written with"
    if key is None:
        return "no usable public key to check the signature with"
    try:
        key.verify(signature, manifest)
    except InvalidSignature:
        if hashlib.sha256(manifest).hexdigest() != recorded:
            return MANIFEST
        return "the signature does not verify with this public key"
    if hashlib.sha256(manifest).hexdigest() != recorded:
        return f"{SIGNATURE} records another manifest sum"
    return None
