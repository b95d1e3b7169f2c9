"""Robustness: schemathesis over openapi.yaml; arbitrary bytes, JSON and headers posted to every endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from conformance.core.clock import VirtualClock
from conformance.sandbox import Sandbox
from tests.self.reference import bundled_contract, sandbox_profile
from tests.self.sandbox.sandbox_support import Api, build, key

SANDBOX = build(VirtualClock())
SCHEMA = schemathesis.openapi.from_path(bundled_contract().directory / "openapi.yaml")
SCHEMA.app = SANDBOX.app
SCHEMA.config.update(headers={"X-Api-Key": key("good")})
SCHEMA.config.generation.update(max_examples=25, database="none", deterministic=True)


@SCHEMA.parametrize()
def test_schemathesis_finds_no_server_error_and_no_off_schema_response(case: schemathesis.Case[Any]) -> None:
    """Generated requests (valid and invalid) never get a 5xx, and every response matches openapi.yaml."""
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])


def test_success_and_rich_error_bodies_match_the_schema(api: Api) -> None:
    """The bodies random requests rarely reach (200s, 422 with details, 412, 409) match openapi.yaml too."""
    syncing, offline = sandbox_profile().syncing_insiders()[0], sandbox_profile().never_syncing_insiders()[0]
    gdpr, android = (
        sandbox_profile().insiders_of("gdpr_denied")[0],
        sandbox_profile().insiders_of("android")[0],
    )
    activity_id = api.register(syncing, offline)
    responses = [
        ("register", api.post("register", api.register_body([syncing.insider_id, gdpr.insider_id]))),
        ("register", api.post("register", api.register_body([android.insider_id, gdpr.insider_id]))),
        (
            "add-users",
            api.post("add-users", api.segment_body(activity_id, [gdpr.insider_id, syncing.insider_id])),
        ),
        ("remove-users", api.post("remove-users", api.segment_body(activity_id, ["nobody"]))),
        ("update", api.post("update", api.push_body(activity_id))),
        ("start", api.post("start", api.push_body(activity_id))),
        ("start", api.post("start", api.push_body(activity_id))),
    ]
    api.clock.advance(sandbox_profile().sync_delay_seconds)
    responses += [
        ("update", api.post("update", api.push_body(activity_id))),
        ("end", api.post("end", api.push_body(activity_id))),
    ]
    assert [r.status_code for _, r in responses] == [200, 422, 200, 200, 412, 200, 409, 200, 200]
    for endpoint, response in responses:
        SCHEMA[bundled_contract().paths[endpoint]]["POST"].validate_response(response)


# -- Hypothesis: anything at all -------------------------------------------------------------------

FIELDS = [
    "activity_id",
    "activity_type",
    "insider_ids",
    "ends_at",
    "content",
    "target_devices",
    "title",
    "message",
    "content_state",
    "insider_id",
    "udid",
    "attributes",
]
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=15,
)
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
BODIES = st.one_of(
    st.binary(max_size=300),
    JSON.map(lambda value: json.dumps(value).encode()),
    st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=6).map(lambda value: json.dumps(value).encode()),
)


@pytest.fixture(scope="module")
def target() -> Iterator[tuple[Sandbox, httpx.Client, str]]:
    clock = VirtualClock()
    sandbox = build(clock)
    with sandbox.client() as client:
        yield sandbox, client, Api(client, clock).synced(sandbox_profile().syncing_insiders()[0])


@settings(max_examples=300, database=None, deadline=None, derandomize=True)
@given(
    endpoint=st.sampled_from(bundled_contract().endpoints),
    body=BODIES,
    content_type=st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain"])
    | HEADER_TEXT,
    api_key=st.sampled_from([key("good"), key("disabled")]) | HEADER_TEXT,
    extra=st.dictionaries(
        st.sampled_from(["Accept", "X-Api-Key", "Content-Length", "X-Other"]), HEADER_TEXT, max_size=2
    ),
)
def test_anything_posted_gets_a_4xx_and_leaves_state_whole(
    target: tuple[Sandbox, httpx.Client, str],
    *,
    endpoint: str,
    body: bytes,
    content_type: str,
    api_key: str,
    extra: dict[str, Any],
) -> None:
    """Arbitrary bytes, JSON and headers to any endpoint get a 4xx; the live activity stays as it was."""
    sandbox, client, activity_id = target
    headers = {"Content-Type": content_type, "X-Api-Key": api_key, **extra}
    headers.pop("Content-Length", None)  # httpx sets the true one; a false one is the server's business
    response = client.post(bundled_contract().paths[endpoint], content=body, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    (activity,) = sandbox.control.activities()
    assert (activity.activity_id, activity.state) == (activity_id, "STARTED")
    assert len(activity.devices) == len(sandbox_profile().syncing_insiders()[0].devices)
