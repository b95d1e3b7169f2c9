"""A generated year (or more) of nightly results files, for the drift history's self-test and benchmark.

Every night starts from one real results file of the whole suite against the sandbox
(data/sandbox-run.json.gz, 845 cases, 750 kB as the suite writes it) and varies it as nights vary:
latencies jitter; two recorded answers flap; a recorded cell changes its answer from 40 % of the way
on and holds; a documented case fails on a few nights, and on the last one (a flapping regression);
a new test appears from 60 % on; a test errors on a few nights and a different one on the last night
(newly erroring); some nights skip a test or are interrupted part-way. The same seed gives the same
files, byte for byte, so findings captured once can be compared with later readers.
"""

from __future__ import annotations

import copy
import gzip
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BASE = Path(__file__).parent / "data" / "sandbox-run.json.gz"
FIRST_NIGHT = datetime(2025, 1, 1, 2, 17, tzinfo=UTC)
Case = dict[str, Any]


def base_run() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(gzip.decompress(BASE.read_bytes()))
    return data


def write_history(directory: Path, nights: int, seed: int = 19) -> list[Path]:
    """`nights` results files in `directory` (created), named by their night; their paths, oldest first."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, night in enumerate(generate(nights, seed), start=1):
        path = directory / f"nightly-{number:04d}.json"
        path.write_text(json.dumps(night, indent=1, sort_keys=True, ensure_ascii=False), encoding="utf-8")
        paths.append(path)
    return paths


def generate(nights: int, seed: int = 19) -> Iterator[dict[str, Any]]:
    """Each night's results, oldest first."""
    base, rng = base_run(), random.Random(seed)  # noqa: S311 - reproducible nights, not secrets
    cases: list[Case] = base["cases"]
    recorded = [c for c in cases if c["verdict"] == "recorded" and c["observed"]]
    flapping = recorded[:2]
    held = [
        c for c in recorded if (c["endpoint"], c["rows"]) == (recorded[-1]["endpoint"], recorded[-1]["rows"])
    ]
    other = next(c["observed"] for c in recorded if c["observed"]["code"] != held[0]["observed"]["code"])
    documented = [
        c for c in cases if c["level"] == "documented" and c["verdict"] == "passed" and c["observed"]
    ]
    broken = documented[len(documented) // 3]
    tests = list(dict.fromkeys(c["test"] for c in cases))
    new_test = [c for c in cases if c["test"] == tests[5]]
    for night in range(nights):
        last = night == nights - 1
        run = copy.deepcopy(base)
        started = FIRST_NIGHT + timedelta(days=night, seconds=rng.randrange(600))
        run["started_at"] = started.isoformat()
        run["finished_at"] = (started + timedelta(seconds=300 + rng.randrange(120))).isoformat()
        mine: list[Case] = run["cases"]
        by_id = {id(original): copy_ for original, copy_ in zip(cases, mine, strict=True)}
        for case in mine:
            if case["latency_ms"] is not None:
                case["latency_ms"] = round(case["latency_ms"] * rng.uniform(0.6, 1.8), 3)
        for case in flapping:
            if rng.random() < 0.1:
                by_id[id(case)]["observed"] = dict(other)
        if night >= nights * 2 // 5:
            for case in held:
                by_id[id(case)]["observed"] = dict(other)
        if last or rng.random() < 0.02:
            failing = by_id[id(broken)]
            failing["observed"] = {
                "status": 500,
                "code": None,
                "body_fields": [],
                "has_body": False,
                "error": None,
            }
            failing["verdict"] = "failed"
            failing["reason"] = f"/{failing['endpoint']} does not behave as documented (documented): 500"
        if night >= nights * 3 // 5:
            mine += [
                {**copy.deepcopy(c), "test": c["test"].replace(tests[5].split("::")[1], "test_new_probe")}
                for c in new_test
            ]
        erroring = tests[-3] if last else (tests[rng.randrange(len(tests))] if rng.random() < 0.01 else None)
        skipped = tests[rng.randrange(len(tests))] if rng.random() < 0.03 else None
        mine[:] = _replaced(mine, erroring, "error", "error (call)", "KeyError: 'activity_id'")
        mine[:] = _replaced(mine, skipped, "skipped", "skipped", "the target answered 429 for 60 s")
        if not last and rng.random() < 0.01:
            del mine[rng.randrange(len(mine) // 2, len(mine)) :]
            run["interrupted"] = True
        counted = dict.fromkeys(run["counts"], 0)
        for case in mine:
            counted[case["verdict"]] += 1
        run["counts"] = counted
        yield run


def _replaced(cases: list[Case], test: str | None, verdict: str, label: str, reason: str) -> list[Case]:
    """The cases of `test` replaced by the one case a test that reached no verdict leaves."""
    if test is None:
        return cases
    where = next(i for i, c in enumerate(cases) if c["test"] == test)
    kept = [c for c in cases if c["test"] != test]
    unverified: Case = {
        "case": label,
        "endpoint": "",
        "expected": [],
        "latency_ms": None,
        "level": "",
        "matched": None,
        "observed": None,
        "reason": reason,
        "request": "",
        "rows": [],
        "test": test,
        "verdict": verdict,
    }
    return [*kept[:where], unverified, *kept[where:]]
