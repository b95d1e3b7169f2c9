"""VCR.py's configuration for suite tests: what is matched, what is kept, what is tagged and scrubbed.

Requests match on method, path and the JSON value of the body; the API key is filtered from requests
and response headers are dropped; each recorded request gets the tags of its test and case.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.cassettes.pseudonyms import Pseudonyms
from conformance.cassettes.tags import FORMAT, FORMAT_HEADER, current
from conformance.core.printable import redact

SECRET_HEADERS = ("x-api-key", "authorization", "x-sandbox-control")
KEPT_RESPONSE_HEADERS = ("content-type",)


def vcr_config(pseudonyms: Pseudonyms | None, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
    """The keyword arguments of `vcr.use_cassette` for a suite test (pytest-recording's `vcr_config`);
    `secrets` (the profile's keys) are redacted from response bodies, where a target may echo them."""

    def before_record_request(request: Any) -> Any:
        tags = current()  # set around the send by the suite: see tags.py
        if not tags.recorded:
            return None
        request.headers[FORMAT_HEADER] = FORMAT
        if tags.test is not None:
            request.headers.update(tags.test.headers())
        if tags.case is not None:
            request.headers.update(tags.case.headers())
        if pseudonyms is not None and request.body:
            request.body = pseudonyms.apply(text(request.body)).encode()
        return request

    def before_record_response(response: dict[str, Any]) -> dict[str, Any]:
        headers = response.get("headers", {})
        response["headers"] = {k: v for k, v in headers.items() if k.lower() in KEPT_RESPONSE_HEADERS}
        body = response.get("body", {})
        if body.get("string") and (pseudonyms is not None or secrets):
            kept = redact(text(body["string"]), secrets)
            body["string"] = (pseudonyms.apply(kept) if pseudonyms is not None else kept).encode()
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
        raise AssertionError(f"bodies differ: {short(a)} != {short(b)}")


def _bytes(body: bytes | str | None) -> bytes:
    return body.encode() if isinstance(body, str) else (body or b"")


def _canonical(body: bytes) -> str | None:
    try:
        return json.dumps(json.loads(body.decode("utf-8")), sort_keys=True, separators=(",", ":"))
    except ValueError:  # not UTF-8 (UnicodeDecodeError is a ValueError), or not JSON
        return None


def text(body: bytes | str) -> str:
    return body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body


def short(body: bytes | str | None) -> str:
    """A body for a message: its first 200 characters."""
    whole = text(body or b"")
    return whole if len(whole) < 200 else whole[:200] + "..."
