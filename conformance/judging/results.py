"""The results file: one JSON document per run, the input of drift reports and certification.

Each case carries its contract rows, endpoint, input class, level, expected and observed outcome,
verdict and latency; the run carries the target, the contract's digest, the suite version and time.
A test that ends in an error, or skips without saying why to the suite, gets a case too (verdict
`error` or `skipped`; see the plugin), so every outcome of a run is in its file.
Written atomically; read back with validation, so a broken file is one clear error.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from conformance.contract.model import LEVELS
from conformance.contract.rules import ITEM_UNITS, ContractItem
from conformance.core import files
from conformance.core.errors import Place, ResultsError

FORMAT = 1


class Verdict(StrEnum):
    """What a run found of one case; the value is the results file's spelling.

    The order is the file's `counts` order (and the reports' columns).
    """

    PASSED = "passed"  # the answer is one the contract allows
    FAILED = "failed"  # the answer breaks a documented or inferred expectation
    RECORDED = "recorded"  # undocumented behaviour: the answer is kept, never judged
    SKIPPED = "skipped"  # the target could not be tested (why: the case's `reason`)
    # The suite reached no verdict (a crash, a fixture error, a test's own assertion, a worker that
    # died); pytest fails the run for it as for `failed`.
    ERROR = "error"


# The verdicts of a case whose answer was compared with the contract.
JUDGED = frozenset({Verdict.PASSED, Verdict.FAILED})
# The verdicts of a case the suite reached no verdict on: nothing was judged or recorded.
UNVERIFIED = frozenset({Verdict.SKIPPED, Verdict.ERROR})
# The case name of a request that set a test up (judged only on what the test needs): its endpoint,
# or its step, follows. Arrangement is not the subject, so such a case verifies no expectation.
ARRANGEMENT = "arrange: "
Unit = Literal["s", "ids"]
UNITS: tuple[Unit, ...] = ("s", "ids")
# An edge known to lie in [low, high]; None: beyond the searched range on that side.
Interval = tuple[int | None, int | None]


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
    verdict: Verdict
    matched: str | None = None  # the rule whose outcome the response met (which error won)
    latency_ms: float | None = None
    reason: str = ""  # for skips: why the target could not be tested; for failures and errors: the summary
    request: str = ""  # for failures: the request as a curl command, its key redacted
    # The ids of the contract's expectations the verdict judged (behaviour.yaml key paths, see
    # conformance/judging/coverage.py): a pass, those of the answer it met; a failure, every one it broke.
    expectations: tuple[str, ...] = ()


def unverified(
    test: str,
    verdict: Verdict,
    reason: str,
    *,
    case: str = "",
    endpoint: str = "",
    rows: tuple[str, ...] = (),
) -> CaseResult:
    """A case the suite reached no verdict on: `skipped` (the target could not be tested) or `error`.

    Nothing was judged, so it has no level, expectation or observation; `case` defaults to the verdict.
    """
    return CaseResult(
        test=test,
        case=case or verdict.value,
        endpoint=endpoint,
        rows=rows,
        level="",
        expected=(),
        observed=None,
        verdict=verdict,
        reason=reason,
    )


@dataclass(frozen=True)
class MeasuredEdge:
    """Where the target put one numeric edge of the contract, in the contract's own terms.

    `measured` is exact where the target's clock is (a virtual one, or a count of ids), else the
    interval the clock's tolerance leaves; `requests` is how many probes the measurement took.
    """

    documented: int
    measured: int | Interval
    unit: Unit
    requests: int


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
    edges: dict[str, MeasuredEdge] = field(default_factory=dict)  # row id -> where its edge lies
    # The run was stopped (Ctrl-C, SIGTERM) before every test ran: the cases are a part of the run.
    interrupted: bool = False
    # Why this run is not green whatever its verdicts (it judged no documented case, or errors
    # outnumber verdicts: `conformance.judging.earned`); "" when it verified something.
    unearned: str = ""
    # What the contract expects a run to judge (conformance/contract/rules.py), written with the
    # cases so that a report counts what was not exercised without the contract at hand.
    expectations: list[ContractItem] = field(default_factory=list)
    # Why the run stopped, when the suite stopped it (a target that stopped answering); "" otherwise.
    interrupted_reason: str = ""

    def record_edge(self, row: str, edge: MeasuredEdge) -> None:
        """Record the measured edge of `row` (e.g. ENDS_AT_TOO_SOON); a later measurement replaces it."""
        self.edges[row] = edge

    def counts(self) -> dict[str, int]:
        counted = Counter(c.verdict for c in self.cases)
        return {v: counted.get(v, 0) for v in Verdict}

    def to_json(self, coverage: Sequence[Mapping[str, object]] = ()) -> str:
        """The file's text; `coverage` (conformance/judging/coverage.py: derived from the cases, for readers
        of the JSON) is written as it is and not read back."""
        data = asdict(self)
        data["format"] = FORMAT
        data["counts"] = self.counts()
        data["coverage"] = list(coverage)
        return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False)

    def write(self, path: Path, coverage: Sequence[Mapping[str, object]] = ()) -> None:
        """Write via a temporary file and a rename: a crash never leaves half a results file."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            files.write_atomically(path, self.to_json(coverage))
        except OSError as exc:
            raise ResultsError(
                path, Place(), f"cannot be written: {exc}", "pass a writable --results path"
            ) from None


def merge(parts: list[RunResults]) -> RunResults:
    """One run's results from the parts its parallel workers wrote (pytest-xdist)."""
    first = parts[0]
    return RunResults(
        target=first.target,
        base_url=first.base_url,
        contract_digest=first.contract_digest,
        suite_version=first.suite_version,
        started_at=min(p.started_at for p in parts),
        finished_at=max(p.finished_at for p in parts),
        hypothesis_profile=first.hypothesis_profile,
        cases=[c for p in parts for c in p.cases],
        leftovers=[x for p in parts for x in p.leftovers],
        edges={row: e for p in parts for row, e in p.edges.items()},
        interrupted=any(p.interrupted for p in parts),
        expectations=next((p.expectations for p in parts if p.expectations), []),
        interrupted_reason=next((p.interrupted_reason for p in parts if p.interrupted_reason), ""),
    )


def read_results(path: Path) -> RunResults:
    """Read a results file, failing with one message that names the file and the place."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(
            path, Place(), "the file does not exist", "give the path of a results JSON file"
        ) from None
    except OSError as exc:
        raise ResultsError(
            path, Place(), f"the file cannot be read: {exc.strerror}", "give the path of a results JSON file"
        ) from None
    except UnicodeDecodeError:
        raise ResultsError(path, Place(), "not UTF-8 text", "use a file the suite wrote") from None
    return parse_results(text, path)


def parse_results(text: str, path: Path) -> RunResults:
    """Results from the text of a results file (`path` names where it came from), validated alike."""
    try:
        data = json.loads(text)
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
        return _run(data)
    except _Invalid as invalid:
        raise ResultsError(
            path, Place(path=invalid.place), invalid.problem, "use a file the suite wrote, unedited"
        ) from None


class _Invalid(Exception):
    def __init__(self, place: str, problem: str) -> None:
        super().__init__(place, problem)
        self.place = place
        self.problem = problem


_REQUIRED: Any = object()
_JSON_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list"}
_JSON_NAMES |= {dict: "an object", type(None): "null"}


def _field(
    data: dict[str, Any], key: str, kinds: tuple[type, ...], where: str, default: Any = _REQUIRED
) -> Any:
    """`data[key]` if it is one of `kinds` (JSON types: a bool is not an integer); `default` if absent."""
    place = f"{where}.{key}" if where else key
    if key not in data:
        if default is _REQUIRED:
            raise _Invalid(place, "a required field is missing")
        return default
    value = data[key]
    if type(value) not in kinds and not (float in kinds and type(value) is int):
        wanted = " or ".join(_JSON_NAMES[k] for k in kinds)
        raise _Invalid(place, f"expected {wanted}, found {_JSON_NAMES.get(type(value), 'something else')}")
    return value


def _object(value: Any, place: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid(place, f"expected an object, found {_JSON_NAMES.get(type(value), 'something else')}")
    return value


def _strings(data: dict[str, Any], key: str, where: str, default: Any = _REQUIRED) -> tuple[str, ...]:
    values = _field(data, key, (list,), where, default)
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise _Invalid(f"{where}.{key}[{index}]" if where else f"{key}[{index}]", "expected a string")
    return tuple(values)


def _choice(data: dict[str, Any], key: str, allowed: tuple[str, ...], where: str) -> str:
    value: str = _field(data, key, (str,), where)
    if value not in allowed:
        raise _Invalid(f"{where}.{key}", f"{value!r} is not one of {', '.join(map(repr, allowed))}")
    return value


def _run(data: dict[str, Any]) -> RunResults:
    text = (str,)
    cases = _field(data, "cases", (list,), "")
    edges = _field(data, "edges", (dict,), "", {})
    return RunResults(
        target=_field(data, "target", text, ""),
        base_url=_field(data, "base_url", text, ""),
        contract_digest=_field(data, "contract_digest", text, ""),
        suite_version=_field(data, "suite_version", text, ""),
        started_at=_field(data, "started_at", text, ""),
        finished_at=_field(data, "finished_at", text, ""),
        hypothesis_profile=_field(data, "hypothesis_profile", text, "", ""),
        cases=[_case(_object(c, f"cases[{i}]"), f"cases[{i}]") for i, c in enumerate(cases)],
        leftovers=list(_strings(data, "leftovers", "", [])),
        edges={row: _edge(_object(e, f"edges.{row}"), f"edges.{row}") for row, e in edges.items()},
        interrupted=_field(data, "interrupted", (bool,), "", False),
        unearned=_field(data, "unearned", text, "", ""),
        expectations=[
            _item(_object(e, f"expectations[{i}]"), f"expectations[{i}]")
            for i, e in enumerate(_field(data, "expectations", (list,), "", []))
        ],
        interrupted_reason=_field(data, "interrupted_reason", text, "", ""),
    )


def _case(data: dict[str, Any], where: str) -> CaseResult:
    text, maybe_text = (str,), (str, type(None))
    observed = _field(data, "observed", (dict, type(None)), where)
    latency = _field(data, "latency_ms", (float, type(None)), where, None)
    if latency is not None and not 0 <= latency < float("inf"):
        raise _Invalid(f"{where}.latency_ms", "expected a finite number of milliseconds, at least 0")
    return CaseResult(
        test=_field(data, "test", text, where),
        case=_field(data, "case", text, where),
        endpoint=_field(data, "endpoint", text, where),
        rows=_strings(data, "rows", where),
        level=_choice(data, "level", ("", *LEVELS), where),
        expected=_strings(data, "expected", where),
        observed=None if observed is None else _observed(observed, f"{where}.observed"),
        verdict=Verdict(_choice(data, "verdict", tuple(v.value for v in Verdict), where)),
        matched=_field(data, "matched", maybe_text, where, None),
        latency_ms=latency,
        reason=_field(data, "reason", text, where, ""),
        request=_field(data, "request", text, where, ""),
        expectations=_strings(data, "expectations", where, ()),
    )


def _item(data: dict[str, Any], where: str) -> ContractItem:
    return ContractItem(
        unit=_choice(data, "unit", ITEM_UNITS, where),
        id=_field(data, "id", (str,), where),
        level=_choice(data, "level", LEVELS, where),
        endpoints=_strings(data, "endpoints", where),
        governs=_strings(data, "governs", where, ()),
    )


def _observed(data: dict[str, Any], where: str) -> Observed:
    return Observed(
        status=_field(data, "status", (int, type(None)), where),
        code=_field(data, "code", (str, type(None)), where),
        body_fields=_strings(data, "body_fields", where),
        has_body=_field(data, "has_body", (bool,), where),
        error=_field(data, "error", (str, type(None)), where, None),
    )


def _edge(data: dict[str, Any], where: str) -> MeasuredEdge:
    measured = _field(data, "measured", (int, list), where)
    if isinstance(measured, list):
        bounds = [b for b in measured if b is not None]
        integers = all(type(b) is int for b in bounds)
        if len(measured) != 2 or not bounds or not integers or bounds != sorted(bounds):
            problem = "expected an integer or [low, high] (integers, low <= high; null for an open side)"
            raise _Invalid(f"{where}.measured", problem)
        measured = (measured[0], measured[1])
    requests: int = _field(data, "requests", (int,), where)
    if requests < 0:
        raise _Invalid(f"{where}.requests", "expected a count, at least 0")
    unit = _choice(data, "unit", UNITS, where)
    return MeasuredEdge(
        documented=_field(data, "documented", (int,), where),
        measured=measured,
        unit="s" if unit == "s" else "ids",
        requests=requests,
    )
