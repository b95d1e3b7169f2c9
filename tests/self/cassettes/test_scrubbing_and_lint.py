"""Scrubbing and tags of recorded cassettes, and `conformance cassettes lint` on good and bad copies.

A cassette is evidence of what was verified: no key, no response header but content-type, and every
interaction tagged with the case, rows, target, test start and cassette format.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from conformance.cassettes.messages import default_cassette_dir
from conformance.cassettes.tags import (
    CASE_HEADER,
    FORMAT,
    FORMAT_HEADER,
    OFFERS_HEADER,
    ROWS_HEADER,
    START_HEADER,
    TARGET_HEADER,
)
from conformance.cassettes.vcr import SECRET_HEADERS
from conformance.cli import main
from conformance.profile.offers import Offers
from tests.self.cassettes.cassette_support import (
    BACKOFF_TEST,
    LOST_RESPONSE_TEST,
    Recorded,
    cassette_files,
    cassette_of,
    copy_cassettes,
    interactions,
    load,
    save,
    tag,
    tags,
)
from tests.self.reference import sandbox_profile

BEARER = "Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.dG9rZW4"


def _all_interactions(directory: Path) -> list[tuple[Path, dict[str, Any]]]:
    return [(path, i) for path in cassette_files(directory) for i in interactions(path)]


def _lint(directory: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """`conformance cassettes lint --cassette-dir DIRECTORY`: its exit status and its output lines."""
    capsys.readouterr()
    status = main(["cassettes", "lint", "--cassette-dir", str(directory)])
    captured = capsys.readouterr()
    return status, (captured.out + captured.err).splitlines()


def test_no_key_is_recorded(recording: Recorded) -> None:
    """No recorded request keeps an x-api-key (or other credential) header, and no profile key appears."""
    assert sandbox_profile().secrets()
    for path, interaction in _all_interactions(recording.cassettes):
        headers = {h.lower() for h in interaction["request"]["headers"]}
        assert not headers & set(SECRET_HEADERS), path
    for path in cassette_files(recording.cassettes):
        text = path.read_text(encoding="utf-8")
        assert not [s for s in sandbox_profile().secrets() if s in text], path


def test_response_headers_are_reduced_to_content_type(recording: Recorded) -> None:
    """Recorded responses keep no header but content-type."""
    kept = Counter(h for _, i in _all_interactions(recording.cassettes) for h in i["response"]["headers"])
    assert set(kept) == {"content-type"}


def test_every_interaction_is_tagged_with_target_start_offers_and_format(recording: Recorded) -> None:
    """Each recorded request carries the cassette format, the sandbox target, an ISO 8601 test start
    and what the in-process sandbox offers (control API, virtual clock, every account state)."""
    offers = Offers(
        control=True, virtual_clock=True, rate_limit_probe=False, accounts=(*sandbox_profile().accounts,)
    )
    for path, interaction in _all_interactions(recording.cassettes):
        found = tags(interaction)
        assert found[FORMAT_HEADER] == FORMAT, path
        assert found[TARGET_HEADER] == "sandbox", path
        assert datetime.fromisoformat(str(found[START_HEADER])).tzinfo is not None, path
        assert Offers.from_json(str(found[OFFERS_HEADER])) == offers, path


def test_case_and_rows_tags_are_the_verified_cases(recording: Recorded) -> None:
    """Outside the backoff retries, the case and rows tags are exactly the cases the results file holds."""
    for test in recording.probe["tests"]:
        if BACKOFF_TEST in test:
            continue
        tagged = Counter(
            (tag(i, CASE_HEADER), tag(i, ROWS_HEADER))
            for i in interactions(cassette_of(recording.cassettes, test))
        )
        verified = Counter(
            (c["case"], ",".join(c["rows"]))
            for c in recording.run.results["cases"]
            if c["test"] == test and c["observed"]["status"] is not None
        )
        assert tagged == verified, test
    assert LOST_RESPONSE_TEST in " ".join(recording.probe["tests"])


def test_every_interaction_is_tagged_with_case_and_rows(recording: Recorded) -> None:
    """Each recorded request names the case and the contract rows it exercises."""
    untagged = [
        path.name
        for path, interaction in _all_interactions(recording.cassettes)
        if not (tag(interaction, CASE_HEADER) and tag(interaction, ROWS_HEADER))
    ]
    assert untagged == []


def test_lint_passes_on_the_checked_in_cassettes(capsys: pytest.CaptureFixture[str]) -> None:
    """`conformance cassettes lint` finds nothing in the checked-in cassettes."""
    status, lines = _lint(default_cassette_dir(), capsys)
    assert status == 0, lines
    assert lines[-1].endswith(" cassette(s) checked, 0 finding(s)")
    assert int(lines[-1].split()[0]) > 100


def test_lint_passes_on_a_fresh_recording(recording: Recorded, capsys: pytest.CaptureFixture[str]) -> None:
    """A cassette directory just recorded from the sandbox lints clean."""
    status, lines = _lint(recording.cassettes, capsys)
    assert (status, lines) == (
        0,
        [f"{len(cassette_files(recording.cassettes))} cassette(s) checked, 0 finding(s)"],
    )


def _planted(recording: Recorded, tmp_path: Path, plant: str) -> tuple[Path, int]:
    """A copy of the recording with one problem planted in one cassette; the number of findings it makes."""
    copy = copy_cassettes(recording.cassettes, tmp_path / "cassettes")
    path = cassette_of(copy, LOST_RESPONSE_TEST)
    data = load(path)
    first = data["interactions"][0]
    if plant == "key":
        first["response"]["body"]["string"] = json.dumps({"echo": sandbox_profile().accounts["good"].key()})
        expected = 1
    elif plant == "bearer":
        first["request"]["headers"]["Authorization"] = [BEARER]
        expected = 2  # the stored credential header, and the bearer token's text itself
    else:  # a live cassette whose insider ids were not pseudonymised
        data["interactions"] = [first]
        first["request"]["headers"][TARGET_HEADER] = ["live"]
        expected = len([p for p in sandbox_profile().personal_ids() if p in json.dumps(first)])
        assert expected >= 1
    save(path, data)
    return copy, expected


@pytest.mark.parametrize(
    ("plant", "problem"),
    [
        ("key", "the profile key 'sbx...'"),
        ("bearer", "interactions[0].request.headers.authorization: a credential header is stored"),
        ("live id", "interactions[0]: unpseudonymised id 'sbx...'"),
    ],
)
def test_lint_fails_with_one_line_per_finding(
    plant: str, problem: str, recording: Recorded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A key, an Authorization header, or a live cassette's real insider id: exit 1, one line per finding."""
    copy, expected = _planted(recording, tmp_path, plant)
    status, lines = _lint(copy, capsys)
    findings = lines[:-1]
    assert status == 1
    assert lines[-1] == f"{len(cassette_files(copy))} cassette(s) checked, {expected} finding(s)"
    assert len(findings) == expected
    bad = cassette_of(copy, LOST_RESPONSE_TEST)
    assert all(line.startswith(f"{bad}: ") for line in findings), findings
    assert any(line.endswith(problem) for line in findings), findings
    # lint never prints the key it found
    assert all(s not in "\n".join(lines) for s in sandbox_profile().secrets())


def test_lint_finds_a_bearer_token_in_a_body(
    recording: Recorded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An `Authorization: Bearer ...` echoed in a response body is a finding."""
    copy = copy_cassettes(recording.cassettes, tmp_path / "cassettes")
    path = cassette_of(copy, LOST_RESPONSE_TEST)
    data = load(path)
    data["interactions"][0]["response"]["body"]["string"] = json.dumps({"echo": f"Authorization: {BEARER}"})
    save(path, data)
    status, lines = _lint(copy, capsys)
    assert status == 1, lines
