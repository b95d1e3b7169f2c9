"""The `json_body` matcher: the JSON value of a body (key order and spacing aside), else its exact bytes."""

from __future__ import annotations

import pytest
from vcr.request import Request  # type: ignore[import-untyped]  # VCR.py ships no type hints

from conformance.cassettes.vcr import json_body


def _request(body: bytes | str | None) -> Request:
    return Request("POST", "http://sandbox.invalid/api/v1/live-activity/register", body, {})


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (b'{"a": 1, "b": [1, 2]}', b'{"b":[1,2],"a":1}'),
        (b'{"a": {"x": "y", "z": null}}', b'{\n  "a": {"z": null,\n "x": "y"}\n}'),
        (b"[1, 2]", b" [1,2] \n"),
        (b'"register"', '"register"'),
        (b"42", b"42"),
        (b"activity_type=x", "activity_type=x"),
        (b"", None),
        (b"", b""),
        (b"  \n", b"  \n"),
    ],
    ids=[
        "key order",
        "nesting and newlines",
        "array spacing",
        "bytes and str",
        "number",
        "raw",
        "empty and none",
        "empty",
        "whitespace only",
    ],
)
def test_equal_bodies_match(first: bytes | str | None, second: bytes | str | None) -> None:
    """Bodies with the same JSON value, or the same raw text, match (in both directions)."""
    json_body(_request(first), _request(second))
    json_body(_request(second), _request(first))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (b'{"a": 1}', b'{"a": 2}'),
        (b'{"a": 1}', b'{"a": 1, "b": 1}'),
        (b"[1, 2]", b"[2, 1]"),
        (b'{"a": "1"}', b'{"a": 1}'),
        (b"activity_type=x", b"activity_type=x "),
        (b"activity_type=x", b"Activity_type=x"),
        (b"", b"  \n"),
        (b'{"activity_type": ', b'{"activity_type":'),
        (b'"x"', b"x"),
    ],
    ids=[
        "value",
        "extra key",
        "array order",
        "string and number",
        "raw trailing space",
        "raw case",
        "empty and whitespace",
        "truncated JSON spacing",
        "JSON string and raw",
    ],
)
def test_different_bodies_do_not_match(first: bytes, second: bytes) -> None:
    """A different JSON value, or raw text differing in any character, does not match."""
    with pytest.raises(AssertionError, match="bodies differ"):
        json_body(_request(first), _request(second))


def test_a_mismatch_names_both_bodies() -> None:
    """The AssertionError shows both bodies, so VCR's report says what differs."""
    with pytest.raises(AssertionError) as raised:
        json_body(_request(b'{"ends_at": "2026-01-01T00:05:00Z"}'), _request(b"not json"))
    message = str(raised.value)
    assert '{"ends_at": "2026-01-01T00:05:00Z"}' in message
    assert "not json" in message


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (b'{"a": true}', b'{"a": 1}'),
        (b'{"a": 1}', b'{"a": 1.0}'),
        (b"\xff", b"\xfe"),
        (b'{"a": "\xff"}', b'{"a": "\xfe"}'),
    ],
    ids=["true and 1", "1 and 1.0", "invalid bytes", "invalid bytes in JSON"],
)
def test_json_values_are_compared_by_type_and_raw_bodies_byte_for_byte(first: bytes, second: bytes) -> None:
    """true is not 1, 1 is not 1.0, and bodies of different bytes that are not UTF-8 do not match."""
    with pytest.raises(AssertionError, match="bodies differ"):
        json_body(_request(first), _request(second))
