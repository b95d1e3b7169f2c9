"""A customer request as the checks and actions see it: headers read and the body parsed, once."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JSON_MEDIA_TYPE = "application/json"
# A body of whitespace only: no behaviour.yaml case names it; the body check says whose code it gets
# (the reading unparseable-body-code).
BLANK_BODY = "blank"


@dataclass(frozen=True)
class Incoming:
    """One request to a customer endpoint.

    `key` is the X-Api-Key value: it decides the account and owns activities, and never leaves the
    sandbox (the journal records `account`, the state, instead). `body_case` names the body rule the
    body breaks (behaviour.yaml `body` cases, or `BLANK_BODY`), None when `data` is the parsed JSON object.
    """

    endpoint: str
    path: str
    method: str
    key: str | None
    account: str
    json_content_type: bool
    body_case: str | None
    data: Mapping[str, Any] = field(default_factory=dict)


def is_json_media_type(content_type: str | None) -> bool:
    """`application/json`, any case, parameters such as charset allowed."""
    if content_type is None:
        return False
    return content_type.split(";", 1)[0].strip().lower() == JSON_MEDIA_TYPE


def parse_body(raw: bytes, *, too_large: bool) -> tuple[str | None, dict[str, Any]]:
    """(body case, object): the case is None only for a JSON object, which is then returned."""
    if too_large:
        return "unparseable", {}
    if not raw:
        return "empty", {}
    if not raw.strip():
        return BLANK_BODY, {}
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        # ValueError covers bad JSON, bad UTF-8 and over-long integers; RecursionError deep nesting.
        return "unparseable", {}
    if not isinstance(data, dict):
        return "not_object", {}
    if not data:
        return "empty_object", {}
    return None, data


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON (RFC 8259), although Python's parser accepts them by default.
    raise ValueError(f"{name} is not JSON")
