"""Faults, the journal, the rate limit and the control API (in-process and served)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta

import httpx
import pytest

from conformance.core.clock import SystemClock, VirtualClock
from conformance.sandbox import ClockNotVirtualError, Fault, Sandbox, SandboxConfig, build_sandbox
from conformance.sandbox.serve import running
from tests.self.reference import bundled_contract, sandbox_profile
from tests.self.sandbox.sandbox_support import Api, build, code_of, key

B = bundled_contract().behaviour
SYNCING = sandbox_profile().syncing_insiders()[0]
TEST_VALUE = "t"
FAULT_ROWS = ("UPSTREAM_UNAVAILABLE", "HTTP_503", "HTTP_429")


# -- status faults ---------------------------------------------------------------------------------


@pytest.mark.parametrize("row_id", FAULT_ROWS)
def test_status_fault_answers_the_row_and_touches_nothing(api: Api, sandbox: Sandbox, row_id: str) -> None:
    """A status fault answers its row's status and body presence, and creates no activity."""
    row = bundled_contract().table.row(row_id)
    sandbox.control.inject("register", Fault.respond(row.status))
    response = api.post("register", api.register_body([SYNCING.insider_id]))
    assert response.status_code == row.status
    assert code_of(response) == (row.code if row.body == "always" else None)
    assert sandbox.control.activities() == ()
    assert sandbox.control.journal()[-1].fault == "status"
    assert api.post("register", api.register_body([SYNCING.insider_id])).status_code == 200  # used up


def test_fault_applies_to_its_endpoint_and_times(api: Api, sandbox: Sandbox) -> None:
    """A fault hits only its endpoint, `times` times; one with no endpoint hits the next request anywhere."""
    sandbox.control.inject("start", Fault.respond(502), times=2)
    activity_id = api.register(SYNCING)
    assert [api.post("start", api.push_body(activity_id)).status_code for _ in range(3)] == [502, 502, 200]
    sandbox.control.inject(None, Fault.respond(503))
    assert api.post("update", api.push_body(activity_id)).status_code == 503


def test_clear_faults(api: Api, sandbox: Sandbox) -> None:
    """clear_faults drops every queued fault."""
    sandbox.control.inject(None, Fault.respond(502), times=5)
    sandbox.control.clear_faults()
    assert api.post("register", api.register_body([SYNCING.insider_id])).status_code == 200


@pytest.mark.parametrize(
    ("endpoint", "fault"),
    [("nowhere", Fault.drop()), (None, Fault.respond(400)), (None, Fault.respond(418))],
)
def test_inject_refuses_what_it_cannot_do(sandbox: Sandbox, endpoint: str | None, fault: Fault) -> None:
    """An unknown endpoint, or a status without exactly one table row, is refused at injection."""
    with pytest.raises(ValueError, match=r"endpoint|status"):
        sandbox.control.inject(endpoint, fault)


def test_fault_values_are_checked() -> None:
    """A fault must be coherent: latency needs milliseconds, only a status fault has a status."""
    with pytest.raises(ValueError, match="latency"):
        Fault.delay(0)
    with pytest.raises(ValueError, match="status"):
        Fault("drop_after_commit", status=502)


# -- latency and drops in-process ------------------------------------------------------------------


def test_latency_delays_then_handles(api: Api, sandbox: Sandbox) -> None:
    """A latency fault adds its delay and the request is then handled normally."""
    sandbox.control.inject("register", Fault.delay(60))
    began = time.monotonic()
    response = api.post("register", api.register_body([SYNCING.insider_id]))
    assert time.monotonic() - began >= 0.06
    assert response.status_code == 200
    assert sandbox.control.journal()[-1].fault == "latency"


def test_latency_beyond_the_client_timeout(sandbox: Sandbox, clock: VirtualClock) -> None:
    """A delay longer than the client's timeout is a ReadTimeout; the request still commits afterwards."""
    sandbox.control.inject("register", Fault.delay(150))
    with sandbox.client(timeout=0.02) as client:
        api = Api(client, clock)
        with pytest.raises(httpx.ReadTimeout):
            api.post("register", api.register_body([SYNCING.insider_id]))
        deadline = time.monotonic() + 5
        while not sandbox.control.activities() and time.monotonic() < deadline:
            time.sleep(0.01)  # the delayed request finishes on the sandbox's own loop
    assert len(sandbox.control.activities()) == 1


def test_drop_after_commit_in_process(api: Api, sandbox: Sandbox) -> None:
    """drop_after_commit: the client times out, yet /start was committed, so a retry is ALREADY_STARTED."""
    activity_id = api.register(SYNCING)
    sandbox.control.inject("start", Fault.drop())
    with pytest.raises(httpx.ReadTimeout):
        api.post("start", api.push_body(activity_id))
    assert code_of(api.post("start", api.push_body(activity_id))) == "ALREADY_STARTED"
    dropped = sandbox.control.journal()[-2]
    assert (dropped.status, dropped.fault) == (200, "drop_after_commit")


# -- drops, served ---------------------------------------------------------------------------------


@dataclass
class Served:
    sandbox: Sandbox
    clock: VirtualClock
    url: str


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    clock = VirtualClock()
    sandbox = build_sandbox(
        bundled_contract(), sandbox_profile(), clock=clock, config=SandboxConfig(drop_hang_seconds=0.3)
    )
    with running(sandbox) as url:
        yield Served(sandbox, clock, url)


def test_served_drop_closes_without_an_answer(served: Served) -> None:
    """Served: held for drop_hang_seconds, then closed with no status line; the state was committed."""
    with httpx.Client(base_url=served.url, timeout=5) as client:
        api = Api(client, served.clock)
        activity_id = api.synced(SYNCING)
        served.sandbox.control.inject("end", Fault.drop())
        began = time.monotonic()
        with pytest.raises(httpx.RemoteProtocolError):
            api.post("end", api.push_body(activity_id))
        assert time.monotonic() - began >= 0.3
        assert code_of(api.post("end", api.push_body(activity_id))) == "NOT_FOUND"


def test_served_drop_times_out_an_impatient_client(served: Served) -> None:
    """Served: a client whose timeout is shorter than the hang sees a ReadTimeout."""
    served.sandbox.control.inject("register", Fault.drop())
    with httpx.Client(base_url=served.url, timeout=0.1) as client, pytest.raises(httpx.ReadTimeout):
        client.post(bundled_contract().paths["register"], json={}, headers={"X-Api-Key": key("good")})


# -- control API -----------------------------------------------------------------------------------


def test_control_api_hides_behind_its_token(served: Served) -> None:
    """Without the control token (or with a customer key) /_sandbox/ is a plain 404; with it, it works."""
    sandbox, url = served.sandbox, served.url
    token = sandbox.settings.control_token
    with httpx.Client(base_url=url, timeout=5) as client:
        not_found = client.get("/no/such/path")
        for headers in ({}, {"X-Api-Key": key("good")}, {"X-Sandbox-Control": token + "x"}):
            for path in ("/_sandbox/journal", "/_sandbox", "/_sandbox/"):
                response = client.get(path, headers=headers)
                assert (response.status_code, response.text) == (404, not_found.text)
        control = {"X-Sandbox-Control": token}
        assert client.get("/_sandbox/journal", headers=control).status_code == 200
        assert (
            client.post(
                "/_sandbox/faults", json={"kind": "status", "status": 502}, headers=control
            ).status_code
            == 200
        )
        assert (
            client.post(
                bundled_contract().paths["update"], json={}, headers={"X-Api-Key": key("good")}
            ).status_code
            == 502
        )
        bad = client.post("/_sandbox/faults", json={"kind": "explode"}, headers=control)
        assert bad.status_code == 400
        assert client.request("DELETE", "/_sandbox/faults", headers=control).status_code == 200
        before = sandbox.control.now()
        moved = client.post("/_sandbox/clock", json={"advance_seconds": 5}, headers=control).json()["now"]
        assert moved == (before + timedelta(seconds=5)).isoformat()
        assert (
            client.post("/_sandbox/clock", json={"advance_seconds": "x"}, headers=control).status_code == 400
        )
        assert client.post("/_sandbox/reset", headers=control).status_code == 200
        assert client.get("/_sandbox/journal", headers=control).json() == {"entries": []}


def test_control_token_comes_from_config_then_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    """The control token is the configured one, else the profile's environment variable, else random."""
    variable = sandbox_profile().control_token_env
    assert variable is not None
    from_env, chosen = "from-env", "mine"
    monkeypatch.setenv(variable, from_env)
    assert build_sandbox(bundled_contract(), sandbox_profile()).settings.control_token == from_env
    assert (
        build_sandbox(
            bundled_contract(), sandbox_profile(), config=SandboxConfig(control_token=chosen)
        ).settings.control_token
        == chosen
    )
    monkeypatch.delenv(variable)
    assert (
        build_sandbox(bundled_contract(), sandbox_profile()).settings.control_token
        != build_sandbox(bundled_contract(), sandbox_profile()).settings.control_token
    )


def test_advance_clock_needs_a_virtual_clock() -> None:
    """advance_clock on a real-clock sandbox raises, and the HTTP control API answers 409."""
    sandbox = build_sandbox(
        bundled_contract(),
        sandbox_profile(),
        clock=SystemClock(),
        config=SandboxConfig(control_token=TEST_VALUE),
    )
    with pytest.raises(ClockNotVirtualError):
        sandbox.control.advance_clock(1)
    with sandbox.client() as client:
        response = client.post(
            "/_sandbox/clock", json={"advance_seconds": 1}, headers={"X-Sandbox-Control": "t"}
        )
    assert response.status_code == 409


# -- journal and reset -----------------------------------------------------------------------------


def test_journal_records_requests_never_keys(api: Api, sandbox: Sandbox) -> None:
    """One entry per request, in sequence, with the account state and never any API key."""
    for state in sandbox_profile().accounts:
        api.post("register", {}, account=state)
    api.post("register", {}, account=None)
    entries = sandbox.control.journal()
    assert [e.sequence for e in entries] == list(range(1, len(sandbox_profile().accounts) + 2))
    assert [e.account for e in entries] == [*sandbox_profile().accounts, "missing_key"]
    text = repr(entries) + json.dumps([e.to_json() for e in entries])
    for state in sandbox_profile().accounts:
        assert key(state) not in text
    assert entries[0].time == api.clock.now()


def test_reset_drops_everything(api: Api, sandbox: Sandbox) -> None:
    """reset drops activities, faults, rate counters and the journal."""
    api.register(SYNCING)
    sandbox.control.inject(None, Fault.respond(502))
    sandbox.control.reset()
    assert sandbox.control.activities() == ()
    assert sandbox.control.journal() == []
    assert api.post("register", api.register_body([SYNCING.insider_id])).status_code == 200


# -- rate limit ------------------------------------------------------------------------------------


def test_rate_limit_per_key_path_method(clock: VirtualClock) -> None:
    """The limit counts per key + path: one over is 429 with no body; a new window starts afresh."""
    limit = 3
    sandbox = build(clock, rate_limit_per_minute=limit)
    with sandbox.client() as client:
        api = Api(client, clock)
        statuses = [api.post("register", {}).status_code for _ in range(limit + 1)]
        assert statuses[-1] == 429
        assert 429 not in statuses[:-1]
        over = api.post("register", {})
        assert (over.status_code, over.content, "retry-after" in over.headers) == (429, b"", False)
        assert api.post("start", {}).status_code != 429  # another path
        assert api.post("register", {}, account="disabled").status_code != 429  # another key
        clock.advance(B.rate_limit.per_seconds)
        assert api.post("register", {}).status_code != 429


def test_default_rate_limit_is_the_profiles_then_the_contracts(clock: VirtualClock) -> None:
    """With no configured limit the profile's applies, and without one in the profile the contract's."""
    for profile_limit in (7, None):
        profile = replace(sandbox_profile(), rate_limit_per_minute=profile_limit)
        settings = build_sandbox(bundled_contract(), profile, clock=clock).settings
        assert settings.rate_limit_requests == (profile_limit or B.rate_limit.requests)


def test_limit_rate_at_run_time(api: Api, sandbox: Sandbox) -> None:
    """limit_rate enforces a new limit from a fresh count; None (or reset) restores the configured one."""
    sandbox.control.limit_rate(1)
    assert [api.post("start", {}).status_code for _ in range(2)] == [400, 429]
    sandbox.control.limit_rate(None)
    assert api.post("start", {}).status_code == 400
    sandbox.control.limit_rate(1)
    sandbox.control.reset()
    assert [api.post("start", {}).status_code for _ in range(2)] == [400, 400]
    with pytest.raises(ValueError, match="rate limit"):
        sandbox.control.limit_rate(0)


def test_http_control_reads_the_clock_and_limits_the_rate(served: Served) -> None:
    """GET /_sandbox/clock gives the time and whether it is virtual; POST /_sandbox/rate-limit sets one."""
    control = {"X-Sandbox-Control": served.sandbox.settings.control_token}
    with httpx.Client(base_url=served.url, timeout=5) as client:
        clock = client.get("/_sandbox/clock", headers=control).json()
        assert clock == {"now": served.clock.now().isoformat(), "virtual": True}
        assert (
            client.post("/_sandbox/rate-limit", json={"requests_per_minute": 1}, headers=control).status_code
            == 200
        )
        customer = {"X-Api-Key": key("disabled")}
        statuses = [
            client.post(bundled_contract().paths["end"], json={}, headers=customer).status_code
            for _ in range(2)
        ]
        assert statuses == [bundled_contract().table.row("LIVE_ACTIVITY_DISABLED").status, 429]
        bad = client.post("/_sandbox/rate-limit", json={"requests_per_minute": "x"}, headers=control)
        assert bad.status_code == 400
        assert (
            client.post(
                "/_sandbox/rate-limit", json={"requests_per_minute": None}, headers=control
            ).status_code
            == 200
        )
