"""Reading a cassette's tags back, and writing what VCR.py does not: clock readings, tags-only cassettes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from conformance.cassettes.tags import (
    FORMAT,
    FORMAT_HEADER,
    OFFERS_HEADER,
    PSEUDONYMS_HEADER,
    READINGS_HEADER,
    REQUESTLESS_KEY,
    START_HEADER,
    TestTags,
)
from conformance.core.clock import ClockReading
from conformance.core.errors import CassetteError, Place
from conformance.core.files import write_atomically
from conformance.profile.offers import Offers

# libyaml's safe loader when PyYAML has it (its wheels do): a replay reads every cassette's tags.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class RecordedTest:
    """What a cassette says about the test it recorded, beyond its interactions."""

    start: datetime | None  # the target clock when the test started
    offers: Offers  # what the target offered
    readings: list[ClockReading] | None  # the clock readings a live recording kept, in order
    pseudonym_key: str | None  # the fingerprint of the pseudonym key (live recordings)


def read_recorded_test(path: Path, rerecord: str) -> RecordedTest | None:
    """The recorded test's tags; None when there is no cassette yet.

    An unreadable cassette, one of another format, or one whose tags are damaged is a CassetteError
    that names the command which records it again.
    """
    if not path.exists():
        return None
    data = _load(path, rerecord)
    interactions = data["interactions"]
    for index, interaction in enumerate(interactions):
        _check_format(path, f"interactions[{index}].request.headers", headers(interaction), rerecord)
    where = "interactions[0].request.headers" if interactions else REQUESTLESS_KEY
    tags = headers(interactions[0]) if interactions else _flat(data.get(REQUESTLESS_KEY))
    if not interactions:  # the loop checked the requests' tags
        _check_format(path, where, tags, rerecord)
    try:
        readings = json.loads(tags[READINGS_HEADER]) if READINGS_HEADER in tags else None
        return RecordedTest(
            start=datetime.fromisoformat(tags[START_HEADER]),
            offers=Offers.from_json(tags[OFFERS_HEADER]),
            readings=[ClockReading.from_json(r) for r in readings] if readings is not None else None,
            pseudonym_key=tags.get(PSEUDONYMS_HEADER),
        )
    except (KeyError, ValueError, TypeError) as error:
        raise CassetteError(
            path, Place(path=where), f"a missing or damaged tag: {error}", f"record it again: {rerecord}"
        ) from None


def _check_format(path: Path, where: str, tags: Mapping[str, str], rerecord: str) -> None:
    if tags.get(FORMAT_HEADER) != FORMAT:
        raise CassetteError(
            path,
            Place(path=where),
            f"recorded in another cassette format (found {tags.get(FORMAT_HEADER) or 'none'}, "
            f"this suite reads {FORMAT})",
            f"record it again: {rerecord}",
        )


def keep_readings(cassette: Any, readings: list[ClockReading]) -> None:
    """Store a test's clock readings on the first request its cassette (VCR.py's, unsaved) recorded."""
    if readings and len(cassette):
        first_request, _ = cassette.data[0]
        kept = [r.to_json() for r in readings]
        first_request.headers[READINGS_HEADER] = json.dumps(kept, separators=(",", ":"))


def write_requestless(path: Path, tags: TestTags) -> None:
    """The cassette of a test that sent no request (VCR.py writes none): its tags, no interactions.

    Its replay then takes the same path (a skip for want of what the target did not offer), and
    a cassette left from an older recording of the test is replaced.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"interactions": [], "version": 1, REQUESTLESS_KEY: tags.headers()}
    write_atomically(path, yaml.safe_dump(data, sort_keys=False))


def _load(path: Path, rerecord: str) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506 (a safe loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CassetteError(path, Place(), f"cannot be read: {exc}", f"record it again: {rerecord}") from None
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteError(
            path, Place(path="interactions"), "no list of interactions", f"record it again: {rerecord}"
        )
    return data


def interactions(path: Path, rerecord: str) -> list[Mapping[str, Any]]:
    interactions: list[Mapping[str, Any]] = _load(path, rerecord)["interactions"]
    return interactions


def _flat(tags: object) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {}


def headers(interaction: Mapping[str, Any]) -> dict[str, str]:
    """A recorded request's headers; VCR stores each as a list of values."""
    raw = interaction.get("request", {}).get("headers", {}) if isinstance(interaction, Mapping) else {}
    return {str(k).lower(): str(v[0] if isinstance(v, list) and v else v) for k, v in (raw or {}).items()}
