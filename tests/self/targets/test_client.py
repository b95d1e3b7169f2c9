"""The client every test goes through: request values, headers, redaction, curl, timeouts, budget."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.core.exchange import Exchange, Request
from conformance.core.printable import REDACTED, redact
from conformance.targets.api_client import ApiClient, RateBudget
from tests.self.reference import bundled_contract, sandbox_profile
from tests.self.targets.targets_support import FakeClock, Recorder, client

API_KEY_HEADER = "X-Api-Key"  # what openapi.yaml's security scheme names (see the last test)

ACCOUNTS = sorted(sandbox_profile().accounts)
SECRETS = sandbox_profile().secrets()
MakeClient = Callable[..., ApiClient]


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    """Build ApiClients over mock transports; close them all afterwards."""
    made: list[ApiClient] = []

    def build(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> ApiClient:
        api = client(handler, **options)
        made.append(api)
        return api

    yield build
    for api in made:
        api.http.close()


# -- Request values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "content"),
    [
        pytest.param(Request("register", {"a": 1}), b'{"a": 1}', id="json-object"),
        pytest.param(Request("register", [1, "x"]), b'[1, "x"]', id="json-array"),
        pytest.param(Request("register", {"name": "Zoë"}), '{"name": "Zoë"}'.encode(), id="utf8-not-escaped"),
        pytest.param(Request("register", None), b"null", id="no-body-is-null"),
        pytest.param(Request("register", raw=b""), b"", id="raw-empty"),
        pytest.param(Request("register", {"ignored": True}, raw=b"{oops"), b"{oops", id="raw-wins"),
        pytest.param(Request("register", raw=b"\xff\x00"), b"\xff\x00", id="raw-bytes-exact"),
    ],
)
def test_request_content(request_: Request, content: bytes) -> None:
    """content() is the exact raw bytes when given, else the body as UTF-8 JSON."""
    assert request_.content() == content


@given(
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3),
    )
)
def test_request_json_content_round_trips(body: Any) -> None:
    """Property: any JSON body is sent as bytes that parse back to the same value."""
    assert json.loads(Request("register", body).content()) == body


@pytest.mark.parametrize(
    ("body", "activity_id"),
    [({"activity_id": "a-1"}, "a-1"), ({"activity_id": 5}, None), ({}, None), ([1], None), (None, None)],
)
def test_request_activity_id(body: Any, activity_id: str | None) -> None:
    """activity_id() is the body's string activity_id, else None."""
    assert Request("start", body).activity_id() == activity_id


# -- what goes over the wire -----------------------------------------------------------------------


@pytest.mark.parametrize("account", ACCOUNTS)
def test_sends_the_accounts_key_and_content_type(make_client: MakeClient, account: str) -> None:
    """Each account state sends its own key in X-Api-Key, the Content-Type and the body to its path."""
    recorder = Recorder()
    api = make_client(recorder)
    request = Request("update", {"activity_id": "a"}, account=account)
    api.send(request)
    (sent,) = recorder.seen
    assert sent.method == "POST"
    assert sent.url.path == bundled_contract().paths["update"]
    assert sent.headers[API_KEY_HEADER] == sandbox_profile().accounts[account].key()
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.content == request.content()


def test_missing_key_sends_no_key_header(make_client: MakeClient) -> None:
    """The `missing_key` account state sends no X-Api-Key header at all."""
    recorder = Recorder()
    make_client(recorder).send(Request("register", {}, account="missing_key"))
    assert API_KEY_HEADER not in recorder.seen[0].headers


@pytest.mark.parametrize(("content_type", "sent"), [("text/plain", "text/plain"), (None, None)])
def test_content_type_is_sent_as_given(
    make_client: MakeClient, content_type: str | None, sent: str | None
) -> None:
    """The request's content type is sent as is; None sends no Content-Type."""
    recorder = Recorder()
    make_client(recorder).send(Request("register", raw=b"x", content_type=content_type))
    assert recorder.seen[0].headers.get("Content-Type") == sent


def test_response_becomes_a_value(make_client: MakeClient) -> None:
    """The status, headers and body come back as a Response value stamped with the send time."""

    def reply(_: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": "gone", "code": "NOT_FOUND"}, headers={"Date": "x"})

    exchange = make_client(reply, now=lambda: 1234.5).send(Request("start", {"activity_id": "a"}))
    assert exchange.response is not None
    assert exchange.response.status == 404
    assert exchange.response.code == "NOT_FOUND"
    assert exchange.response.headers["date"] == "x"
    assert exchange.response.sent_at == 1234.5
    assert exchange.response.latency_seconds >= 0
    assert exchange.error is None


@pytest.mark.parametrize(
    ("failure", "prefix"),
    [
        (httpx.ReadTimeout, "timeout: ReadTimeout"),
        (httpx.ConnectTimeout, "timeout: ConnectTimeout"),
        (httpx.ConnectError, "transport error: ConnectError"),
        (httpx.RemoteProtocolError, "transport error: RemoteProtocolError"),
    ],
)
def test_timeout_or_dropped_connection_is_an_exchange_without_response(
    make_client: MakeClient, failure: type[httpx.TransportError], prefix: str
) -> None:
    """A timeout or a dropped connection is an Exchange with response=None and an error string."""

    def reply(request: httpx.Request) -> httpx.Response:
        raise failure("simulated", request=request)

    seen: list[Exchange] = []
    api = make_client(reply)
    api.on_exchange.append(seen.append)
    exchange = api.send(Request("start", {"activity_id": "a"}))
    assert exchange.response is None
    assert exchange.error == prefix
    assert seen == [exchange]


def test_key_for_unknown_account_is_a_lookup_error(make_client: MakeClient) -> None:
    """An account state the profile does not offer is the caller's bug: LookupError, not a silent send."""
    api = make_client(Recorder())
    with pytest.raises(LookupError):
        api.key_for("no_such_state")
    assert api.has_account("missing_key")
    assert not api.has_account("no_such_state")


# -- redaction and curl --------------------------------------------------------------------------


@pytest.mark.parametrize("secret", SECRETS)
def test_redact_hides_every_profile_key(secret: str) -> None:
    """Every key of the profile is replaced in any text redaction sees."""
    text = f"header {API_KEY_HEADER}: {secret}; again {secret}."
    redacted = redact(text, SECRETS)
    assert secret not in redacted
    assert redacted.count(REDACTED) == 2


def test_redact_hides_keys_that_share_a_prefix_whole() -> None:
    """A key that extends another key is redacted whole, leaving no tail of it behind."""
    longer = sandbox_profile().accounts["unknown_app"].key()
    assert longer is not None
    assert any(s != longer and longer.startswith(s) for s in SECRETS), "the profile no longer has such keys"
    assert redact(f"key={longer};", SECRETS) == f"key={REDACTED};"


KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=12, max_size=24)


@settings(max_examples=100)
@given(secret=KEYS, before=st.text(max_size=20), after=st.text(max_size=20))
def test_redact_property(secret: str, before: str, after: str) -> None:
    """Property: a key of realistic length never survives redaction, wherever it sits in the text."""
    assert secret not in redact(f"{before}{secret}{after}{secret}", (secret, ""))


@pytest.mark.parametrize("account", [*ACCOUNTS, "missing_key"])
def test_curl_never_contains_a_key(make_client: MakeClient, account: str) -> None:
    """The curl rendering of a request shows a redacted key header (none for missing_key), never a key."""
    api = make_client(Recorder())
    curl = api.curl(Request("register", {"activity_type": "x"}, account=account))
    for secret in SECRETS:
        assert secret not in curl
    assert (f"{API_KEY_HEADER}: {REDACTED}" in curl) == (account != "missing_key")


@settings(max_examples=100)
@given(
    account=st.sampled_from([*ACCOUNTS, "missing_key"]),
    body=st.dictionaries(st.text(max_size=6), st.text(max_size=12) | st.integers(), max_size=4),
    content_type=st.sampled_from(["application/json", "text/plain", None]),
)
def test_curl_is_a_shell_command_that_sends_the_same_request(
    account: str, body: dict[str, Any], content_type: str | None
) -> None:
    """Property: the curl command parses back into the method, URL, headers and exact body of the request."""
    with httpx.Client(base_url=sandbox_profile().base_url, transport=httpx.MockTransport(Recorder())) as http:
        api = ApiClient(bundled_contract(), sandbox_profile(), http, None)
        request = Request("end", body, content_type=content_type, account=account)
        argv = shlex.split(api.curl(request))
    assert argv[:5] == [
        "curl",
        "-sS",
        "-X",
        "POST",
        sandbox_profile().base_url + bundled_contract().paths["end"],
    ]
    assert argv[-2:] == ["--data-binary", request.content().decode()]
    headers = [argv[i + 1] for i, a in enumerate(argv) if a == "-H"]
    expected = [f"{API_KEY_HEADER}: {REDACTED}"] if account != "missing_key" else []
    expected += [f"Content-Type: {content_type}"] if content_type else []
    assert headers == expected
    for secret in SECRETS:
        assert secret not in " ".join(argv)


# -- the rate budget -----------------------------------------------------------------------------

BUCKET = ("good", "/api/v1/live-activity/register", "POST")
OTHER = ("good", "/api/v1/live-activity/update", "POST")


def test_budget_waits_rather_than_exceeding() -> None:
    """The (N+1)th request in a window sleeps until the oldest leaves the window, then goes."""
    clock = FakeClock()
    budget = RateBudget(3, 60, now=clock, sleep=clock.sleep)
    for _ in range(3):
        budget.acquire(BUCKET)
    assert clock.sleeps == []
    clock.advance(10)
    budget.acquire(BUCKET)
    assert clock.sleeps == [50]
    assert clock.now == 1_060


def test_separate_buckets_are_independent() -> None:
    """A full bucket makes no other (key, path, method) bucket wait."""
    clock = FakeClock()
    budget = RateBudget(2, 60, now=clock, sleep=clock.sleep)
    for bucket in (BUCKET, BUCKET, OTHER, OTHER, ("unbound", BUCKET[1], "POST")):
        budget.acquire(bucket)
    assert clock.sleeps == []


# Gaps in 1/1024 s: sums stay exact in floating point, so the property tests the budget, not the rounding.
GAPS = st.integers(0, 30 * 1024).map(lambda n: n / 1024)


@settings(max_examples=300)
@given(
    limit=st.integers(1, 5),
    window=st.sampled_from([1.0, 60.0, 0.5]),
    calls=st.lists(st.tuples(st.integers(0, 2), GAPS), max_size=40),
)
def test_budget_never_exceeds_n_per_window_per_bucket(
    limit: int, window: float, calls: list[tuple[int, float]]
) -> None:
    """Property: in any window, no bucket is granted more than N requests, and only a full bucket sleeps."""
    clock = FakeClock()
    budget = RateBudget(limit, window, now=clock, sleep=clock.sleep)
    granted: dict[int, list[float]] = {}
    for bucket, gap in calls:
        clock.advance(gap)
        recent = [t for t in granted.get(bucket, []) if clock.now - t < window]
        before = len(clock.sleeps)
        budget.acquire((str(bucket), "/p", "POST"))
        assert (len(clock.sleeps) > before) == (len(recent) >= limit)
        granted.setdefault(bucket, []).append(clock.now)
    for times in granted.values():
        for first, later in zip(times, times[limit:], strict=False):
            assert later - first >= window


def test_budget_lets_the_request_through_after_sleeping_the_wait_it_asked_for() -> None:
    """Sleeping exactly the wait the budget asks for lets the next request through (found by Hypothesis)."""
    clock = FakeClock(now=1000.0 + 1.7339780204758286)
    budget = RateBudget(1, 60.0, now=clock, sleep=clock.sleep)
    budget.acquire(BUCKET)
    budget.acquire(BUCKET)
    assert clock.sleeps == [60.0]


def test_client_spends_the_budget_per_account_path_and_method(make_client: MakeClient) -> None:
    """send() spends one unit of its bucket; the opt-in probe (spend_budget=False) spends none."""
    clock = FakeClock()
    budget = RateBudget(1, 60, now=clock, sleep=clock.sleep)
    api = make_client(Recorder(), budget=budget)
    api.send(Request("register", {}))
    api.send(Request("update", {}))
    api.send(Request("register", {}, account="disabled"))
    api.send(Request("register", {}), spend_budget=False)
    assert clock.sleeps == []
    api.send(Request("register", {}))
    assert clock.sleeps == [60]


def test_api_key_header_is_the_one_openapi_names() -> None:
    """The key header is read from openapi.yaml's apiKey security scheme, not written in code."""
    assert bundled_contract().api_key_header == API_KEY_HEADER
