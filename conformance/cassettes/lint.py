"""Lint: anything in a cassette that looks like a key, a token or a real person's id."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from conformance.cassettes.recorded import headers, interactions
from conformance.cassettes.tags import TARGET_HEADER
from conformance.cassettes.vcr import SECRET_HEADERS
from conformance.core.errors import CassetteError

# Strings that look like credentials: long runs of key characters, or anything named like a key.
KEY_LIKE = re.compile(
    r"(?i)(?:(?:api[-_]?key|authorization|token)\W{0,4}[:=]\W{0,4}(?:bearer\s+)?|\bbearer\s+)[A-Za-z0-9._~+/-]{12,}"
)


@dataclass(frozen=True)
class Finding:
    path: Path
    place: str
    problem: str


def lint(
    directory: Path, *, secrets: tuple[str, ...], personal: tuple[str, ...], personal_kinds: Collection[str]
) -> list[Finding]:
    """Anything that looks like a key, a token or an unscrubbed id, in every cassette under `directory`.

    `secrets` are the keys the profile knows; `personal` the profile's insider ids and udids, which
    must not appear in a cassette recorded from a kind of target whose data is personal
    (`personal_kinds`: a live one).
    """
    findings: list[Finding] = []
    for path in sorted(directory.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8", errors="replace")
        findings += _lint_text(path, text, secrets)
        try:
            recorded = interactions(path, "")
        except CassetteError as error:
            findings.append(Finding(path, str(error.place), error.problem))
            continue
        for index, interaction in enumerate(recorded):
            tags = headers(interaction)
            findings += [
                Finding(path, f"interactions[{index}].request.headers.{h}", "a credential header is stored")
                for h in SECRET_HEADERS
                if h in tags
            ]
            if tags.get(TARGET_HEADER) in personal_kinds:
                findings += [
                    Finding(path, f"interactions[{index}]", f"unpseudonymised id {_mask(p)!r}")
                    for p in personal
                    if p in json.dumps(interaction, default=str)
                ]
    return findings


def _lint_text(path: Path, text: str, secrets: tuple[str, ...]) -> list[Finding]:
    found = [
        Finding(
            path, f"line {text[: m.start()].count(chr(10)) + 1}", "something that looks like a credential"
        )
        for m in KEY_LIKE.finditer(text)
    ]
    found += [
        Finding(path, "(anywhere)", f"the profile key {_mask(s)!r}") for s in secrets if s and s in text
    ]
    return found


def _mask(value: str) -> str:
    return value[:3] + "..." if len(value) > 3 else "..."
