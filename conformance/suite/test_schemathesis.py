"""Schemathesis over contracts/openapi.yaml: generated requests, judged by the oracle and by schemathesis.

Schemathesis generates valid and invalid bodies from the OpenAPI file; each goes through the suite's
client (rate budget, redaction, cassettes) and is judged twice: by the oracle, and by schemathesis'
own checks plus ours, `error_code_documented_for_endpoint`, registered as a schemathesis check.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import settings
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from conformance.contract import Contract, load_contract
from conformance.contract.loader import API_PREFIX
from conformance.contract.rules import documented_codes
from conformance.core.exchange import Request
from conformance.targets.verifier import Verifier


@schemathesis.check
def error_code_documented_for_endpoint(_ctx: Any, response: Any, case: Any) -> bool | None:
    """An error body's `code` is one the contract gives this endpoint and status (table or conflict)."""
    if response.status_code < 400:
        return None
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return None  # body-less or not an object: other checks judge the envelope
    endpoint = case.operation.path.removeprefix(API_PREFIX)
    allowed = DOCUMENTED[endpoint].get(response.status_code, set())
    if code is not None and code not in allowed:
        raise AssertionError(
            f"code {code!r} on {response.status_code} from /{endpoint} is documented for neither; "
            f"the contract gives {sorted(allowed) or 'no code'} there"
        )
    return None


def _schema(contract: Contract) -> Any:
    """openapi.yaml of the default contract directory: schemathesis parametrizes at import, before
    options are read; the oracle judges with the contract `--contracts` names."""
    loaded = schemathesis.openapi.from_dict(dict(contract.openapi))
    loaded.config.generation.update(
        modes=list(GenerationMode),
        max_examples=settings().max_examples,  # the active Hypothesis profile's
        deterministic=True,
        database="none",
    )
    # The documented examples and random fuzzing; the coverage phase's hundred-odd boundary cases per
    # operation would spend a live target's rate budget on what test_boundaries already covers.
    loaded.config.phases.update(phases=["examples", "fuzzing"])
    return loaded


pytestmark = [
    # Bodies of up to 10,000 insider ids make Hypothesis warn about the size of their repr; harmless here.
    pytest.mark.filterwarnings("ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"),
]
CONTRACT = load_contract()
WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
DOCUMENTED = {endpoint: documented_codes(CONTRACT, endpoint) for endpoint in CONTRACT.endpoints}
schema = _schema(CONTRACT)


def _request(endpoint: str, case: schemathesis.Case[Any]) -> Request:
    """The generated case as the suite's request value; bytes (negative cases) are sent as they are."""
    if case.body is NOT_SET:
        return Request(endpoint, raw=b"", content_type=case.media_type)
    if isinstance(case.body, bytes):
        return Request(endpoint, raw=case.body, content_type=case.media_type)
    return Request(endpoint, case.body, content_type=case.media_type)


@schema.parametrize()  # type: ignore[untyped-decorator]
def test_generated_request_gets_a_documented_answer(case: schemathesis.Case[Any], verifier: Verifier) -> None:
    """Whatever schemathesis generates, valid or not, gets an answer the contract allows, in shape."""
    endpoint = case.operation.path.removeprefix(API_PREFIX)
    request = _request(endpoint, case)
    exchange = verifier.verify(request, case=f"schemathesis {case.media_type or 'no body'}")
    response = exchange.response
    assert response is not None, exchange.error
    sent = httpx.Request("POST", verifier.profile.base_url + case.operation.path)
    # The content arrives decoded: the headers that described the bytes on the wire (gzip, chunks)
    # would make httpx decode it a second time.
    headers = {k: v for k, v in response.headers.items() if k.lower() not in WIRE_HEADERS}
    received = httpx.Response(response.status, headers=headers, content=response.content, request=sent)
    received.elapsed = timedelta(seconds=response.latency_seconds)
    case.validate_response(
        received, checks=[not_a_server_error, response_schema_conformance, error_code_documented_for_endpoint]
    )
