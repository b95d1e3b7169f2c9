"""The results file: one JSON document per run, the input of drift reports and certification.

Each case carries its contract rows, endpoint, input class, level, expected and observed outcome,
verdict and latency; the run carries the target, the contract's digest, the suite version and time.
Written atomically; read back with validation, so a broken file is one clear error.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from conformance.errors import Place, ResultsError

FORMAT = 1
VERDICTS = ("passed", "failed", "recorded", "skipped")


@dataclass(frozen=True)
class Observed:
    status: int | None
    code: str | None
    body_fields: tuple[str, ...]  # top-level keys of a JSON object body, sorted
    has_body: bool
    error: str | None = None  # a timeout or transport error instead of a response


@dataclass(frozen=True)
class CaseResult:
    test: str
    case: str  # the input class, e.g. "ends_at=now+299s"
    endpoint: str
    rows: tuple[str, ...]  # the contract rows / rules the case exercises
    level: str
    expected: tuple[str, ...]  # human-readable acceptable outcomes
    observed: Observed | None
    verdict: str
    matched: str | None = None  # the rule whose outcome the response met (which error won)
    latency_ms: float | None = None
    reason: str = ""  # for skips: why the target could not be tested; for failures: the summary


@dataclass
class RunResults:
    target: str
    base_url: str
    contract_digest: str
    suite_version: str
    started_at: str
    finished_at: str = ""
    hypothesis_profile: str = ""
    cases: list[CaseResult] = field(default_factory=list)
    # Activities still alive on the target after the run, with their expiry (REGISTERED ones cannot
    # be ended without pushing to devices, so they are left to expire).
    leftovers: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counted = Counter(c.verdict for c in self.cases)
        return {v: counted.get(v, 0) for v in VERDICTS}

    def to_json(self) -> str:
        data = asdict(self)
        data["format"] = FORMAT
        data["counts"] = self.counts()
        return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False)

    def write(self, path: Path) -> None:
        """Write via a temporary file and a rename: a crash never leaves half a results file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(self.to_json(), encoding="utf-8")
        temporary.replace(path)


def read_results(path: Path) -> RunResults:
    """Read a results file, failing with one message that names the file and the place."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(
            path, Place(), "the file does not exist", "give the path of a results JSON file"
        ) from None
    except json.JSONDecodeError as exc:
        raise ResultsError(
            path, Place(line=exc.lineno), f"not valid JSON: {exc.msg}", "use a file the suite wrote"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ResultsError(
            path,
            Place(path="format"),
            f"not a results file of format {FORMAT}",
            "re-run the suite to write a new one",
        )
    try:
        cases = [_case(c) for c in data["cases"]]
        return RunResults(
            target=data["target"],
            base_url=data["base_url"],
            contract_digest=data["contract_digest"],
            suite_version=data["suite_version"],
            started_at=data["started_at"],
            finished_at=data["finished_at"],
            hypothesis_profile=data.get("hypothesis_profile", ""),
            cases=cases,
            leftovers=list(data.get("leftovers", [])),
        )
    except (KeyError, TypeError) as exc:
        raise ResultsError(
            path,
            Place(path=str(exc)),
            "a required field is missing or of the wrong type",
            "use a file the suite wrote, unedited",
        ) from None


def _case(data: dict[str, Any]) -> CaseResult:
    observed = data["observed"]
    if data["verdict"] not in VERDICTS:
        raise TypeError("verdict")
    return CaseResult(
        test=data["test"],
        case=data["case"],
        endpoint=data["endpoint"],
        rows=tuple(data["rows"]),
        level=data["level"],
        expected=tuple(data["expected"]),
        observed=None
        if observed is None
        else Observed(
            status=observed["status"],
            code=observed["code"],
            body_fields=tuple(observed["body_fields"]),
            has_body=observed["has_body"],
            error=observed.get("error"),
        ),
        verdict=data["verdict"],
        matched=data.get("matched"),
        latency_ms=data.get("latency_ms"),
        reason=data.get("reason", ""),
    )
