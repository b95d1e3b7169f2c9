"""The success family: what the state answers to a request that breaks no other rule.

In this order: the activity-creating endpoint answers by eligibility; a probe the request falls under
(behaviour.yaml `probes`) takes the answer out of judging; then the lifecycle decides: a state the
docs leave open is recorded, an error state refuses, the sync gate counts the synced devices, and
a success carries the counters its role documents and the fields openapi.yaml requires of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from conformance.contract.model import LEVELS, Expectation, Probe
from conformance.contract.rules import ProbeId
from conformance.generate.ask import Ask
from conformance.generate.expected import (
    ABSENT,
    COUNT,
    PRESENT,
    Alternative,
    AtLeast,
    Expected,
    Fact,
    alternatives_of,
    meeting,
)
from conformance.generate.state_rules import lifecycle_rule, sync_gate_rule
from conformance.generate.world import ActivityModel
from conformance.profile.target_profile import Insider


def success(ask: Ask, body: dict[str, Any]) -> Expected:
    """The answer to a request that breaks no rule of the families before this one."""
    if ask.endpoint == ask.contract.roles.creates_activity:
        return eligibility(ask, body, None)
    activity = ask.activity
    now = ask.state_of(activity)
    transition = ask.behaviour.lifecycle.transition(ask.endpoint, now).expectation
    return meeting(
        by_state(ask, body, activity, transition, lifecycle_rule(ask.endpoint, now)), (transition,)
    )


def by_state(
    ask: Ask, body: dict[str, Any], activity: ActivityModel | None, transition: Expectation, rule: str
) -> Expected:
    """What the activity's state answers (`transition`: the lifecycle's expectation of it)."""
    probe = probe_of(ask, body, activity)
    if probe is not None:
        return Expected(
            tuple(alternatives_of(ask.behaviour, probe.id, probe.expectation)),
            (rule, probe.id),
            recorded_only=True,
            undocumented=(probe.expectation.id,),
        )
    if not transition.asserted:
        choice = transition.sandbox_choice.get("outcome")
        note = f"undocumented; the sandbox chose {choice}"
        gate = sync_gate(ask, activity) if choice == "sync_gate" and activity is not None else None
        return Expected(
            gate.alternatives if gate else (),
            (rule, *(gate.rules if gate else ())),
            recorded_only=True,
            note=note,
            undocumented=(transition.id,),
        )
    if transition.outcome.kind == "error":
        return Expected(tuple(alternatives_of(ask.behaviour, rule, transition)), (rule,))
    assert activity is not None  # DEAD is every unknown id, and DEAD answers neither a gate nor a success
    roles = ask.contract.roles
    if transition.outcome.kind == "sync_gate":
        return broadcast(ask, body, sync_gate(ask, activity))
    if ask.endpoint == roles.adds_to_segment:
        return eligibility(ask, body, activity)
    if ask.endpoint == roles.removes_from_segment:
        removed = sum(len(ask.insider(i).devices) for i in set(body["insider_ids"]) & activity.segment)
        return ok(ask, rule, transition, {"removed": removed, "matched": 0, "added": 0})
    if ask.endpoint == roles.starts:
        sessions = len(ask.targets(activity))
        return broadcast(ask, body, ok(ask, rule, transition, {"sessions_triggered": sessions}))
    return ok(ask, rule, transition, {})  # a success whose body no role fixes: its shape only


def broadcast(ask: Ask, body: dict[str, Any], expected: Expected) -> Expected:
    """A push whose target_devices is an empty list: the whole segment, as the docs say of an
    omitted one (behaviour.yaml target_devices.empty_list); the case names that rule too."""
    rule = ask.behaviour.target_devices
    if body.get(rule.field, ABSENT) != [] or not rule.empty_list.asserted:
        return expected
    level = max(expected.level, rule.empty_list.level, key=LEVELS.index)
    return Expected(
        tuple(replace(a, level=max(a.level, level, key=LEVELS.index)) for a in expected.alternatives),
        (*expected.rules, rule.empty_list.id),
        expected.recorded_only,
        expected.note,
    )


def probe_of(ask: Ask, body: dict[str, Any], activity: ActivityModel | None) -> Probe | None:
    """The undocumented probe a request on an existing activity falls under, if any: then no
    documented rule judges it, whatever the lifecycle says of its endpoint."""
    if activity is None:
        return None
    if body.get("activity_type") != activity.activity_type:
        return ask.behaviour.probe(ProbeId.MISMATCHED_ACTIVITY_TYPE)
    no_target = ask.behaviour.probe(ProbeId.START_WITH_NO_MATCHING_TARGET)
    transition = ask.behaviour.lifecycle.transition(ask.endpoint, ask.state_of(activity))
    if (
        ask.endpoint in no_target.endpoints
        and body.get(ask.behaviour.target_devices.field)
        and transition.expectation.outcome.kind == "ok"
        and not ask.targets(activity)
    ):
        return no_target
    return None


def ok(ask: Ask, rule: str, expectation: Expectation, body: Mapping[str, Any]) -> Expected:
    """A success: the fields openapi.yaml's success schema of the endpoint requires, and `body`."""
    required: dict[str, Any] = dict.fromkeys(ask.contract.success_required(ask.endpoint), PRESENT)
    alternative = Alternative(
        "ok",
        ask.behaviour.success_status,
        rule,
        expectation.level,
        body={**required, **body},
        expectations=(expectation.id,),
    )
    return Expected((alternative,), (rule,))


def eligibility(ask: Ask, body: dict[str, Any], activity: ActivityModel | None) -> Expected:
    """What adding insiders to a segment answers: by each insider's eligibility class."""
    behaviour = ask.behaviour
    rules = behaviour.eligibility
    endpoint = ask.endpoint
    ids: list[str] = body["insider_ids"]
    insiders = [ask.insider(i) for i in dict.fromkeys(ids)]
    if len(ids) != len(set(ids)):
        duplicates = behaviour.insider_ids.duplicates
        return Expected(
            (),
            (duplicates.id,),
            recorded_only=True,
            note="duplicate insider ids",
            undocumented=(duplicates.id,),
        )
    rule = f"eligibility:{endpoint}"
    single = rules.single_without_profile
    if (
        endpoint == rules.single_without_profile_endpoint
        and len(insiders) == 1
        and insiders[0].eligibility == "no_profile"
    ):
        return Expected(tuple(alternatives_of(behaviour, single.id, single)), (single.id,))
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
    if gdpr and endpoint == ask.contract.roles.creates_activity:
        facts["gdpr_denied_details.insider_id"] = gdpr
    if not eligible:
        if endpoint not in rules.no_eligible_endpoints:
            return Expected((), (rule,), recorded_only=True)
        alternatives = alternatives_of(behaviour, f"{rule}:no-eligible-device", rules.no_eligible)
        return Expected(tuple(replace(a, body=facts) for a in alternatives), (rule,))
    devices = sum(len(i.devices) for i in eligible)
    known = sum(len(i.devices) for i in eligible if activity is not None and i.insider_id in activity.segment)
    # What holds under every reading of the counters (behaviour.yaml readings: matched-unit,
    # refreshed-scope): the eligible devices are added or refreshed, and one already in this
    # activity's segment is refreshed. `matched` counts insiders or devices; each is an alternative,
    # so the results say which reading the target took.
    facts["added+refreshed"] = devices
    facts["refreshed"] = AtLeast(known)
    denied = [i for i in insiders if rules.classes[i.eligibility].gdpr_denied]
    required: dict[str, Fact] = dict.fromkeys(ask.contract.success_required(endpoint), PRESENT)
    return Expected(
        tuple(
            Alternative(
                "ok",
                behaviour.success_status,
                rule,
                "documented",
                body={**required, **facts, "matched": count},
                reading=reading,
                expectations=tuple(
                    dict.fromkeys(rules.classes[i.eligibility].expectation.id for i in insiders)
                ),
            )
            for reading, count in matched_readings(ask, eligible, denied).items()
        ),
        (rule,),
    )


def matched_readings(ask: Ask, eligible: list[Insider], denied: list[Insider]) -> dict[str, int]:
    """What `matched` may be under the readings it depends on (matched-unit, gdpr-denied-in-matched),
    named by the options that give each count (`matched-unit=insiders/devices` where both agree,
    so the results never claim a reading the answer cannot show); the sandbox's first."""
    unit = ask.behaviour.readings["matched-unit"]
    gdpr = ask.behaviour.readings["gdpr-denied-in-matched"]
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


def sync_gate(ask: Ask, activity: ActivityModel) -> Expected:
    """The gate's outcome by how many of the addressed devices have synced."""
    targets = ask.targets(activity)
    rule = sync_gate_rule(ask.endpoint)
    synced_for_sure = ask.synced_for_sure(activity)
    syncing = [t for t in targets if t[2]] if activity.state == "STARTED" else []
    if synced_for_sure or not syncing:
        return gate_outcome(ask, rule, len(targets), len(syncing))
    # Before the sync bound, any number of the syncing devices may have synced.
    outcomes = [gate_outcome(ask, rule, len(targets), n) for n in range(len(syncing) + 1)]
    alternatives = tuple(
        replace(a, body={k: v for k, v in a.body.items() if v is PRESENT})
        for o in outcomes
        for a in o.alternatives
    )
    return Expected(alternatives, (rule, ask.behaviour.sync_gate.delay.id))


def gate_outcome(ask: Ask, rule: str, targets: int, synced: int) -> Expected:
    gate = ask.behaviour.sync_gate
    if synced == 0:
        return Expected(
            tuple(alternatives_of(ask.behaviour, f"{rule}:none-synced", gate.none_synced)), (rule,)
        )
    if synced == targets:
        return ok(
            ask,
            f"{rule}:all-synced",
            gate.all_synced,
            {"sessions_triggered": synced, gate.count_field: ABSENT},
        )
    return ok(
        ask,
        f"{rule}:some-synced",
        gate.some_synced,
        {"sessions_triggered": synced, gate.count_field: targets - synced},
    )
