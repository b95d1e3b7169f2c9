"""The oracle: what the contract says any conforming API answers to a request in a given state.

It reads the request itself (not a label the strategy attached), finds every rule the request
breaks, and returns the set of acceptable responses. Which error wins when several rules are broken
is undocumented, so every broken rule's outcome is acceptable; a request breaking an undocumented
rule is recorded, never judged. This is the suite's prediction of each rule; the sandbox's
implementation of the same rules lives apart, so that a wrong rule in one is caught by the other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from conformance.contract import Expectation
from conformance.contract.model import LEVELS, Level, Outcome, Probe, State
from conformance.core.clock import ServerTime, parse_rfc3339
from conformance.core.exchange import Request
from conformance.generate.world import ActivityModel, World
from conformance.profile.target_profile import Insider

ABSENT = "<absent>"
# The rule a push with `target_devices: []` falls under (besides its endpoint's): the whole segment.
TARGET_DEVICES_EMPTY_LIST = "target-devices-empty-list"
# A field's JSON type as openapi.yaml declares it; `timestamp` is a string of format date-time.
FieldKind = Literal["string", "timestamp", "array", "object", "other"]


@dataclass(frozen=True)
class AtLeast:
    """A body fact the documentation bounds from below only (e.g. `refreshed`, whose scope is a reading)."""

    minimum: int

    def holds(self, value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= self.minimum

    def __str__(self) -> str:
        return f"an integer >= {self.minimum}"


COUNT = AtLeast(0)  # a counter the documentation names but whose value it leaves open


@dataclass(frozen=True)
class Present:
    """A body field the documented response schema requires, whatever its value."""

    def holds(self, value: Any) -> bool:
        return value is not ABSENT

    def __str__(self) -> str:
        return "present"


PRESENT = Present()
Fact = AtLeast | Present  # a fact about a field that is not one exact value


@dataclass(frozen=True)
class Alternative:
    """One acceptable response: a success with body facts, or an error status with codes.

    `codes` are row ids or extra codes; an error alternative without codes asserts the status only.
    `body` maps a dotted response field to the value it must have (`ABSENT`: must not be there; an
    `AtLeast`: a bound only). A key `a+b` is the sum of the fields `a` and `b`.
    `reading` names the option of an open point this alternative takes, so the results say which one
    the target took. `expectations` are the ids of the contract's expectations (behaviour.yaml) a
    response meeting this alternative shows kept: what a results case says it judged.
    """

    kind: Literal["ok", "error"]
    status: int
    rule: str
    level: Level
    codes: tuple[str, ...] = ()
    body: Mapping[str, Any] = field(default_factory=dict)
    reading: str = ""
    expectations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Expected:
    """The acceptable responses to one request, and why."""

    alternatives: tuple[Alternative, ...]
    rules: tuple[str, ...]
    recorded_only: bool = False
    note: str = ""
    # Ids of the undocumented expectations the request falls under: recorded, never judged.
    undocumented: tuple[str, ...] = ()

    @property
    def level(self) -> Level:
        """The weakest level among the rules involved: a verdict is only as sure as its reading."""
        return max((a.level for a in self.alternatives), key=LEVELS.index, default="undocumented")


def expected_outcome(world: World, request: Request, when: ServerTime) -> Expected:
    """The acceptable responses to `request`, sent to a target in the state `world` describes."""
    oracle = _Oracle(world, request, when)
    return oracle.expected()


class _Oracle:
    def __init__(self, world: World, request: Request, when: ServerTime) -> None:
        self.world = world
        self.contract = world.contract
        self.behaviour = world.contract.behaviour
        self.request = request
        self.when = when
        self.broken: list[tuple[str, Expectation]] = []
        # Rules a valid request falls under besides its state's (an empty target_devices list).
        self.applied: list[Expectation] = []

    # -- the whole answer -----------------------------------------------------------------------

    def expected(self) -> Expected:
        injected = self.world.pending_rows.get(self.request.endpoint)
        if injected is not None:
            return self.injected(injected)
        if self.request.account != "good":
            self.broken.append(
                (f"account:{self.request.account}", self.behaviour.accounts[self.request.account])
            )
        body = self.body()
        if body is not None:
            self.fields(body)
        if self.broken:
            if body is not None:
                self.state_error(body)
            return self.from_broken()
        assert isinstance(body, dict)  # no rule broken means the body parsed to an object
        self.applied.append(self.behaviour.accounts[self.request.account])
        valid = self.valid(body)
        applied = tuple(e.id for e in self.applied)
        return replace(
            valid,
            alternatives=tuple(
                replace(a, expectations=(*a.expectations, *applied)) for a in valid.alternatives
            ),
        )

    def state_error(self, body: dict[str, Any]) -> None:
        """A broken request that names an activity may also be refused for the activity's state.

        Which check an API runs first is undocumented, so when a request both breaks a rule and names
        an activity whose state refuses the endpoint (404 after /end, 409 after /start), either
        answer is acceptable; in a state the docs leave open (/end on REGISTERED), the answer is only
        recorded. To a key of another account state, every activity is unknown (DEAD).
        """
        creates = self.request.endpoint == self.contract.roles.creates_activity
        if creates or field_case(body, "activity_id", "string") is not None:
            return
        activity = self.world.activity(self.request.activity_id()) if self.request.account == "good" else None
        state = self.state_of(activity)
        transition = self.behaviour.lifecycle.transition(self.request.endpoint, state)
        expectation = transition.expectation
        # An error the state documents may win; so may whatever a state the docs leave open answers;
        # so may the sync gate, where no device may have synced yet.
        if not expectation.asserted or expectation.outcome.kind == "error":
            self.broken.append((f"lifecycle:{self.request.endpoint}:{state}", expectation))
        elif expectation.outcome.kind == "sync_gate" and activity is not None and not self.synced(activity):
            gate = self.behaviour.sync_gate
            self.broken.append((f"sync-gate:{self.request.endpoint}:none-synced", gate.none_synced))

    def injected(self, row: str) -> Expected:
        behaviour = self.behaviour
        expectation = next((f.expectation for f in behaviour.fault_only if f.row == row), None)
        if expectation is None and row == behaviour.rate_limit.row:
            expectation = behaviour.rate_limit.expectation
        if expectation is None:
            raise ValueError(f"no fault expectation for row {row}")
        return Expected(tuple(self.alternatives_of(f"injected:{row}", expectation)), (f"injected:{row}",))

    def from_broken(self) -> Expected:
        alternatives: list[Alternative] = []
        recorded = False
        for rule, expectation in self.broken:
            recorded |= not expectation.asserted
            alternatives.extend(self.alternatives_of(rule, expectation))
        return Expected(
            alternatives=tuple(alternatives),
            rules=tuple(r for r, _ in self.broken),
            recorded_only=recorded,
            undocumented=tuple(e.id for _, e in self.broken if not e.asserted and e.id),
        )

    def alternatives_of(self, rule: str, expectation: Expectation) -> list[Alternative]:
        outcome = expectation.outcome
        if outcome.kind == "error" and outcome.status is not None:
            return [
                Alternative(
                    "error",
                    outcome.status,
                    rule,
                    expectation.level,
                    outcome.codes,
                    expectations=(expectation.id,),
                )
            ]
        if outcome.kind == "ok":
            return [
                Alternative(
                    "ok",
                    self.behaviour.success_status,
                    rule,
                    expectation.level,
                    expectations=(expectation.id,),
                )
            ]
        sides = [side.outcome for side in expectation.conflict if side.outcome is not None]
        return [
            Alternative(
                s.kind if s.kind == "ok" else "error",
                s.status or self.behaviour.success_status,
                rule,
                expectation.level,
                s.codes,
                expectations=(expectation.id,),
            )
            for s in sides
            if s.kind in ("ok", "error")
        ]

    # -- body rules -----------------------------------------------------------------------------

    def body(self) -> Any:
        """The parsed body, or None after recording the body rule it breaks."""
        rules = self.behaviour
        media = (self.request.content_type or "").split(";")[0].strip().lower()
        if media != "application/json":
            self.broken.append(("body-content-type", rules.body_rule("wrong_content_type").expectation))
        content = self.request.content()
        if not content.strip():
            self.broken.append(("body-empty", rules.body_rule("empty").expectation))
            if content:  # whitespace only: as empty as it is unparseable (readings: unparseable-body-code)
                self.broken.append(("body-unparseable", rules.body_rule("unparseable").expectation))
            return None
        try:
            body = json.loads(content)
        except ValueError:
            self.broken.append(("body-unparseable", rules.body_rule("unparseable").expectation))
            return None
        if not isinstance(body, dict):
            self.broken.append(("body-not-object", rules.body_rule("not_object").expectation))
            return None
        if not body:
            self.broken.append(("body-empty-object", rules.body_rule("empty_object").expectation))
            return None
        return body

    # -- field rules ----------------------------------------------------------------------------

    def fields(self, body: dict[str, Any]) -> None:
        endpoint = self.request.endpoint
        for rule in self.behaviour.field_rules_for(endpoint):
            case = field_case(body, rule.field, self.kind_of(rule.field))
            if case is not None and case in rule.cases:
                self.broken.append((f"{rule.id}:{case}", rule.cases[case]))
            elif case is not None:
                self.broken.append((f"{rule.id}:{case}", _unstated(f"{rule.field} {case}")))
        if endpoint in self.behaviour.insider_ids.endpoints:
            self.insider_ids(body.get(self.behaviour.insider_ids.field))
        if endpoint == self.behaviour.ends_at.endpoint:
            self.ends_at(body.get(self.behaviour.ends_at.field))
        if endpoint in self.behaviour.target_devices.endpoints:
            self.target_devices(body.get(self.behaviour.target_devices.field, ABSENT))
        known = set(self.contract.request_properties(endpoint))
        unknown = sorted(set(body) - known)
        if unknown:
            probe = self.probe("unknown-request-fields")
            self.broken.append((f"{probe.id}:{','.join(unknown)}", probe.expectation))

    def insider_ids(self, value: Any) -> None:
        rule = self.behaviour.insider_ids
        if not isinstance(value, list):
            return  # absent or of the wrong type: the field rules judge that
        if len(value) < rule.min_items:
            self.broken.append(("insider-ids-below-minimum", rule.below_minimum))
        elif len(value) > rule.max_items:
            self.broken.append(("insider-ids-above-maximum", rule.above_maximum))
        if any(not isinstance(v, str) or not v.strip() for v in value):
            self.broken.append(("insider-ids-blank-element", rule.blank_element))

    def ends_at(self, value: Any) -> None:
        window = self.behaviour.ends_at
        moment = parse_rfc3339(value) if isinstance(value, str) else None
        if moment is None:
            return  # absent or unparseable: the field rules judge that
        rejected = set()
        for offset in self.ends_at_offsets(moment):
            if offset < 0:
                rejected.add("past")
            elif offset == 0:
                rejected.add("at_now")
            elif _beyond(offset, window.minimum.value, window.minimum.accepted_at_edge, below=True):
                rejected.add("minimum")
            elif _beyond(offset, window.maximum.value, window.maximum.accepted_at_edge, below=False):
                rejected.add("maximum")
            else:
                rejected.add("inside")
        if len(rejected) > 1:
            # The uncertainty straddles an edge: the strategies avoid this, but say it when it happens.
            rejected.add("straddle")
        expectations = {
            "past": window.past,
            "at_now": window.at_now,
            "minimum": window.minimum.expectation,
            "maximum": window.maximum.expectation,
        }
        for name in sorted(rejected & set(expectations)):
            self.broken.append((f"ends-at-{name}", expectations[name]))
        if "straddle" in rejected and "inside" in rejected:
            self.broken.append(
                ("ends-at-straddles-edge", _unstated("ends_at within the clock uncertainty of an edge"))
            )

    def ends_at_offsets(self, moment: datetime) -> tuple[float, ...]:
        """The least and greatest offset the server may see, under each clock-resolution reading.

        In real time it lies between `moment` minus the bounds of the server's clock; a server that
        compares whole seconds truncates both first (behaviour.yaml readings: clock-resolution).
        """
        earliest, latest = self.when.earliest, self.when.latest
        return (
            (moment - latest).total_seconds(),
            (moment - earliest).total_seconds(),
            (_whole(moment) - _whole(latest)).total_seconds(),
            (_whole(moment) - _whole(earliest)).total_seconds(),
        )

    def target_devices(self, value: Any) -> None:
        rule = self.behaviour.target_devices
        if value is ABSENT:
            return
        if value == []:
            self.applied.append(rule.empty_list)
        if not isinstance(value, list) or any(not isinstance(e, dict) for e in value):
            self.broken.append(("target-devices-shape", _unstated("target_devices is not a list of objects")))
            return
        for element in value:
            for name in rule.element_fields:
                case = field_case(element, name, "string")
                if case is not None and case in rule.cases:
                    self.broken.append((f"target-devices-{case}", rule.cases[case]))
                elif case is not None:
                    self.broken.append(
                        (f"target-devices-{case}", _unstated(f"target_devices[].{name} {case}"))
                    )

    # -- valid requests: the state decides ------------------------------------------------------

    def valid(self, body: dict[str, Any]) -> Expected:
        endpoint = self.request.endpoint
        roles = self.contract.roles
        if endpoint == roles.creates_activity:
            return self.eligibility(body, None)
        activity = self.world.activity(self.request.activity_id())
        state: State = self.state_of(activity)
        transition = self.behaviour.lifecycle.transition(endpoint, state)
        expectation = transition.expectation
        rule = f"lifecycle:{endpoint}:{state}"
        notes = []
        self.applied.append(expectation)
        probe = self.probe_of(body, activity)
        if probe is not None:
            return Expected(
                tuple(self.alternatives_of(probe.id, probe.expectation)),
                (rule, probe.id),
                recorded_only=True,
                undocumented=(probe.expectation.id,),
            )
        if not expectation.asserted:
            choice = expectation.sandbox_choice.get("outcome")
            notes.append(f"undocumented; the sandbox chose {choice}")
            if choice == "sync_gate" and activity is not None:
                gate = self.sync_gate(activity, body)
                return Expected(
                    gate.alternatives,
                    (rule, *gate.rules),
                    recorded_only=True,
                    note="; ".join(notes),
                    undocumented=(expectation.id,),
                )
            return Expected(
                (), (rule,), recorded_only=True, note="; ".join(notes), undocumented=(expectation.id,)
            )
        if expectation.outcome.kind == "error":
            return Expected(tuple(self.alternatives_of(rule, expectation)), (rule,))
        if expectation.outcome.kind == "sync_gate":
            assert activity is not None  # DEAD is every unknown id, and DEAD never opens the gate
            return self.broadcast(body, self.sync_gate(activity, body))
        assert activity is not None  # DEAD is every unknown id, and DEAD answers no endpoint with a success
        if endpoint == roles.adds_to_segment:
            return self.eligibility(body, activity)
        if endpoint == roles.removes_from_segment:
            removed = sum(len(self.insider(i).devices) for i in set(body["insider_ids"]) & activity.segment)
            return self.ok(rule, expectation, {"removed": removed, "matched": 0, "added": 0})
        if endpoint == roles.starts:
            sessions = len(self.targets(activity, body))
            return self.broadcast(body, self.ok(rule, expectation, {"sessions_triggered": sessions}))
        return self.ok(rule, expectation, {})  # a success whose body no role fixes: its shape only

    def broadcast(self, body: dict[str, Any], expected: Expected) -> Expected:
        """A push whose target_devices is an empty list: the whole segment, as the docs say of an
        omitted one (behaviour.yaml target_devices.empty_list); the case names that rule too."""
        rule = self.behaviour.target_devices
        if body.get(rule.field, ABSENT) != [] or not rule.empty_list.asserted:
            return expected
        level = max(expected.level, rule.empty_list.level, key=LEVELS.index)
        return Expected(
            tuple(replace(a, level=max(a.level, level, key=LEVELS.index)) for a in expected.alternatives),
            (*expected.rules, TARGET_DEVICES_EMPTY_LIST),
            expected.recorded_only,
            expected.note,
        )

    def probe_of(self, body: dict[str, Any], activity: ActivityModel | None) -> Probe | None:
        """The undocumented probe a request on an existing activity falls under, if any: then no
        documented rule judges it, whatever the lifecycle says of its endpoint."""
        if activity is None:
            return None
        if body.get("activity_type") != activity.activity_type:
            return self.probe("mismatched-activity-type")
        no_target = self.probe("start-with-no-matching-target")
        endpoint = self.request.endpoint
        if (
            endpoint in no_target.endpoints
            and body.get(self.behaviour.target_devices.field)
            and self.behaviour.lifecycle.transition(
                endpoint, self.state_of(activity)
            ).expectation.outcome.kind
            == "ok"
            and not self.targets(activity, body)
        ):
            return no_target
        return None

    def probe(self, probe_id: str) -> Probe:
        return next(p for p in self.behaviour.probes if p.id == probe_id)

    def state_of(self, activity: ActivityModel | None) -> State:
        if activity is None:
            return "DEAD"
        if activity.ends_at <= self.when.earliest:
            return "DEAD"
        return activity.state

    def ok(self, rule: str, expectation: Expectation, body: Mapping[str, Any]) -> Expected:
        status = self.behaviour.success_status
        body = {**self.shape(), **body}
        ok = Alternative("ok", status, rule, expectation.level, body=body, expectations=(expectation.id,))
        return Expected((ok,), (rule,))

    def shape(self) -> dict[str, Fact]:
        """The top-level fields openapi.yaml's success schema of the endpoint requires."""
        return dict.fromkeys(self.contract.success_required(self.request.endpoint), PRESENT)

    def insider(self, insider_id: str) -> Insider:
        found = next((i for i in self.world.profile.insiders if i.insider_id == insider_id), None)
        return found or Insider(insider_id=insider_id, eligibility="no_profile", devices=())

    def eligibility(self, body: dict[str, Any], activity: ActivityModel | None) -> Expected:
        rules = self.behaviour.eligibility
        endpoint = self.request.endpoint
        ids: list[str] = body["insider_ids"]
        insiders = [self.insider(i) for i in dict.fromkeys(ids)]
        if len(ids) != len(set(ids)):
            return Expected(
                (),
                ("insider-ids-duplicates",),
                recorded_only=True,
                note="duplicate insider ids",
                undocumented=(self.behaviour.insider_ids.duplicates.id,),
            )
        rule = f"eligibility:{endpoint}"
        single = rules.single_without_profile_endpoint
        if endpoint == single and len(insiders) == 1 and insiders[0].eligibility == "no_profile":
            alt = self.alternatives_of("single-insider-without-profile", rules.single_without_profile)
            return Expected(tuple(alt), ("single-insider-without-profile",))
        skipped = dict.fromkeys(rules.skipped_keys, 0)
        eligible = [i for i in insiders if rules.classes[i.eligibility].counter is not None]
        for insider in insiders:
            key = rules.classes[insider.eligibility].skipped
            if key is not None and insider.eligibility != "no_profile":
                skipped[key] += len(insider.devices)
        gdpr = sorted(i.insider_id for i in insiders if rules.classes[i.eligibility].gdpr_denied)
        # Every skipped key is on every such body; user_not_found's unit is not documented: presence only.
        facts: dict[str, Any] = {
            f"skipped.{k}": v if k != "user_not_found" else COUNT for k, v in skipped.items()
        }
        if gdpr and endpoint == self.contract.roles.creates_activity:
            facts["gdpr_denied_details.insider_id"] = gdpr
        if not eligible:
            if endpoint not in rules.no_eligible_endpoints:
                return Expected((), (rule,), recorded_only=True)
            alt = self.alternatives_of(f"{rule}:no-eligible-device", rules.no_eligible)
            return Expected(tuple(replace(a, body=facts) for a in alt), (rule,))
        devices = sum(len(i.devices) for i in eligible)
        known = sum(
            len(i.devices) for i in eligible if activity is not None and i.insider_id in activity.segment
        )
        # What holds under every reading of the counters (behaviour.yaml readings: matched-unit,
        # refreshed-scope): the eligible devices are added or refreshed, and one already in this
        # activity's segment is refreshed. `matched` counts insiders or devices; each is an alternative,
        # so the results say which reading the target took.
        facts["added+refreshed"] = devices
        facts["refreshed"] = AtLeast(known)
        denied = [i for i in insiders if rules.classes[i.eligibility].gdpr_denied]
        return Expected(
            tuple(
                Alternative(
                    "ok",
                    self.behaviour.success_status,
                    rule,
                    "documented",
                    body={**self.shape(), **facts, "matched": count},
                    reading=reading,
                    expectations=tuple(
                        dict.fromkeys(rules.classes[i.eligibility].expectation.id for i in insiders)
                    ),
                )
                for reading, count in self.matched_readings(eligible, denied).items()
            ),
            (rule,),
        )

    def matched_readings(self, eligible: list[Insider], denied: list[Insider]) -> dict[str, int]:
        """What `matched` may be under the readings it depends on (matched-unit, gdpr-denied-in-matched),
        named by the options that give each count (`matched-unit=insiders/devices` where both agree,
        so the results never claim a reading the answer cannot show); the sandbox's first."""
        unit = self.behaviour.readings["matched-unit"]
        gdpr = self.behaviour.readings["gdpr-denied-in-matched"]
        count = {
            ("insiders", "listed-only"): len(eligible),
            ("devices", "listed-only"): sum(len(i.devices) for i in eligible),
            ("insiders", "counted"): len(eligible) + len(denied),
            ("devices", "counted"): sum(len(i.devices) for i in (*eligible, *denied)),
        }
        combos: dict[int, list[tuple[str, str]]] = {}
        for u in unit.options:
            for g in gdpr.options:
                combos.setdefault(count[(u, g)], []).append((u, g))
        readings: dict[str, int] = {}
        for n, agreeing in combos.items():
            units = "/".join(dict.fromkeys(u for u, _ in agreeing))
            gdprs = "/".join(dict.fromkeys(g for _, g in agreeing))
            readings[f"{unit.id}={units}" + (f", {gdpr.id}={gdprs}" if denied else "")] = n
        return readings

    def targets(self, activity: ActivityModel, body: dict[str, Any]) -> list[tuple[str, str, bool]]:
        """(insider_id, udid, syncs) of the segment's devices the request addresses."""
        devices = [(i, d.udid, d.syncs) for i in sorted(activity.segment) for d in self.insider(i).devices]
        wanted = body.get(self.behaviour.target_devices.field)
        if not wanted:
            return devices
        pairs = {(e["insider_id"], e["udid"]) for e in wanted}
        return [d for d in devices if (d[0], d[1]) in pairs]

    def synced_for_sure(self, activity: ActivityModel) -> bool:
        """Past the target's declared sync bound since /start: every device that syncs has."""
        bound = timedelta(seconds=self.world.profile.sync_delay_seconds)
        return activity.started_at is not None and self.when.earliest - activity.started_at >= bound

    def synced(self, activity: ActivityModel) -> bool:
        """Some device of the segment has surely synced: the gate is open to an untargeted push."""
        syncing = any(d.syncs for i in activity.segment for d in self.insider(i).devices)
        return activity.state == "STARTED" and syncing and self.synced_for_sure(activity)

    def sync_gate(self, activity: ActivityModel, body: dict[str, Any]) -> Expected:
        targets = self.targets(activity, body)
        rule = f"sync-gate:{self.request.endpoint}"
        synced_for_sure = self.synced_for_sure(activity)
        syncing = [t for t in targets if t[2]] if activity.state == "STARTED" else []
        if synced_for_sure or not syncing:
            return self.gate_outcome(rule, len(targets), len(syncing))
        # Before the sync bound, any number of the syncing devices may have synced.
        outcomes = [self.gate_outcome(rule, len(targets), n) for n in range(len(syncing) + 1)]
        alternatives = tuple(
            replace(a, body={k: v for k, v in a.body.items() if v is PRESENT})
            for o in outcomes
            for a in o.alternatives
        )
        return Expected(alternatives, (rule, "sync-gate:not-yet-bounded"))

    def gate_outcome(self, rule: str, targets: int, synced: int) -> Expected:
        gate = self.behaviour.sync_gate
        if synced == 0:
            return Expected(tuple(self.alternatives_of(f"{rule}:none-synced", gate.none_synced)), (rule,))
        if synced == targets:
            return self.ok(
                f"{rule}:all-synced",
                gate.all_synced,
                {"sessions_triggered": synced, gate.count_field: ABSENT},
            )
        return self.ok(
            f"{rule}:some-synced",
            gate.some_synced,
            {"sessions_triggered": synced, gate.count_field: targets - synced},
        )

    # -- the request schema, read from openapi.yaml ---------------------------------------------

    def kind_of(self, dotted: str) -> FieldKind:
        schema = self.contract.request_field(self.request.endpoint, dotted)
        kind = schema.get("type")
        if kind == "string" and schema.get("format") == "date-time":
            return "timestamp"
        return kind if kind in ("string", "array", "object") else "other"


def field_case(body: Mapping[str, Any], dotted: str, kind: FieldKind) -> str | None:
    """How a field is broken (missing, null, wrong_type, empty, whitespace, not_a_timestamp), or None.

    A field under a missing or non-object parent is not judged here: the parent's rule is.
    """
    node: Any = body
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            return None
    if parts[-1] not in node:
        return "missing"
    value = node[parts[-1]]
    if value is None:
        return "null"
    expected_type = {"string": str, "timestamp": str, "array": list, "object": dict}.get(kind)
    if expected_type is not None and not isinstance(value, expected_type):
        return "wrong_type"
    if isinstance(value, str):
        if value == "":
            return "empty"
        if not value.strip():
            return "whitespace"
        if kind == "timestamp" and parse_rfc3339(value) is None:
            return "not_a_timestamp"
    return None


def _whole(moment: datetime) -> datetime:
    """The whole second a moment falls in (zone offsets are whole minutes, so any zone will do)."""
    return moment.replace(microsecond=0)


def _beyond(offset: float, edge: int, accepted_at_edge: bool, *, below: bool) -> bool:
    if below:
        return offset < edge if accepted_at_edge else offset <= edge
    return offset > edge if accepted_at_edge else offset >= edge


def _unstated(what: str) -> Expectation:
    """An expectation for a case behaviour.yaml does not state: recorded, never asserted."""
    return Expectation(
        outcome=Outcome(kind="unknown"), level="undocumented", sources=(), note=f"not stated: {what}"
    )
