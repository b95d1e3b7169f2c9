"""The typed contract: what the error table, behaviour.yaml and openapi.yaml say, as frozen values.

Everything else in the package (strategies, oracle, sandbox, suite, reports) reads these objects;
none of it restates a status, code or limit. Objects are built only by `conformance.contract.loader`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Level = Literal["documented", "inferred", "undocumented"]
LEVELS: tuple[Level, ...] = ("documented", "inferred", "undocumented")
BodyPresence = Literal["always", "sometimes", "never"]
OutcomeKind = Literal["ok", "error", "sync_gate", "unknown"]
State = Literal["REGISTERED", "STARTED", "DEAD"]


# -- the error table (errors.yaml) ---------------------------------------------------------------


@dataclass(frozen=True)
class RetryRule:
    """A row of the retry-strategy table, joined to the error rows it covers."""

    error_class: str
    safe: bool
    conditions: tuple[str, ...]
    strategy: str
    backoff_example_seconds: tuple[int, ...]

    @property
    def idempotent_only(self) -> bool:
        """True when the table allows the retry on idempotent endpoints only (the 502 row)."""
        return any("idempotent" in c for c in self.conditions)


@dataclass(frozen=True)
class ErrorRow:
    """One row of the published error table."""

    id: str
    status: int
    code: str | None
    endpoints: tuple[str, ...]
    endpoint_qualifiers: Mapping[str, str]
    meaning: str
    cause: str
    fix: str
    body: BodyPresence
    retry: RetryRule | None
    limit: Mapping[str, int]

    def describe(self) -> str:
        """`404 NOT_FOUND (Activity does not exist)`: how failure messages and reports name a row."""
        return f"{self.status} {self.code or '(no body)'} ({self.meaning})"


@dataclass(frozen=True)
class RetryWarning:
    """The /start (and /end) warning: a repeat after a lost response returns this status and code."""

    endpoint: str
    text: str
    repeat_status: int
    repeat_code: str | None
    check_status_before_retry: bool


@dataclass(frozen=True)
class ErrorTable:
    endpoints: tuple[str, ...]
    rows: tuple[ErrorRow, ...]
    retry_warnings: tuple[RetryWarning, ...]
    logging_fields: tuple[str, ...]
    source_sha256: str

    def row(self, row_id: str) -> ErrorRow:
        for row in self.rows:
            if row.id == row_id:
                return row
        raise KeyError(row_id)

    def rows_for(self, endpoint: str) -> tuple[ErrorRow, ...]:
        return tuple(r for r in self.rows if endpoint in r.endpoints)

    def by_code(self, code: str) -> ErrorRow | None:
        return next((r for r in self.rows if r.code == code), None)


# -- behaviour.yaml ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a response should be: a success, one of some error codes, the sync gate, or unknown.

    `codes` hold row ids (the code, or `HTTP_<status>` for body-less rows) or extra codes; an error
    outcome with no codes asserts `status` only.
    """

    kind: OutcomeKind
    codes: tuple[str, ...] = ()
    status: int | None = None


@dataclass(frozen=True)
class ConflictSide:
    sources: tuple[str, ...]
    says: str
    outcome: Outcome | None = None
    value: Any = None


@dataclass(frozen=True)
class Expectation:
    """An outcome with how sure we are of it and why."""

    outcome: Outcome
    level: Level
    sources: tuple[str, ...]
    note: str = ""
    conflict: tuple[ConflictSide, ...] = ()
    sandbox_choice: Mapping[str, Any] = field(default_factory=dict)
    # Where behaviour.yaml states it (`fields.activity-id-required.cases.missing`): what a results
    # case names to say it judged this expectation (see conformance/judging/coverage.py).
    id: str = ""

    @property
    def asserted(self) -> bool:
        """Documented and inferred expectations are asserted; undocumented ones are only recorded."""
        return self.level != "undocumented"


@dataclass(frozen=True)
class Source:
    key: str
    title: str
    url: str


@dataclass(frozen=True)
class BodyRule:
    id: str
    case: str
    expectation: Expectation


@dataclass(frozen=True)
class FieldRule:
    """A required field on some endpoints, and what each way of breaking it gives."""

    id: str
    field: str
    endpoints: tuple[str, ...]
    cases: Mapping[str, Expectation]


@dataclass(frozen=True)
class Edge:
    """One edge of a numeric window: values beyond `value` get `code`."""

    code: str
    value: int
    accepted_at_edge: bool
    expectation: Expectation


@dataclass(frozen=True)
class EndsAtWindow:
    endpoint: str
    field: str
    past: Expectation
    past_code: str
    minimum: Edge
    maximum: Edge
    at_now: Expectation


@dataclass(frozen=True)
class InsiderIdsRange:
    row: str
    field: str
    endpoints: tuple[str, ...]
    min_items: int
    max_items: int
    below_minimum: Expectation
    above_maximum: Expectation
    blank_element: Expectation
    duplicates: Expectation


@dataclass(frozen=True)
class TargetDevicesRule:
    row: str
    field: str
    endpoints: tuple[str, ...]
    element_fields: tuple[str, ...]
    cases: Mapping[str, Expectation]
    empty_list: Expectation


@dataclass(frozen=True)
class EligibilityClass:
    name: str
    counter: str | None
    skipped: str | None
    gdpr_denied: bool
    expectation: Expectation


@dataclass(frozen=True)
class Eligibility:
    skipped_keys: tuple[str, ...]
    classes: Mapping[str, EligibilityClass]
    no_eligible_code: str
    no_eligible_endpoints: tuple[str, ...]
    no_eligible: Expectation
    single_without_profile_code: str
    single_without_profile_endpoint: str
    single_without_profile: Expectation
    gdpr_details_on_add_users: Expectation


@dataclass(frozen=True)
class Transition:
    endpoint: str
    state: State
    expectation: Expectation
    to: State | None


@dataclass(frozen=True)
class Roles:
    """Which endpoint plays each role (behaviour.yaml `roles`): code asks for a role, never a name."""

    creates_activity: str  # takes no activity_id; its success names the activity it created
    adds_to_segment: str
    removes_from_segment: str
    starts: str  # pushes the start to the segment's devices
    ends: str  # ends a started activity


@dataclass(frozen=True)
class Lifecycle:
    states: tuple[State, ...]
    after_register: State
    transitions: Mapping[tuple[str, State], Transition]
    expiry: Expectation

    def transition(self, endpoint: str, state: State) -> Transition:
        return self.transitions[(endpoint, state)]

    def answering_states(self, endpoint: str) -> tuple[State, ...]:
        """The states, in lifecycle order, whose answer to `endpoint` is documented and no error: a
        valid request there breaks nothing (a broken one breaks only what it breaks)."""
        return tuple(
            s
            for s in self.states
            if (endpoint, s) in self.transitions
            and self.transitions[(endpoint, s)].expectation.asserted
            and self.transitions[(endpoint, s)].expectation.outcome.kind != "error"
        )


@dataclass(frozen=True)
class SyncGate:
    endpoints: tuple[str, ...]
    delay_min_seconds: float
    delay_max_seconds: float
    delay: Expectation
    all_synced: Expectation
    some_synced: Expectation
    count_field: str
    none_synced: Expectation
    end_keeps_activity: Expectation


@dataclass(frozen=True)
class RateLimit:
    row: str
    requests: int
    per_seconds: int
    bucket: tuple[str, ...]
    expectation: Expectation


@dataclass(frozen=True)
class Probe:
    id: str
    endpoints: tuple[str, ...]
    description: str
    expectation: Expectation


@dataclass(frozen=True)
class FaultOnlyRow:
    """A row no request provokes on a healthy API; verified only where the target injects faults."""

    row: str
    reason: str
    expectation: Expectation


@dataclass(frozen=True)
class Reading:
    """A point the documentation leaves open, and the options a real server may take.

    The suite asserts only what holds under every option (`asserted`) and records which one it saw;
    the sandbox takes `options[0]` unless switched to another.
    """

    id: str
    question: str
    facts: str
    sources: tuple[str, ...]
    options: Mapping[str, str]  # option name -> what a server taking it does, in file order
    asserted: str
    governs: tuple[str, ...] = ()  # ids of the expectations whose judged cases exercise `asserted`

    @property
    def default(self) -> str:
        return next(iter(self.options))


@dataclass(frozen=True)
class Behaviour:
    sources: Mapping[str, Source]
    extra_codes: Mapping[str, int]
    success_status: int
    success_field: str
    success_value: str
    sandbox_fallback_code: str  # the sandbox's answer where the contract fixes a status only
    body_rules: tuple[BodyRule, ...]
    field_rules: tuple[FieldRule, ...]
    ends_at: EndsAtWindow
    insider_ids: InsiderIdsRange
    target_devices: TargetDevicesRule
    accounts: Mapping[str, Expectation]
    eligibility: Eligibility
    roles: Roles
    lifecycle: Lifecycle
    sync_gate: SyncGate
    rate_limit: RateLimit
    idempotent: Mapping[str, bool]
    idempotency: Mapping[str, Expectation]
    precedence: Expectation
    probes: tuple[Probe, ...]
    fault_only: tuple[FaultOnlyRow, ...]
    readings: Mapping[str, Reading]

    def body_rule(self, case: str) -> BodyRule:
        return next(r for r in self.body_rules if r.case == case)

    def field_rules_for(self, endpoint: str) -> tuple[FieldRule, ...]:
        return tuple(r for r in self.field_rules if endpoint in r.endpoints)

    def probe(self, probe_id: str) -> Probe:
        return next(p for p in self.probes if p.id == probe_id)


# -- the whole contract --------------------------------------------------------------------------


@dataclass(frozen=True)
class Contract:
    """The loaded, validated, cross-checked contract directory."""

    directory: Path
    digest: str
    table: ErrorTable
    behaviour: Behaviour
    openapi: Mapping[str, Any]
    paths: Mapping[str, str]  # endpoint name -> request path
    api_key_header: str  # the header the API key goes in (openapi.yaml's apiKey security scheme)

    @property
    def endpoints(self) -> tuple[str, ...]:
        return self.table.endpoints

    @property
    def roles(self) -> Roles:
        return self.behaviour.roles

    @property
    def started_state(self) -> State:
        """The state a success of the `starts` role leaves a new activity in (STARTED)."""
        lifecycle = self.behaviour.lifecycle
        return (
            lifecycle.transition(self.roles.starts, lifecycle.after_register).to or lifecycle.after_register
        )

    @property
    def ended_state(self) -> State:
        """The state a success of the `ends` role leaves a started activity in (DEAD)."""
        return (
            self.behaviour.lifecycle.transition(self.roles.ends, self.started_state).to or self.started_state
        )

    # -- openapi.yaml's schemas: the contract's own reading of itself, for the oracle and the sandbox --

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow local `$ref`s (`#/components/schemas/X`), the only kind openapi.yaml uses."""
        while "$ref" in schema:
            node: Any = self.openapi
            for part in str(schema["$ref"]).removeprefix("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def request_properties(self, endpoint: str) -> dict[str, Any]:
        """The top-level request properties of an endpoint (`allOf` parts included)."""
        operation = self.openapi["paths"][self.paths[endpoint]]["post"]
        schema = self.resolve(operation["requestBody"]["content"]["application/json"]["schema"])
        properties: dict[str, Any] = {}
        for part in (schema, *(self.resolve(s) for s in schema.get("allOf", ()))):
            properties.update(part.get("properties", {}))
        return properties

    def request_field(self, endpoint: str, dotted: str) -> Mapping[str, Any]:
        """The schema of a (dotted) request field of an endpoint; empty where none is declared."""
        schema: Mapping[str, Any] = {"properties": self.request_properties(endpoint)}
        for part in dotted.split("."):
            schema = self.resolve(schema.get("properties", {}).get(part, {}))
        return schema

    def success_required(self, endpoint: str) -> tuple[str, ...]:
        """The fields the documented success body of an endpoint always carries."""
        operation = self.openapi["paths"][self.paths[endpoint]]["post"]
        success = operation["responses"].get(str(self.behaviour.success_status), {})
        content = success.get("content", {}).get("application/json", {})
        return tuple(self.resolve(content.get("schema", {})).get("required", ()))

    def status_of(self, code: str) -> int:
        """The HTTP status of a row id or an extra code."""
        if code in self.behaviour.extra_codes:
            return self.behaviour.extra_codes[code]
        return self.table.row(code).status

    def body_code(self, code: str) -> str | None:
        """The `code` a response body carries for a row id (None for body-less rows)."""
        if code in self.behaviour.extra_codes:
            return code
        return self.table.row(code).code
