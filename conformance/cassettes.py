"""Cassettes (VCR.py through pytest-recording): matching, scrubbing, tagging, pinned time, and lint.

One cassette per suite test, under `cassettes/<module>/<test>.yaml`. Every recorded request carries
`x-conformance-*` headers, added when it is written, never sent: the cassette format, the target it
was recorded from, the target's clock when the test started (replay pins the clock there, so every
ends_at computed from "now" is the same), and the case and contract rows the request exercises, so
a cassette is evidence of what was verified. The API key is filtered from requests and response
headers are dropped. Recordings from a live target replace every insider id and udid of the
profile by a keyed pseudonym (`LA_CASSETTE_PSEUDONYM_KEY`).
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

FORMAT = "1"
TAG = "x-conformance-"
FORMAT_HEADER = TAG + "cassette-format"
START_HEADER = TAG + "test-start"
TARGET_HEADER = TAG + "target"
CASE_HEADER = TAG + "case"
ROWS_HEADER = TAG + "rows"
SECRET_HEADERS = ("x-api-key", "authorization", "x-sandbox-control")
PSEUDONYM_KEY_VARIABLE = "LA_CASSETTE_PSEUDONYM_KEY"
KEPT_RESPONSE_HEADERS = ("content-type",)
# Strings that look like credentials: long runs of key characters, or anything named like a key.
KEY_LIKE = re.compile(
    r"(?i)(?:(?:api[-_]?key|authorization|token)\W{0,4}[:=]\W{0,4}(?:bearer\s+)?|\bbearer\s+)[A-Za-z0-9._~+/-]{12,}"
)


@dataclass(frozen=True)
class TestTags:
    """What every request of one test is tagged with."""

    target: str
    test_start: str  # the target clock when the test started, ISO 8601


@dataclass(frozen=True)
class CaseTags:
    case: str
    rows: str


_TEST: contextvars.ContextVar[TestTags | None] = contextvars.ContextVar("conformance_test", default=None)
_CASE: contextvars.ContextVar[CaseTags | None] = contextvars.ContextVar("conformance_case", default=None)


@contextmanager
def tagging_test(tags: TestTags) -> Iterator[None]:
    token = _TEST.set(tags)
    try:
        yield
    finally:
        _TEST.reset(token)


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

    @staticmethod
    def pseudonym(key: str, identifier: str) -> str:
        digest = hmac.new(key.encode(), identifier.encode(), hashlib.sha256).hexdigest()
        return f"pseudo-{digest[:16]}"

    def apply(self, text: str) -> str:
        for real in sorted(self._map, key=len, reverse=True):  # an id may be a prefix of another
            text = text.replace(real, self._map[real])
        return text

    def identifiers(self) -> tuple[str, ...]:
        return tuple(self._map)


# -- the VCR configuration -------------------------------------------------------------------------


def vcr_config(pseudonyms: Pseudonyms | None) -> dict[str, Any]:
    """The keyword arguments of `vcr.use_cassette` for a suite test (pytest-recording's `vcr_config`)."""

    def before_record_request(request: Any) -> Any:
        test, case = _TEST.get(), _CASE.get()
        request.headers[FORMAT_HEADER] = FORMAT
        if test is not None:
            request.headers[TARGET_HEADER] = test.target
            request.headers[START_HEADER] = test.test_start
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


def recorded_test_start(path: Path, rerecord: str) -> datetime | None:
    """The target clock at the start of the recorded test; None when there is no cassette yet.

    An unreadable cassette, or one of another format, is a CassetteError that names the command
    which records it again.
    """
    if not path.exists():
        return None
    interactions = _interactions(path, rerecord)
    for index, interaction in enumerate(interactions):
        headers = _headers(interaction)
        if headers.get(FORMAT_HEADER) != FORMAT:
            raise CassetteError(
                path,
                Place(path=f"interactions[{index}].request.headers"),
                f"recorded in another cassette format (found {headers.get(FORMAT_HEADER) or 'none'}, "
                f"this suite reads {FORMAT})",
                f"record it again: {rerecord}",
            )
        if START_HEADER in headers:
            return datetime.fromisoformat(headers[START_HEADER])
    return None


def _interactions(path: Path, rerecord: str) -> list[Mapping[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CassetteError(path, Place(), f"cannot be read: {exc}", f"record it again: {rerecord}") from None
    interactions = data.get("interactions") if isinstance(data, dict) else None
    if not isinstance(interactions, list):
        raise CassetteError(
            path, Place(path="interactions"), "no list of interactions", f"record it again: {rerecord}"
        )
    return interactions


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
