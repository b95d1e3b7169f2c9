"""The table parser (conformance/contract/table.py) on the real vendor table and on broken copies."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from conformance.contract.loader import endpoint_paths, read_yaml
from conformance.contract.table import build_errors_document
from conformance.core.errors import ContractError
from tests.self.contract.contract_cases import CONTRACTS, case_params, replace_once

SIX = ("register", "add-users", "remove-users", "start", "update", "end")
TABLE_TEXT = (CONTRACTS / "error-table.md").read_text(encoding="utf-8")
SOURCE = "error-table.md"

# The retry class each row joins to; None where the retry table has no class for the row.
RETRY_CLASS = {
    "VALIDATION_FAILED": "400 (validation)",
    "PARTNER_REQUIRED": "400 (validation)",
    "REQUEST_INVALID": "400 (validation)",
    "ACTIVITY_TYPE_REQUIRED": "400 (validation)",
    "ACTIVITY_ID_REQUIRED": "400 (validation)",
    "INSIDER_IDS_OUT_OF_RANGE": "400 (validation)",
    "ENDS_AT_IN_PAST": "400 (validation)",
    "ENDS_AT_TOO_SOON": "400 (validation)",
    "ENDS_AT_TOO_FAR": "400 (validation)",
    "TARGET_DEVICES_INVALID": "400 (validation)",
    "HTTP_401": "401 (auth)",
    "LIVE_ACTIVITY_DISABLED": "403 LIVE_ACTIVITY_DISABLED",
    "APP_NOT_FOUND": None,
    "NOT_FOUND": "404 NOT_FOUND",
    "PROFILE_NOT_FOUND": None,
    "ALREADY_STARTED": "409 ALREADY_STARTED",
    "APNS_CERT_MISSING": "412 APNS_CERT_*",
    "APNS_CERT_TYPE_UNSUPPORTED": "412 APNS_CERT_*",
    "PUSH_TOKEN_NOT_SYNCED": "412 PUSH_TOKEN_NOT_SYNCED",
    "NO_ELIGIBLE_DEVICE": "422 NO_ELIGIBLE_DEVICE",
    "HTTP_429": "429 (rate limit)",
    "UPSTREAM_UNAVAILABLE": "502 UPSTREAM_UNAVAILABLE",
    "HTTP_503": "503 (authorization layer)",
}


def _endpoints() -> list[str]:
    path = CONTRACTS / "openapi.yaml"
    return list(endpoint_paths(read_yaml(path, path.read_text(encoding="utf-8")), path))


def _parse(text: str) -> dict[str, Any]:
    return build_errors_document(text, source=SOURCE, endpoints=_endpoints())


@functools.cache
def _document() -> dict[str, Any]:
    return _parse(TABLE_TEXT)


def _row(row_id: str) -> dict[str, Any]:
    row: dict[str, Any] = next(r for r in _document()["rows"] if r["id"] == row_id)
    return row


def test_real_table_has_23_rows_in_order() -> None:
    """The real table parses to its 23 rows, in the published order, one per retry-joined id."""
    assert [r["id"] for r in _document()["rows"]] == list(RETRY_CLASS)


def test_all_expands_to_the_six_endpoints() -> None:
    """`All` becomes the six endpoint names of openapi.yaml, with no qualifiers."""
    assert tuple(_endpoints()) == SIX
    assert _row("VALIDATION_FAILED")["endpoints"] == list(SIX)
    assert _row("VALIDATION_FAILED")["endpoint_qualifiers"] == {}


def test_named_endpoints_are_kept_in_table_order() -> None:
    """A `a / b / c` cell becomes exactly those endpoints."""
    assert _row("ACTIVITY_TYPE_REQUIRED")["endpoints"] == ["register", "start", "update", "end"]
    assert _row("PUSH_TOKEN_NOT_SYNCED")["endpoints"] == ["update", "end"]


def test_register_single_keeps_its_qualifier_as_data() -> None:
    """`register (single)` is the endpoint register plus the qualifier `single`."""
    assert _row("PROFILE_NOT_FOUND")["endpoints"] == ["register"]
    assert _row("PROFILE_NOT_FOUND")["endpoint_qualifiers"] == {"register": "single"}


@pytest.mark.parametrize(
    ("row_id", "body"),
    [("HTTP_401", "sometimes"), ("HTTP_503", "sometimes"), ("HTTP_429", "never"), ("NOT_FOUND", "always")],
)
def test_body_presence(row_id: str, body: str) -> None:
    """401 and 503 have a body only sometimes (the preamble says "some"), 429 never, coded rows always."""
    assert _row(row_id)["body"] == body
    assert (_row(row_id)["code"] is None) == (body != "always")


@pytest.mark.parametrize(("row_id", "error_class"), RETRY_CLASS.items())
def test_retry_class_join(row_id: str, error_class: str | None) -> None:
    """Each row joins the retry class naming its code, else the one labelling its status, else none."""
    retry = _row(row_id)["retry"]
    assert (retry and retry["error_class"]) == error_class


def test_502_retry_is_safe_on_idempotent_endpoints_only() -> None:
    """The 502 row keeps its retry condition "on idempotent endpoints" as data."""
    retry = _row("UPSTREAM_UNAVAILABLE")["retry"]
    assert retry["safe"] is True
    assert retry["conditions"] == ["on idempotent endpoints"]


def test_backoff_example() -> None:
    """The 429 strategy's example "1s, 2s, 4s, 8s" becomes [1, 2, 4, 8]; other rows have none."""
    assert _row("HTTP_429")["retry"]["backoff_example_seconds"] == [1, 2, 4, 8]
    assert _row("HTTP_503")["retry"]["backoff_example_seconds"] == []


def test_retry_warnings_for_start_and_end() -> None:
    """/start repeats give 409 ALREADY_STARTED; /end inherits the warning and repeats give 404."""
    start, end = _document()["retry_warnings"]
    assert (start["endpoint"], start["repeat_status"]) == ("start", 409)
    assert start["repeat_code"] == "ALREADY_STARTED"
    assert start["check_status_before_retry"] is True
    assert start["inherits_from"] is None
    assert (end["endpoint"], end["repeat_status"], end["repeat_code"]) == ("end", 404, None)
    assert end["inherits_from"] == "start"
    assert end["check_status_before_retry"] is True


def test_logging_fields() -> None:
    """The logging recommendation becomes the structured field names, in the published order."""
    fields = _document()["error_logging"]["fields"]
    assert fields == ["status", "code", "error", "activity_id", "request_timestamp", "retry_counter"]


@pytest.mark.parametrize(
    ("row_id", "limit"),
    [
        ("INSIDER_IDS_OUT_OF_RANGE", {"min_items": 1, "max_items": 10_000}),
        ("ENDS_AT_TOO_SOON", {"min_seconds": 300}),
        ("ENDS_AT_TOO_FAR", {"max_seconds": 604_800}),
        ("HTTP_429", {"requests": 1_000, "per_seconds": 60}),
    ],
)
def test_limits_read_from_meaning(row_id: str, limit: dict[str, int]) -> None:
    """Numeric limits come from the rows' Meaning: 1..10,000 ids, 300 s, 604,800 s, 1,000 per 60 s."""
    stated = {k: v for k, v in _row(row_id)["limit"].items() if k != "wording"}
    assert stated == limit


def test_rows_without_a_number_state_no_limit() -> None:
    """Only the four rows with a number in their Meaning carry a `limit`."""
    limited = {r["id"] for r in _document()["rows"] if "limit" in r}
    assert limited == {"INSIDER_IDS_OUT_OF_RANGE", "ENDS_AT_TOO_SOON", "ENDS_AT_TOO_FAR", "HTTP_429"}


@pytest.mark.parametrize("case", case_params("broken_tables"))
def test_broken_table_names_file_line_and_fix(case: dict[str, Any]) -> None:
    """A broken table raises one ContractError naming the file, the line, the problem and a fix."""
    text, edit_line = replace_once(TABLE_TEXT, case["old"], case["new"])
    line = edit_line if case.get("line") == "edit" else TABLE_TEXT.splitlines().index(case["line_of"]) + 1
    with pytest.raises(ContractError) as caught:
        _parse(text)
    message = str(caught.value)
    assert message.startswith(f"contract error in {SOURCE} at line {line}:"), message
    assert case["problem"] in message
    assert f"\n  fix: {case['fix']}" in message
