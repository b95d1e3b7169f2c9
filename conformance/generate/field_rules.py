"""The field family: the rules a parsed body breaks field by field.

In the order of the sandbox's check groups: the field rules (behaviour.yaml `fields`, in file order),
the insider_ids range, the ends_at window, target_devices, and last a field no page documents. A
body that did not parse to an object breaks none of them (its body rule is what it breaks). Rule
names come from the contract: a field rule's id and case, an expectation's id (`insider_ids.
below_minimum`), a probe's id; a case behaviour.yaml does not state is named by what it is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Literal

from conformance.contract.rules import ProbeId
from conformance.core.clock import parse_rfc3339
from conformance.generate.ask import Ask
from conformance.generate.expected import ABSENT, Broken, Finding, unstated

# A field's JSON type as openapi.yaml declares it; `timestamp` is a string of format date-time.
FieldKind = Literal["string", "timestamp", "array", "object", "other"]
# Names of cases behaviour.yaml does not state (recorded, never judged): no contract rule names them.
ENDS_AT_STRADDLES_EDGE = "ends-at-straddles-edge"
TARGET_DEVICES_SHAPE = "target-devices-shape"


def fields(ask: Ask) -> Finding:
    body = ask.body
    if body is None:
        return Finding()
    broken = [*field_rules(ask, body), *insider_ids(ask, body), *ends_at(ask, body)]
    devices = target_devices(ask, body)
    broken += devices.broken
    return Finding(broken=(*broken, *unknown_fields(ask, body)), met=devices.met)


def field_rules(ask: Ask, body: Mapping[str, Any]) -> Iterator[Broken]:
    for rule in ask.behaviour.field_rules_for(ask.endpoint):
        case = field_case(body, rule.field, kind_of(ask, rule.field))
        if case is not None:
            yield Broken(f"{rule.id}:{case}", rule.cases.get(case) or unstated(f"{rule.field} {case}"))


def insider_ids(ask: Ask, body: Mapping[str, Any]) -> Iterator[Broken]:
    rule = ask.behaviour.insider_ids
    value = body.get(rule.field)
    if ask.endpoint not in rule.endpoints or not isinstance(value, list):
        return  # absent or of the wrong type: the field rules judge that
    if len(value) < rule.min_items:
        yield Broken(rule.below_minimum.id, rule.below_minimum)
    elif len(value) > rule.max_items:
        yield Broken(rule.above_maximum.id, rule.above_maximum)
    if any(not isinstance(v, str) or not v.strip() for v in value):
        yield Broken(rule.blank_element.id, rule.blank_element)


def ends_at(ask: Ask, body: Mapping[str, Any]) -> Iterator[Broken]:
    window = ask.behaviour.ends_at
    value = body.get(window.field)
    moment = parse_rfc3339(value) if ask.endpoint == window.endpoint and isinstance(value, str) else None
    if moment is None:
        return  # absent or unparseable: the field rules judge that
    rejected = set()
    for offset in ends_at_offsets(ask, moment):
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
    expectations = {
        "past": window.past,
        "at_now": window.at_now,
        "minimum": window.minimum.expectation,
        "maximum": window.maximum.expectation,
    }
    for name in sorted(rejected & set(expectations)):
        yield Broken(expectations[name].id, expectations[name])
    # The uncertainty straddles an edge (inside and out): the strategies avoid it; say it if it happens.
    if len(rejected) > 1 and "inside" in rejected:
        yield Broken(ENDS_AT_STRADDLES_EDGE, unstated("ends_at within the clock uncertainty of an edge"))


def ends_at_offsets(ask: Ask, moment: datetime) -> tuple[float, ...]:
    """The least and greatest offset the server may see, under each clock-resolution reading.

    In real time it lies between `moment` minus the bounds of the server's clock; a server that
    compares whole seconds truncates both first (behaviour.yaml readings: clock-resolution).
    """
    earliest, latest = ask.when.earliest, ask.when.latest
    return (
        (moment - latest).total_seconds(),
        (moment - earliest).total_seconds(),
        (_whole(moment) - _whole(latest)).total_seconds(),
        (_whole(moment) - _whole(earliest)).total_seconds(),
    )


def target_devices(ask: Ask, body: Mapping[str, Any]) -> Finding:
    """Broken elements of target_devices; an empty list meets the broadcast rule (`empty_list`)."""
    rule = ask.behaviour.target_devices
    value = body.get(rule.field, ABSENT)
    if ask.endpoint not in rule.endpoints or value is ABSENT:
        return Finding()
    met = (rule.empty_list,) if value == [] else ()
    if not isinstance(value, list) or any(not isinstance(e, dict) for e in value):
        shape = Broken(TARGET_DEVICES_SHAPE, unstated("target_devices is not a list of objects"))
        return Finding(broken=(shape,), met=met)
    broken = []
    for element in value:
        for name in rule.element_fields:
            case = field_case(element, name, "string")
            if case is None:
                continue
            if case in rule.cases:
                broken.append(Broken(rule.cases[case].id, rule.cases[case]))
            else:
                what = f"{rule.field}[].{name} {case}"
                broken.append(Broken(f"{rule.field}[].{name}:{case}", unstated(what)))
    return Finding(broken=tuple(broken), met=met)


def unknown_fields(ask: Ask, body: Mapping[str, Any]) -> Iterator[Broken]:
    """A top-level field openapi.yaml does not declare: the probe's question, recorded."""
    unknown = sorted(set(body) - set(ask.contract.request_properties(ask.endpoint)))
    if unknown:
        probe = ask.behaviour.probe(ProbeId.UNKNOWN_REQUEST_FIELDS)
        yield Broken(f"{probe.id}:{','.join(unknown)}", probe.expectation)


def kind_of(ask: Ask, dotted: str) -> FieldKind:
    """A request field's JSON type, read from openapi.yaml."""
    schema = ask.contract.request_field(ask.endpoint, dotted)
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
