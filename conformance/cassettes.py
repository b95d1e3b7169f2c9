"""Cassettes (VCR.py through pytest-recording): matching, scrubbing, tagging, pinned time, and lint.

One cassette per suite test, under `cassettes/<module>/<test>.yaml`. Every recorded request carries
`x-conformance-*` headers, added when it is written, never sent: the cassette format, the target it
was recorded from, the target's clock when the test started, and the case and contract rows the
request exercises, so a cassette is evidence of what was verified. The first request of a live
recording also carries the test's clock readings (see conformance/targets/recordedtime.py). The API
key is filtered from requests and response headers are dropped. Recordings from a live target
replace every insider id and udid of the profile by a keyed pseudonym (`LA_CASSETTE_PSEUDONYM_KEY`)
and name the key by a fingerprint, so that a replay with another key says so.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from vcr.errors import CannotOverwriteExistingCassetteException  # type: ignore[import-untyped]

from conformance.errors import CassetteError, Place
from conformance.files import write_atomically
from conformance.targets.profile import replace_ids

FORMAT = "1"
TAG = "x-conformance-"
FORMAT_HEADER = TAG + "cassette-format"
START_HEADER = TAG + "test-start"
TARGET_HEADER = TAG + "target"
CASE_HEADER = TAG + "case"
ROWS_HEADER = TAG + "rows"
OFFERS_HEADER = TAG + "target-offers"
READINGS_HEADER = TAG + "clock-readings"
PSEUDONYMS_HEADER = TAG + "pseudonym-key"
# Top-level key of the cassette of a test that sent no request: its tags (`write_requestless`).
REQUESTLESS_KEY = TAG + "test"
SECRET_HEADERS = ("x-api-key", "authorization", "x-sandbox-control")
PSEUDONYM_KEY_VARIABLE = "LA_CASSETTE_PSEUDONYM_KEY"
KEPT_RESPONSE_HEADERS = ("content-type",)
# libyaml's safe loader when PyYAML has it (its wheels do): a replay reads every cassette's tags.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Strings that look like credentials: long runs of key characters, or anything named like a key.
KEY_LIKE = re.compile(
    r"(?i)(?:(?:api[-_]?key|authorization|token)\W{0,4}[:=]\W{0,4}(?:bearer\s+)?|\bbearer\s+)[A-Za-z0-9._~+/-]{12,}"
)


@dataclass(frozen=True)
class TestTags:
    """What every request of one test is tagged with."""

    target: str
    test_start: str  # the target clock when the test started, ISO 8601
    offers: str  # what the target offered besides its API (JSON of targets.target.Offers)
    pseudonym_key: str | None  # the fingerprint of the pseudonym key (live recordings)

    def headers(self) -> dict[str, str]:
        headers = {
            FORMAT_HEADER: FORMAT,
            TARGET_HEADER: self.target,
            START_HEADER: self.test_start,
            OFFERS_HEADER: self.offers,
        }
        return headers | ({PSEUDONYMS_HEADER: self.pseudonym_key} if self.pseudonym_key else {})


@dataclass(frozen=True)
class CaseTags:
    case: str
    rows: str


_TEST: contextvars.ContextVar[TestTags | None] = contextvars.ContextVar("conformance_test", default=None)
_CASE: contextvars.ContextVar[CaseTags | None] = contextvars.ContextVar("conformance_case", default=None)
_UNRECORDED: contextvars.ContextVar[bool] = contextvars.ContextVar("conformance_unrecorded", default=False)


@contextmanager
def tagging_test(tags: TestTags) -> Iterator[None]:
    token = _TEST.set(tags)
    try:
        yield
    finally:
        _TEST.reset(token)


@contextmanager
def not_recorded() -> Iterator[None]:
    """Requests sent inside the block reach the target but no cassette (the run's, not a test's)."""
    token = _UNRECORDED.set(True)
    try:
        yield
    finally:
        _UNRECORDED.reset(token)


@contextmanager
def tagging_case(case: str, rows: tuple[str, ...]) -> Iterator[None]:
    token = _CASE.set(CaseTags(case=case, rows=",".join(rows)))
    try:
        yield
    finally:
        _CASE.reset(token)


class Pseudonyms:
    """Stable keyed pseudonyms for the profile's insider ids and udids (live recordings only)."""

    def __init__(self, key: str, identifiers: tuple[str, ...]) -> None:
        self._map = {i: self.pseudonym(key, i) for i in identifiers}
        # Names the key without revealing it: a replay with another key is told so.
        self.fingerprint = hmac.new(key.encode(), b"pseudonym key", hashlib.sha256).hexdigest()[:16]

    @staticmethod
    def pseudonym(key: str, identifier: str) -> str:
        digest = hmac.new(key.encode(), identifier.encode(), hashlib.sha256).hexdigest()
        return f"pseudo-{digest[:16]}"

    def apply(self, text: str) -> str:
        return replace_ids(text, self._map)

    def identifiers(self) -> tuple[str, ...]:
        return tuple(self._map)


# -- the VCR configuration -------------------------------------------------------------------------


def vcr_config(pseudonyms: Pseudonyms | None) -> dict[str, Any]:
    """The keyword arguments of `vcr.use_cassette` for a suite test (pytest-recording's `vcr_config`)."""

    def before_record_request(request: Any) -> Any:
        if _UNRECORDED.get():
            return None
        test, case = _TEST.get(), _CASE.get()
        request.headers[FORMAT_HEADER] = FORMAT
        if test is not None:
            request.headers.update(test.headers())
        if case is not None:
            request.headers[CASE_HEADER] = case.case
            request.headers[ROWS_HEADER] = case.rows
        if pseudonyms is not None and request.body:
            request.body = pseudonyms.apply(_text(request.body)).encode()
        return request

    def before_record_response(response: dict[str, Any]) -> dict[str, Any]:
        headers = response.get("headers", {})
        response["headers"] = {k: v for k, v in headers.items() if k.lower() in KEPT_RESPONSE_HEADERS}
        body = response.get("body", {})
        if pseudonyms is not None and body.get("string"):
            body["string"] = pseudonyms.apply(_text(body["string"])).encode()
        return response

    return {
        "match_on": ["method", "path", "json_body"],
        "filter_headers": list(SECRET_HEADERS),
        "before_record_request": before_record_request,
        "before_record_response": before_record_response,
        "decode_compressed_response": True,
        "allow_playback_repeats": False,
    }


def json_body(first: Any, second: Any) -> None:
    """Match on the JSON value of the body (key order and spacing aside), or else on the exact bytes.

    Identical bytes match at once (a cassette of a thousand identical fillers replays in linear time).
    JSON is compared canonically, so `true` never equals `1` nor `1` equal `1.0`.
    """
    a, b = _bytes(first.body), _bytes(second.body)
    if a == b:
        return
    canonical_a, canonical_b = _canonical(a), _canonical(b)
    if canonical_a is None or canonical_a != canonical_b:
        raise AssertionError(f"bodies differ: {_short(a)} != {_short(b)}")


def _bytes(body: bytes | str | None) -> bytes:
    return body.encode() if isinstance(body, str) else (body or b"")


def _canonical(body: bytes) -> str | None:
    try:
        return json.dumps(json.loads(body.decode("utf-8")), sort_keys=True, separators=(",", ":"))
    except ValueError:  # not UTF-8 (UnicodeDecodeError is a ValueError), or not JSON
        return None


def _text(body: bytes | str) -> str:
    return body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body


def _short(body: bytes | str | None) -> str:
    text = _text(body or b"")
    return text if len(text) < 200 else text[:200] + "..."


# -- where cassettes live, and what to say when one lacks a request -------------------------------


def default_cassette_dir() -> Path:
    """The checkout's `cassettes/` next to `contracts/`, else `./cassettes`."""
    checkout = Path(__file__).resolve().parents[1] / "cassettes"
    return checkout if (checkout.parent / "contracts").is_dir() else Path.cwd() / "cassettes"


def rerecord_command(test_name: str) -> str:
    """The command that records a test's cassettes again (every parameter of the test function)."""
    function = test_name.split("[", 1)[0]
    return f"conformance run --record-mode=rewrite -k {function}"


def unrecorded_message(error: BaseException, test_name: str) -> str | None:
    """One message for a request a cassette does not hold, or None when `error` is something else."""
    found = _find_unrecorded(error)
    if found is None:
        return None
    request = found.failed_request
    body = _short(request.body)
    return (
        f"no recorded interaction for this request in {getattr(found.cassette, '_path', 'the cassette')}\n"
        f"  test     {test_name}\n"
        f"  request  {request.method} {request.path} {body}\n"
        f"  fix      record it again (from the sandbox; add --target live ... for a live target): "
        f"{rerecord_command(test_name)}"
    )


def unreadable_message(error: BaseException, path: Path, test_name: str) -> str | None:
    """One message for a cassette VCR.py could not load (broken YAML, an older VCR format)."""
    if not isinstance(error, yaml.YAMLError | ValueError | KeyError | TypeError):
        return None
    mark = getattr(error, "problem_mark", None)
    place = Place(line=mark.line + 1) if mark is not None else Place()
    problem = f"cannot be read as a cassette: {type(error).__name__}: {str(error).splitlines()[0]}"
    return str(CassetteError(path, place, problem, f"record it again: {rerecord_command(test_name)}"))


def _find_unrecorded(error: BaseException | None) -> Any:
    seen: set[int] = set()
    stack = [error]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, CannotOverwriteExistingCassetteException):
            return current
        stack += [current.__cause__, current.__context__, *getattr(current, "exceptions", ())]
    return None


# -- reading cassettes back ------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedTest:
    """What a cassette says about the test it recorded, beyond its interactions."""

    start: datetime | None  # the target clock when the test started
    offers: str  # what the target offered (JSON of targets.target.Offers)
    readings: list[Any] | None  # the clock readings a live recording kept, in order
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
        _check_format(path, f"interactions[{index}].request.headers", _headers(interaction), rerecord)
    where = "interactions[0].request.headers" if interactions else REQUESTLESS_KEY
    tags = _headers(interactions[0]) if interactions else _flat(data.get(REQUESTLESS_KEY))
    if not interactions:  # the loop checked the requests' tags
        _check_format(path, where, tags, rerecord)
    try:
        return RecordedTest(
            start=datetime.fromisoformat(tags[START_HEADER]),
            offers=tags[OFFERS_HEADER],
            readings=json.loads(tags[READINGS_HEADER]) if READINGS_HEADER in tags else None,
            pseudonym_key=tags.get(PSEUDONYMS_HEADER),
        )
    except (KeyError, ValueError) as error:
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


def keep_readings(cassette: Any, readings: list[Any]) -> None:
    """Store a test's clock readings on the first request its cassette (VCR.py's, unsaved) recorded."""
    if readings and len(cassette):
        first_request, _ = cassette.data[0]
        first_request.headers[READINGS_HEADER] = json.dumps(readings, separators=(",", ":"))


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


def _interactions(path: Path, rerecord: str) -> list[Mapping[str, Any]]:
    interactions: list[Mapping[str, Any]] = _load(path, rerecord)["interactions"]
    return interactions


def _flat(tags: object) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {}


def _headers(interaction: Mapping[str, Any]) -> dict[str, str]:
    """A recorded request's headers; VCR stores each as a list of values."""
    raw = interaction.get("request", {}).get("headers", {}) if isinstance(interaction, Mapping) else {}
    return {str(k).lower(): str(v[0] if isinstance(v, list) and v else v) for k, v in (raw or {}).items()}


# -- lint ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    path: Path
    place: str
    problem: str


def lint(directory: Path, *, secrets: tuple[str, ...], personal: tuple[str, ...]) -> list[Finding]:
    """Anything that looks like a key, a token or an unscrubbed id, in every cassette under `directory`.

    `secrets` are the keys the profile knows; `personal` the profile's insider ids and udids, which
    must not appear in a cassette recorded from a live target.
    """
    findings: list[Finding] = []
    for path in sorted(directory.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8", errors="replace")
        findings += _lint_text(path, text, secrets)
        try:
            interactions = _interactions(path, "")
        except CassetteError as error:
            findings.append(Finding(path, str(error.place), error.problem))
            continue
        for index, interaction in enumerate(interactions):
            headers = _headers(interaction)
            findings += [
                Finding(path, f"interactions[{index}].request.headers.{h}", "a credential header is stored")
                for h in SECRET_HEADERS
                if h in headers
            ]
            if headers.get(TARGET_HEADER, "sandbox") != "sandbox":
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
