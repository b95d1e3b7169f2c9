"""`conformance check`: the preflight a person runs before a live run, and what it refuses.

Each failure ends in one short message (what, where, the fix), exit status 2 and no traceback; a
ready target gets what the run will verify and skip, with its clock offset and round trip.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from conformance.cli import main
from conformance.contract import load_contract
from conformance.core.clock import VirtualClock
from conformance.core.errors import ProfileError, TargetError
from conformance.profile.target_profile import load_profile, sandbox_profile_path
from conformance.sandbox import SandboxConfig, build_sandbox
from conformance.sandbox.serve import running
from conformance.targets.preflight import PLACEHOLDER, preflight

CONTRACT = load_contract()
SANDBOX_TOML = sandbox_profile_path(CONTRACT)
EXAMPLE_TOML = CONTRACT.directory / "targets" / "insider.example.toml"
MOST_LINES = 4
CONTROL_TOKEN = "preflight-control-token"
# A profile of a non-loopback target, so its keys come from environment variables.
MINIMAL_REMOTE = """
format = 1
name = "remote"
base_url = "{url}"
activity_type = "DeliveryActivityAttributes"
sync_delay_seconds = 5
accounts = {{ good = {{ env = "PF_KEY_GOOD" }} }}
insiders = {{ eligible = [{{ insider_id = "remote-1", devices = [] }}] }}
"""
OFFSET = re.compile(r"offset ([+-]\d+\.\d) s \u00b1 (\d+\.\d) s")


def check(*args: str, env: dict[str, str | None] | None = None) -> subprocess.CompletedProcess[str]:
    """`conformance check ARGS` in a fresh interpreter, as a person runs it (`env`: variables to set,
    or with None to unset)."""
    command = [sys.executable, "-m", "conformance.cli", "check", *args]
    environment = {k: v for k, v in os.environ.items() if k not in (env or {})}
    environment |= {k: v for k, v in (env or {}).items() if v is not None}
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, env=environment)


def with_key_variables(tmp_path: Path, url: str, variables: dict[str, str]) -> Path:
    """The sandbox's profile at `url`, with the key of each account state of `variables` read from the
    environment variable it names instead of the file."""
    text = SANDBOX_TOML.read_text(encoding="utf-8")
    for state, variable in variables.items():
        text = re.sub(rf'(?m)^{state} = {{ key = ".*" }}$', f'{state} = {{ env = "{variable}" }}', text)
    return profile_at(tmp_path, url, text=text)


def profile_at(tmp_path: Path, url: str, *, text: str | None = None) -> Path:
    """The sandbox's profile (or `text`) with its base_url set to `url`."""
    source = text if text is not None else SANDBOX_TOML.read_text(encoding="utf-8")
    path = tmp_path / "target.toml"
    path.write_text(re.sub(r'(?m)^base_url = ".*"$', f'base_url = "{url}"', source), encoding="utf-8")
    return path


def assert_one_message(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) <= MOST_LINES, done.stderr
    return done.stderr


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[str]:
    """The sandbox served over loopback on the real clock, shifted by the test's `param` seconds."""
    offset = float(getattr(request, "param", 0.0))
    profile = load_profile(SANDBOX_TOML, CONTRACT)
    config = SandboxConfig(clock_offset_seconds=offset, control_token=CONTROL_TOKEN)
    sandbox = build_sandbox(CONTRACT, profile, config=config)
    with running(sandbox) as url:
        yield url


def test_malformed_profile_is_one_message_naming_file_and_key(tmp_path: Path) -> None:
    """A profile without activity_type: one message naming the file and the key, exit 2, no traceback."""
    text = re.sub(r"(?m)^activity_type = .*$", "", SANDBOX_TOML.read_text(encoding="utf-8"))
    path = profile_at(tmp_path, "http://127.0.0.1:1", text=text)
    message = assert_one_message(check("--target-profile", str(path)))
    assert str(path) in message
    assert "at activity_type: `activity_type` is missing" in message  # the key is the place
    assert "fix: add `activity_type`: an ActivityAttributes type name" in message  # from the schema


def test_unreachable_target_names_url_and_connection_error(tmp_path: Path) -> None:
    """A target nobody listens on: the URL and the connection error, not a clock error per test."""
    path = profile_at(tmp_path, "http://127.0.0.1:1")
    message = assert_one_message(check("--target-profile", str(path)))
    assert "http://127.0.0.1:1" in message
    assert "ConnectError" in message
    assert "cannot be reached" in message


def test_undeclared_base_url_names_profile_and_how_to_declare_it(tmp_path: Path) -> None:
    """--base-url not in the profile: a usage message naming the profile and destructive_allowed."""
    path = profile_at(tmp_path, "http://127.0.0.1:1")
    message = assert_one_message(check("--target-profile", str(path), "--base-url", "http://127.0.0.1:2"))
    assert str(path) in message
    assert 'add "http://127.0.0.1:2" to destructive_allowed' in message


def test_declared_destructive_base_url_is_accepted(tmp_path: Path, served: str) -> None:
    """A --base-url listed in destructive_allowed passes the base URL rule (and is the one reached)."""
    text = SANDBOX_TOML.read_text(encoding="utf-8").replace(
        "destructive_allowed = [", f'destructive_allowed = ["{served}", '
    )
    path = profile_at(tmp_path, "http://127.0.0.1:1", text=text)
    result = preflight(CONTRACT, path, base_url=served)
    assert result.reach is not None
    assert result.reach.url.startswith(served)


def test_example_profile_explains_what_is_still_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The insider.example.toml template is refused, naming its placeholders and its unset key variables,
    before anything is sent to the real API."""
    for account in load_profile(EXAMPLE_TOML, CONTRACT).accounts.values():
        assert account.env is not None, "the template reads every key from an environment variable"
        monkeypatch.delenv(account.env, raising=False)
    message = assert_one_message(check("--target-profile", str(EXAMPLE_TOML)))
    assert "this is a template" in message
    assert PLACEHOLDER in message
    assert "insiders.eligible[0].insider_id" in message
    assert "LA_KEY_GOOD" in message


def test_template_is_refused_for_every_target_kind() -> None:
    """A run that uses the template is refused whatever its target: it is never a target by accident."""
    for kind in ("live", "sandbox", "cassettes"):
        with pytest.raises(ProfileError, match="this is a template"):
            preflight(CONTRACT, EXAMPLE_TOML, target_kind=kind)


@pytest.mark.parametrize("served", [0.0], indirect=True)
def test_ready_target_shows_clock_latency_keys_and_skips(
    tmp_path: Path, served: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A served sandbox: exit 0, the answer to the harmless request, the clock and round trip, which key
    variables are set (never their values), and the skips with their reasons."""
    text = SANDBOX_TOML.read_text(encoding="utf-8")
    text = text.replace('good = { key = "sbx-key-good" }', 'good = { env = "PF_KEY_GOOD" }')
    text = text.replace(
        'not_renewed = { key = "sbx-key-not-renewed" }', 'not_renewed = { env = "PF_KEY_NR" }'
    )
    path = profile_at(tmp_path, served, text=text)
    monkeypatch.setenv("PF_KEY_GOOD", "sbx-key-good")
    monkeypatch.delenv("PF_KEY_NR", raising=False)
    monkeypatch.delenv("LA_SANDBOX_CONTROL_TOKEN", raising=False)
    assert main(["check", "--target-profile", str(path)]) == 0
    out = capsys.readouterr().out
    assert "sbx-key-good" not in out
    assert f"POST {served}{CONTRACT.paths[CONTRACT.roles.creates_activity]} (empty body) -> 400" in out
    assert OFFSET.search(out)
    assert re.search(r"round trip \d+ ms", out)
    assert "good: $PF_KEY_GOOD set" in out
    assert "not_renewed: $PF_KEY_NR unset" in out
    assert "account state 'not_renewed' (401 (no body) (Auth failure))" in out
    assert "$PF_KEY_NR is unset" in out
    assert "pass --allow-rate-limit-probe" in out
    assert "no control API" in out


@pytest.mark.parametrize("served", [30.0], indirect=True)
def test_clock_offset_of_the_target_is_measured(tmp_path: Path, served: str) -> None:
    """A sandbox whose clock runs 30 s ahead: the measured bracket holds +30 s and is about a second wide."""
    path = profile_at(tmp_path, served)
    done = check("--target-profile", str(path))
    assert done.returncode == 0, done.stderr
    found = OFFSET.search(done.stdout)
    assert found, done.stdout
    offset, uncertainty = float(found.group(1)), float(found.group(2))
    assert abs(offset - 30.0) <= uncertainty + 0.05  # 0.05: the printed figures are rounded to 0.1 s
    assert uncertainty < 1.5


def test_rate_probe_and_control_api_remove_their_skips(
    tmp_path: Path, served: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the control token set and the probe allowed, nothing is skipped for faults or 429."""
    path = profile_at(tmp_path, served)
    monkeypatch.setenv("LA_SANDBOX_CONTROL_TOKEN", CONTROL_TOKEN)
    result = preflight(CONTRACT, path, allow_rate_limit_probe=True)
    assert result.skips == ()
    assert "faults (drop_after_commit, latency, status) are injected" in result.control


def test_a_wrong_control_token_is_one_message(tmp_path: Path, served: str) -> None:
    """A control token the target refuses ends the preflight (not every fault test) with the fix."""
    path = profile_at(tmp_path, served)
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "check", "--target-profile", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "LA_SANDBOX_CONTROL_TOKEN": "not-the-token"},
    )
    message = assert_one_message(done)
    assert "the control API answered 4" in message
    assert "check the control token" in message


def test_offline_targets_send_nothing(tmp_path: Path) -> None:
    """The sandbox and cassettes targets need no network: no request, and no base URL rule."""
    path = profile_at(tmp_path, "http://127.0.0.1:1")
    for kind in ("sandbox", "cassettes"):
        result = preflight(CONTRACT, path, target_kind=kind, base_url="http://127.0.0.1:2")
        assert result.reach is None
        assert "needs no network" in result.render()


@respx.mock
def test_answer_without_date_header_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A target (or proxy) that strips Date leaves the suite no clock: one message says so."""
    monkeypatch.setenv("PF_KEY_GOOD", "remote-key")
    url = "http://api.invalid"
    respx.post(url + CONTRACT.paths[CONTRACT.roles.creates_activity]).mock(
        return_value=httpx.Response(400, json={})
    )
    path = tmp_path / "remote.toml"
    path.write_text(MINIMAL_REMOTE.format(url=url), encoding="utf-8")
    with pytest.raises(TargetError, match="no Date header"):
        preflight(CONTRACT, path)


def test_a_target_clock_that_stands_still_is_one_message(tmp_path: Path) -> None:
    """A sandbox on a virtual clock whose control token the run lacks: its clock never moves, so no
    edge could be aimed at it; the preflight says so instead of a run of false failures."""
    profile = load_profile(SANDBOX_TOML, CONTRACT)
    config = SandboxConfig(control_token=CONTROL_TOKEN)
    with running(build_sandbox(CONTRACT, profile, clock=VirtualClock(), config=config)) as url:
        message = assert_one_message(check("--target-profile", str(profile_at(tmp_path, url))))
    assert "did not move with ours" in message
    assert "control token" in message


GOOD_KEY = load_profile(SANDBOX_TOML, CONTRACT).accounts["good"].key()
KEYS = {"good": "PF_KEY_GOOD", "disabled": "PF_KEY_DISABLED"}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "$PF_KEY_GOOD is unset"),
        ("", "$PF_KEY_GOOD is empty (GitHub Actions passes an empty string for a secret that does not"),
        ("not-a-key", "$PF_KEY_GOOD is not a key of state 'good'"),
        (f"{GOOD_KEY}\n", "$PF_KEY_GOOD begins or ends with whitespace"),
    ],
    ids=["unset", "empty", "wrong", "newline"],
)
def test_a_good_key_that_is_missing_or_refused_ends_check(
    tmp_path: Path, served: str, value: str | None, problem: str
) -> None:
    """The good key unset, empty, refused by the target, or padded: exit 2, one message naming the
    variable and how to fix it, before any test."""
    path = with_key_variables(tmp_path, served, KEYS)
    message = assert_one_message(check("--target-profile", str(path), env={"PF_KEY_GOOD": value}))
    assert f"at accounts.good: {problem}" in message
    assert "fix: export PF_KEY_GOOD with the API key of an account in state 'good'" in message


def test_a_refused_key_names_the_states_whose_answer_it_got(tmp_path: Path, served: str) -> None:
    """A made-up good key gets the 401 that keys of the 401 states get; the message names those states,
    read from the contract."""
    path = with_key_variables(tmp_path, served, KEYS)
    message = assert_one_message(check("--target-profile", str(path), env={"PF_KEY_GOOD": "made-up"}))
    unauthorised = [s for s, e in CONTRACT.behaviour.accounts.items() if "HTTP_401" in e.outcome.codes]
    assert len(unauthorised) >= 2
    assert "got 401 (no code), as a key of state " in message
    assert all(repr(state) in message for state in unauthorised)


def test_a_key_of_another_state_answering_as_a_third_is_refused(tmp_path: Path, served: str) -> None:
    """The disabled state's variable holding a key the target does not know: refused, naming it."""
    path = with_key_variables(tmp_path, served, KEYS)
    env = {"PF_KEY_GOOD": GOOD_KEY, "PF_KEY_DISABLED": "made-up"}
    message = assert_one_message(check("--target-profile", str(path), env=env))
    assert "at accounts.disabled: $PF_KEY_DISABLED is not a key of state 'disabled'" in message
    assert "'unknown_key'" in message


def test_one_key_for_two_states_is_refused(tmp_path: Path, served: str) -> None:
    """The good key copied into the disabled state's variable: refused before anything is sent."""
    path = with_key_variables(tmp_path, served, KEYS)
    env = {"PF_KEY_GOOD": GOOD_KEY, "PF_KEY_DISABLED": GOOD_KEY}
    message = assert_one_message(check("--target-profile", str(path), env=env))
    assert "$PF_KEY_DISABLED holds the same key as $PF_KEY_GOOD" in message


def test_an_empty_optional_key_is_a_skip_and_each_used_key_is_proven(tmp_path: Path, served: str) -> None:
    """An empty optional variable (a secret that does not exist) skips its state's tests; every key
    the run uses shows the answer that proved it."""
    path = with_key_variables(tmp_path, served, KEYS)
    done = check("--target-profile", str(path), env={"PF_KEY_GOOD": GOOD_KEY, "PF_KEY_DISABLED": ""})
    assert done.returncode == 0, done.stderr
    assert "good: $PF_KEY_GOOD set -> 400 REQUEST_INVALID: accepted" in done.stdout
    assert "disabled: $PF_KEY_DISABLED unset or empty" in done.stdout
    assert "$PF_KEY_DISABLED is unset or empty: export the key" in done.stdout
    unbound = "unbound: a literal key in the profile -> 400 PARTNER_REQUIRED: the answer of its state"
    assert unbound in done.stdout
    assert str(GOOD_KEY) not in done.stdout + done.stderr
