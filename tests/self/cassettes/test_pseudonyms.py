"""Pseudonyms of insider ids and udids, and recording from a live target (`conformance sandbox serve`).

A recording from a live target must never hold an insider id or udid of the profile: each is replaced
by a keyed pseudonym, and without the key (`LA_CASSETTE_PSEUDONYM_KEY`) recording is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.cassettes.pseudonyms import PSEUDONYM_KEY_VARIABLE, Pseudonyms
from conformance.cassettes.tags import READINGS_HEADER, TARGET_HEADER
from conformance.cli import main
from tests.self.cassettes.cassette_support import (
    Recorded,
    cassette_files,
    interactions,
    outcomes,
    record,
    replay,
    sections,
    tag,
)
from tests.self.reference import sandbox_profile
from tests.self.suite.suite_runner import TOKEN_VARIABLE, served_profile, served_sandbox

TOKEN = "cassette-self-test-control-token"
KEY = "cassette-self-test-pseudonym-key"
# Tests whose requests carry insider ids (register) and udids (target_devices); the lifecycle, whose
# path depends on the served sandbox's real clock (no expiry rule); and the rate-limit probe, which a
# live target without --allow-rate-limit-probe skips before any request.
LIVE_SELECT = (
    "(test_blank_target_device_field and not named) or "
    "test_repeat_after_success_follows_the_retry_warning or "
    "test_lifecycle_sequences or test_rate_limit_is_the_documented_one"
)

# Ids as profiles write them; "o-" is excluded so that no id is a piece of the "pseudo-" prefix itself.
ids = st.from_regex(r"[A-Za-z0-9_.:@-]{8,40}", fullmatch=True).filter(lambda s: "o-" not in s)


def test_a_pseudonym_is_stable_for_one_key() -> None:
    """The same id with the same key gives the same pseudonym, in one mapping and across mappings."""
    personal = sandbox_profile().personal_ids()
    first = Pseudonyms(KEY, personal)
    second = Pseudonyms(KEY, tuple(reversed(personal)))
    text = " ".join(personal)
    assert first.apply(text) == first.apply(text) == second.apply(text)
    assert all(Pseudonyms.pseudonym(KEY, i) == Pseudonyms.pseudonym(KEY, i) for i in personal)
    assert first.apply(text) == " ".join(Pseudonyms.pseudonym(KEY, i) for i in personal)
    assert first.identifiers() == personal


def test_pseudonyms_differ_across_keys_and_ids() -> None:
    """Another key gives other pseudonyms; two ids never share one."""
    personal = sandbox_profile().personal_ids()
    one = {Pseudonyms.pseudonym(KEY, i) for i in personal}
    other = {Pseudonyms.pseudonym(KEY + "-other", i) for i in personal}
    assert len(one) == len(other) == len(personal)
    assert not one & other


@given(identifier=ids, key=st.text(min_size=1))
def test_a_pseudonym_never_contains_the_id(identifier: str, key: str) -> None:
    """No pseudonym contains the id it replaces, and applying it leaves no trace of the id."""
    pseudonyms = Pseudonyms(key, (identifier,))
    assert identifier not in Pseudonyms.pseudonym(key, identifier)
    assert identifier not in pseudonyms.apply(f'{{"insider_ids": ["{identifier}", "{identifier}"]}}')


def test_an_id_that_is_a_prefix_of_another_is_replaced_whole() -> None:
    """With ids "u-1" and "u-10", "u-10" becomes its own pseudonym, not u-1's followed by "0"."""
    pseudonyms = Pseudonyms(KEY, ("u-1", "u-10"))
    assert (
        pseudonyms.apply("u-10 u-1")
        == f"{Pseudonyms.pseudonym(KEY, 'u-10')} {Pseudonyms.pseudonym(KEY, 'u-1')}"
    )


# -- recording from a live target -------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    url: str
    profile: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`conformance sandbox serve` on an ephemeral loopback port with a control token, and its profile."""
    with served_sandbox(TOKEN) as (url, _):
        profile = served_profile(url, tmp_path_factory.mktemp("served"))
        yield Served(url, profile)


@pytest.fixture(scope="module")
def live_runs(
    served: Served, tmp_path_factory: pytest.TempPathFactory, monkeypatch_module: pytest.MonkeyPatch
) -> dict[str, Recorded]:
    """Two recordings from the served sandbox, side by side: with the pseudonym key, and without it."""
    monkeypatch_module.delenv(PSEUDONYM_KEY_VARIABLE, raising=False)
    live = (
        "--target",
        "live",
        "--base-url",
        served.url,
        "--target-profile",
        str(served.profile),
        "-k",
        LIVE_SELECT,
    )
    envs = {
        "with key": {TOKEN_VARIABLE: TOKEN, PSEUDONYM_KEY_VARIABLE: KEY},
        "without key": {TOKEN_VARIABLE: TOKEN},
    }
    with ThreadPoolExecutor(max_workers=len(envs)) as pool:
        futures = {
            name: pool.submit(record, tmp_path_factory.mktemp("live"), *live, env=env)
            for name, env in envs.items()
        }
        return {name: future.result() for name, future in futures.items()}


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    """A monkeypatch for module-scoped fixtures (the built-in one is function-scoped)."""
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_a_live_recording_holds_no_insider_id_or_udid(live_runs: dict[str, Recorded]) -> None:
    """Recorded from the served sandbox with the key: no id or udid of the profile, only their pseudonyms."""
    recorded = live_runs["with key"]
    assert recorded.run.returncode == 0, recorded.run.output[-3000:]
    paths = cassette_files(recorded.cassettes)
    assert len(paths) == 4  # one per selected test, the skipped one too (its tags only)
    text = "\n".join(p.read_text(encoding="utf-8") for p in paths)
    personal = sandbox_profile().personal_ids()
    assert [p for p in personal if p in text] == []
    used = [i for i in personal if Pseudonyms.pseudonym(KEY, i) in text]
    assert any(i.startswith("sbx-udid") for i in used)
    assert any(not i.startswith("sbx-udid") for i in used)
    targets = {tag(i, TARGET_HEADER) for p in paths for i in interactions(p)}
    assert "live" in targets


def test_a_live_recording_lints_clean(
    live_runs: dict[str, Recorded], served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    """`conformance cassettes lint` with the served profile finds nothing in the pseudonymised recording."""
    directory = live_runs["with key"].cassettes
    status = main(
        ["cassettes", "lint", "--cassette-dir", str(directory), "--target-profile", str(served.profile)]
    )
    assert status == 0, capsys.readouterr().out


def test_recording_from_live_without_the_key_is_refused(live_runs: dict[str, Recorded]) -> None:
    """Without LA_CASSETTE_PSEUDONYM_KEY nothing is recorded, and the message names the variable."""
    refused = live_runs["without key"]
    assert refused.run.returncode != 0
    assert f"export {PSEUDONYM_KEY_VARIABLE}" in refused.run.output
    assert not refused.cassettes.exists()
    assert refused.run.results.get("cases", []) == []


def test_the_refusal_is_one_usage_error(live_runs: dict[str, Recorded]) -> None:
    """The refusal is a usage error: exit status 4, the message once, no traceback."""
    output = live_runs["without key"].run.output
    assert live_runs["without key"].run.returncode == pytest.ExitCode.USAGE_ERROR
    assert output.count(f"export {PSEUDONYM_KEY_VARIABLE}") == 1
    assert "factory.py" not in output


@pytest.fixture(scope="module")
def live_replays(
    live_runs: dict[str, Recorded], served: Served, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Recorded]:
    """The recording made with the key, replayed side by side: with that key, another, and none."""
    keys = {"same key": KEY, "another key": KEY + "-other", "no key": None}
    recorded = live_runs["with key"]
    options = ("--target-profile", str(served.profile), "-k", LIVE_SELECT)
    with ThreadPoolExecutor(max_workers=len(keys)) as pool:
        futures = {
            name: pool.submit(
                replay,
                tmp_path_factory.mktemp("replay"),
                recorded.cassettes,
                *options,
                env={PSEUDONYM_KEY_VARIABLE: key} if key else {},
            )
            for name, key in keys.items()
        }
        return {name: future.result() for name, future in futures.items()}


def test_a_live_recording_replays_with_the_same_key(
    live_runs: dict[str, Recorded], live_replays: dict[str, Recorded]
) -> None:
    """With the same key and profile, a live recording replays with its recorded outcome for every case:
    the same requests (its clock readings given back), the same skip (what the target offered)."""
    recorded, replayed = live_runs["with key"], live_replays["same key"]
    assert replayed.run.returncode == 0, replayed.run.output[-2000:]
    assert outcomes(replayed.run) == outcomes(recorded.run)
    assert replayed.probe["unmatched"] == []
    skipped = [c for c in replayed.run.results["cases"] if c["verdict"] == "skipped"]
    assert [c["test"].rsplit("::", 1)[1] for c in skipped] == ["test_rate_limit_is_the_documented_one"]


def test_the_first_request_of_a_live_cassette_keeps_the_clock_readings(
    live_runs: dict[str, Recorded],
) -> None:
    """Every live cassette with requests keeps its test's clock readings on its first request only."""
    for path in cassette_files(live_runs["with key"].cassettes):
        recorded = interactions(path)
        if recorded:
            assert tag(recorded[0], READINGS_HEADER), path
            assert not [i for i in recorded[1:] if tag(i, READINGS_HEADER)], path


@pytest.mark.parametrize(
    ("replayed_with", "problem"),
    [("another key", "made with another key"), ("no key", "and no pseudonym key is set")],
)
def test_a_live_recording_refuses_a_replay_without_its_key(
    replayed_with: str, problem: str, live_replays: dict[str, Recorded]
) -> None:
    """Replayed with another key or none, every test fails at setup with one message: the file, the
    problem, and which variable to export."""
    run = live_replays[replayed_with].run
    assert run.returncode == 1
    found = sections(run.output)
    assert found, run.output[-2000:]
    for name, section in found.items():
        assert section.count("cassette error in") == 1, (name, section)
        assert problem in section
        assert f"fix: export {PSEUDONYM_KEY_VARIABLE} as it was when recording" in section
        assert "Traceback" not in section


def test_aimed_edges_replay_with_their_recorded_labels(served: Served, tmp_path: Path) -> None:
    """A live recording keeps each clock reading whole, an aimed one's phase included: its replay
    labels the named edges as aimed mid-second, as the recording did (not with the wider tolerance)."""
    live = ("--target", "live", "--base-url", served.url, "--target-profile", str(served.profile))
    env = {TOKEN_VARIABLE: TOKEN, PSEUDONYM_KEY_VARIABLE: KEY}
    (tmp_path / "recorded").mkdir()
    (tmp_path / "replayed").mkdir()
    recorded = record(tmp_path / "recorded", *live, "-k", "test_ends_at_named_edge", env=env)
    replayed = replay(
        tmp_path / "replayed",
        recorded.cassettes,
        "--target-profile",
        str(served.profile),
        "-k",
        "test_ends_at_named_edge",
        env={PSEUDONYM_KEY_VARIABLE: KEY},
    )
    assert replayed.run.returncode == 0, replayed.run.output[-2000:]
    assert any("aimed mid-second" in o[1] for o in outcomes(recorded.run))
    assert outcomes(replayed.run) == outcomes(recorded.run)
