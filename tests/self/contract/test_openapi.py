"""Self-tests for contracts/openapi.yaml: valid OpenAPI 3.1, loadable by schemathesis, sane error rows."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from schemathesis.core.result import Ok

CONTRACT = Path(__file__).parents[3] / "contracts" / "openapi.yaml"
PREFIX = "/api/v1/live-activity/"
ENDPOINTS = ("register", "add-users", "remove-users", "start", "update", "end")
BODYLESS_STATUSES = ("401", "429", "503")
HTTP_ROW = re.compile(r"HTTP_(\d{3})")
CODED_ROW = re.compile(r"[A-Z_]+")


@functools.cache
def _spec() -> dict[str, Any]:
    with CONTRACT.open(encoding="utf-8") as fh:
        spec: dict[str, Any] = yaml.safe_load(fh)
    return spec


def _operation(endpoint: str) -> dict[str, Any]:
    op: dict[str, Any] = _spec()["paths"][PREFIX + endpoint]["post"]
    return op


def _error_responses(endpoint: str) -> dict[str, dict[str, Any]]:
    return {status: resp for status, resp in _operation(endpoint)["responses"].items() if int(status) >= 400}


def test_validates_as_openapi_31() -> None:
    """The contract is a valid OpenAPI 3.1 document."""
    spec = _spec()
    assert str(spec["openapi"]).startswith("3.1.")
    validate(spec, cls=OpenAPIV31SpecValidator)


def test_schemathesis_loads_exactly_six_operations() -> None:
    """Schemathesis 4 loads the contract and sees exactly the six POST operations, named by path."""
    schema = schemathesis.openapi.from_path(CONTRACT)
    seen: set[tuple[str, str, str]] = set()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"schemathesis could not load an operation: {result.err()!r}"
        operation = result.ok()
        seen.add((operation.method.upper(), operation.path, operation.definition.raw["operationId"]))
    assert seen == {("POST", PREFIX + name, name) for name in ENDPOINTS}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_error_responses_carry_contract_rows(endpoint: str) -> None:
    """Every error response lists its table rows; HTTP_<n> rows sit under status n, codes are [A-Z_]."""
    errors = _error_responses(endpoint)
    assert errors, f"{endpoint} documents no error responses"
    all_rows: list[str] = []
    for status, response in errors.items():
        rows = response.get("x-contract-rows")
        assert isinstance(rows, list), f"{endpoint} {status}: x-contract-rows missing or not a list"
        assert rows, f"{endpoint} {status}: x-contract-rows is empty"
        for row in rows:
            assert isinstance(row, str), f"{endpoint} {status}: row {row!r} is not a string"
            http = HTTP_ROW.fullmatch(row)
            if http:
                assert http.group(1) == status, f"{endpoint}: {row} listed under status {status}"
            else:
                assert CODED_ROW.fullmatch(row), f"{endpoint} {status}: bad row id {row!r}"
        all_rows.extend(rows)
    assert len(all_rows) == len(set(all_rows)), f"{endpoint}: a row id is listed twice"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_bodyless_statuses_have_no_content(endpoint: str) -> None:
    """401, 429 and 503 are documented for every endpoint and declare no response body."""
    errors = _error_responses(endpoint)
    for status in BODYLESS_STATUSES:
        assert status in errors, f"{endpoint}: status {status} is missing"
        assert "content" not in errors[status], f"{endpoint} {status}: a body-less status declares content"
