"""Target profiles: the sandbox profile loads; a malformed one is one ProfileError naming file, place, fix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.core.errors import ProfileError
from conformance.profile.target_profile import Limits, load_profile, sandbox_profile_path
from tests.self.reference import bundled_contract, sandbox_profile

LIVE_URL = "https://live-activity.api.useinsider.com"


# -- the sandbox profile -------------------------------------------------------------------------


def test_sandbox_profile_loads() -> None:
    """contracts/targets/sandbox.toml loads: a loopback base URL, literal keys, a short sync bound."""
    assert sandbox_profile().name == "sandbox"
    assert sandbox_profile().base_url == "http://127.0.0.1:8080"
    assert sandbox_profile().activity_type
    assert 0 < sandbox_profile().sync_delay_seconds < bundled_contract().behaviour.sync_gate.delay_min_seconds
    assert sandbox_profile().faults == frozenset({"status", "latency", "drop_after_commit"})
    assert sandbox_profile().control_token_env == "LA_SANDBOX_CONTROL_TOKEN"
    assert sandbox_profile().base_url in sandbox_profile().destructive_allowed


def test_sandbox_profile_offers_every_account_state() -> None:
    """Every account state behaviour.yaml names (but `missing_key`, which sends none) has a literal key."""
    assert set(sandbox_profile().accounts) == set(bundled_contract().behaviour.accounts) - {"missing_key"}
    for state, account in sandbox_profile().accounts.items():
        assert account.state == state
        assert account.literal is not None
        assert not account.secret
    assert len(set(sandbox_profile().secrets())) == len(sandbox_profile().accounts)


def test_sandbox_profile_has_insiders_of_every_eligibility_class() -> None:
    """Each eligibility class of behaviour.yaml has an insider, and insider ids are unique."""
    assert {i.eligibility for i in sandbox_profile().insiders} == set(
        bundled_contract().behaviour.eligibility.classes
    )
    ids = [i.insider_id for i in sandbox_profile().insiders]
    assert len(ids) == len(set(ids))


def test_sandbox_profile_has_syncing_and_never_syncing_insiders() -> None:
    """The sync gate's some/none cases need eligible insiders that sync and one that never does."""
    assert sandbox_profile().syncing_insiders()
    assert sandbox_profile().never_syncing_insiders()
    never = sandbox_profile().never_syncing_insiders()[0]
    assert all(not d.syncs for d in never.devices)
    assert never not in sandbox_profile().syncing_insiders()


def test_env_keys_are_read_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A live profile names environment variables; their keys are secrets, and an unset one gives no key."""
    text = _sandbox_text().replace('base_url = "http://127.0.0.1:8080"', f'base_url = "{LIVE_URL}"')
    accounts = text[text.index("[accounts]") : text.index("# Insiders per")]
    text = text.replace(
        accounts, '[accounts]\ngood = { env = "LA_KEY_GOOD" }\ndisabled = { env = "LA_KEY_DISABLED" }\n\n'
    )
    path = tmp_path / "live.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("LA_KEY_GOOD", "live-secret-good")
    monkeypatch.delenv("LA_KEY_DISABLED", raising=False)
    profile = load_profile(path, bundled_contract())
    assert profile.accounts["good"].secret
    assert profile.accounts["good"].key() == "live-secret-good"
    assert profile.accounts["disabled"].key() is None
    assert profile.secrets() == ("live-secret-good",)


def test_control_token_is_read_from_its_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The control API token comes from the variable the profile names; unset, there is none."""
    monkeypatch.delenv("LA_SANDBOX_CONTROL_TOKEN", raising=False)
    assert sandbox_profile().control_token() is None
    monkeypatch.setenv("LA_SANDBOX_CONTROL_TOKEN", "tok")
    assert sandbox_profile().control_token() == "tok"


def test_limits_default_and_are_read(tmp_path: Path) -> None:
    """A profile without `limits` gets the defaults; each key given replaces its default only."""
    assert sandbox_profile().limits == Limits()
    path = tmp_path / "limited.toml"
    text = _sandbox_text().replace(
        "sync_delay_seconds = 0.2", "sync_delay_seconds = 0.2\nlimits = { stop_after_unanswered = 2 }"
    )
    path.write_text(text, encoding="utf-8")
    assert load_profile(path, bundled_contract()).limits == Limits(stop_after_unanswered=2)


# -- malformed profiles --------------------------------------------------------------------------


def _sandbox_text() -> str:
    return sandbox_profile_path(bundled_contract()).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Broken:
    """One edit of sandbox.toml and the error it must give: where, what, and a fix containing `fix`."""

    old: str
    new: str
    place: str  # `line` means: the line the edit is on
    problem: str
    fix: str


CASES = {
    "bad-toml": Broken(
        'name = "sandbox"', 'name = "sandbox', "line", "not valid TOML", "fix the TOML syntax"
    ),
    "unknown-eligibility-class": Broken(
        "[[insiders.android]]",
        "[[insiders.martian]]",
        "insiders.martian",
        "unknown eligibility class 'martian'",
        "behaviour.yaml eligibility.classes",
    ),
    "literal-key-on-live-url": Broken(
        'base_url = "http://127.0.0.1:8080"',
        f'base_url = "{LIVE_URL}"',
        "accounts.good",
        "a literal key is only allowed for a loopback sandbox",
        'env = "LA_KEY_GOOD"',
    ),
    "duplicate-insider": Broken(
        'insider_id = "sbx-android-1"',
        'insider_id = "sbx-eligible-1"',
        "insiders",
        "'sbx-eligible-1' is listed twice",
        "one eligibility class",
    ),
    "base-url-with-path": Broken(
        'base_url = "http://127.0.0.1:8080"',
        'base_url = "http://127.0.0.1:8080/api"',
        "base_url",
        "does not match",
        "scheme and host only",
    ),
    "negative-sync-delay": Broken(
        "sync_delay_seconds = 0.2",
        "sync_delay_seconds = -1",
        "sync_delay_seconds",
        "less than the minimum",
        "token after /start",
    ),
    "unknown-fault": Broken(
        'faults = ["status", "latency", "drop_after_commit"]',
        'faults = ["status", "meteor"]',
        "faults[1]",
        "'meteor' is not one of",
        "target-profile.schema.json",
    ),
    "key-and-env": Broken(
        'good = { key = "sbx-key-good" }',
        'good = { key = "sbx-key-good", env = "LA_KEY_GOOD" }',
        "accounts.good",
        "valid under each of",
        "target-profile.schema.json",
    ),
    "zero-request-deadline": Broken(
        "sync_delay_seconds = 0.2",
        "sync_delay_seconds = 0.2\nlimits = { request_deadline_seconds = 0 }",
        "limits.request_deadline_seconds",
        "less than or equal to the minimum",
        "the longest one request may take",
    ),
    "device-without-udid": Broken(
        'devices = [{ udid = "sbx-udid-a1" }]',
        'devices = [{ id = "sbx-udid-a1" }]',
        "insiders.android[0].devices[0].udid",
        "`udid` is missing",
        "add `udid`",
    ),
}


def _write(tmp_path: Path, case: Broken) -> tuple[Path, int]:
    text = _sandbox_text()
    assert text.count(case.old) == 1, f"case out of date: {case.old!r} is not once in sandbox.toml"
    line = text[: text.index(case.old)].count("\n") + 1
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(case.old, case.new), encoding="utf-8")
    return path, line


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_profile_is_one_clear_error(tmp_path: Path, name: str) -> None:
    """A malformed profile gives one ProfileError naming the file, the place, the problem and a fix."""
    case = CASES[name]
    path, line = _write(tmp_path, case)
    with pytest.raises(ProfileError) as caught:
        load_profile(path, bundled_contract())
    error = caught.value
    place = f"line {line}" if case.place == "line" else case.place
    assert error.file == str(path)
    assert str(error).startswith(f"target profile error in {path} at {place}: "), str(error)
    assert case.problem in error.problem
    assert case.fix in error.fix
    assert str(error).count("\n  fix: ") == 1


def test_bad_toml_names_the_line_somewhere(tmp_path: Path) -> None:
    """Until the place carries it, the problem text of a TOML syntax error at least names the line."""
    path, line = _write(tmp_path, CASES["bad-toml"])
    with pytest.raises(ProfileError) as caught:
        load_profile(path, bundled_contract())
    assert f"line {line}" in str(caught.value)


def test_missing_profile_file_is_one_clear_error(tmp_path: Path) -> None:
    """A profile path that does not exist names the path and how to pass one."""
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ProfileError) as caught:
        load_profile(path, bundled_contract())
    assert str(caught.value).startswith(
        f"target profile error in {path} at (whole file): the file does not exist"
    )
    assert "--target-profile" in caught.value.fix


@pytest.mark.parametrize("host", ["localhost:9000", "[::1]:8080", "sandbox.invalid"])
def test_literal_keys_are_allowed_on_loopback_hosts(tmp_path: Path, host: str) -> None:
    """A literal key is fine when the base URL is a loopback host."""
    path = tmp_path / "loopback.toml"
    path.write_text(
        _sandbox_text().replace('http://127.0.0.1:8080"\nactivity', f'http://{host}"\nactivity'),
        encoding="utf-8",
    )
    assert load_profile(path, bundled_contract()).base_url == f"http://{host}"
