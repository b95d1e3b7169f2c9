"""Every expectation of behaviour.yaml with the endpoints it applies to: what lint covers and checks,
what the schemathesis check accepts as a documented code, and what a run should exercise (the
contract's items, in the units every count of a run uses)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from enum import StrEnum

from conformance.contract.model import LEVELS, Contract, Expectation


class ProbeId(StrEnum):
    """The probes of behaviour.yaml whose question code asks by id, each named once here: the oracle
    records the requests that ask it, the sandbox answers it, the suite sends it."""

    MISMATCHED_ACTIVITY_TYPE = "mismatched-activity-type"
    UNKNOWN_REQUEST_FIELDS = "unknown-request-fields"
    START_WITH_NO_MATCHING_TARGET = "start-with-no-matching-target"
    BODIES_OF_401_AND_503 = "bodies-of-401-and-503"


@dataclass(frozen=True)
class Rule:
    """One expectation of behaviour.yaml, where it sits and the endpoints it applies to."""

    kind: str
    where: str
    endpoints: tuple[str, ...]
    expectation: Expectation

    def codes(self) -> tuple[str, ...]:
        """The codes it allows, its documented conflicts' included."""
        sides = (c for side in self.expectation.conflict if side.outcome for c in side.outcome.codes)
        return tuple(dict.fromkeys((*self.expectation.outcome.codes, *sides)))


def documented_codes(contract: Contract, endpoint: str) -> dict[int, set[str]]:
    """status -> body codes the table or a rule (its conflicts included) gives `endpoint`."""
    found: dict[int, set[str]] = {}
    for row in contract.table.rows_for(endpoint):
        if row.code:
            found.setdefault(row.status, set()).add(row.code)
    for rule in rules(contract):
        if endpoint in rule.endpoints:
            for code in rule.codes():
                body = contract.body_code(code)
                if body:
                    found.setdefault(contract.status_of(code), set()).add(body)
    return found


def rules(contract: Contract) -> Iterator[Rule]:
    """Every expectation that states a response, with the endpoints it applies to."""
    b, every = contract.behaviour, contract.endpoints
    for i, body in enumerate(b.body_rules):
        yield Rule("B", f"body[{i}]", every, body.expectation)
    for i, field in enumerate(b.field_rules):
        for case, expectation in field.cases.items():
            yield Rule("F", f"fields[{i}].cases.{case}", field.endpoints, expectation)
    ids = b.insider_ids
    for name, e in (
        ("below_minimum", ids.below_minimum),
        ("above_maximum", ids.above_maximum),
        ("blank_element", ids.blank_element),
    ):
        yield Rule("I", f"insider_ids.{name}", ids.endpoints, e)
    w = b.ends_at
    for name, e in (
        ("past", w.past),
        ("minimum", w.minimum.expectation),
        ("maximum", w.maximum.expectation),
        ("at_now", w.at_now),
    ):
        yield Rule("E", f"ends_at_window.{name}", (w.endpoint,), e)
    td = b.target_devices
    for name, e in (*((f"cases.{c}", x) for c, x in td.cases.items()), ("empty_list", td.empty_list)):
        yield Rule("T", f"target_devices.{name}", td.endpoints, e)
    for name, e in b.accounts.items():
        yield Rule("A", f"accounts.{name}", every, e)
    g = b.eligibility
    yield Rule("G", "eligibility.no_eligible_device", g.no_eligible_endpoints, g.no_eligible)
    yield Rule(
        "G",
        "eligibility.single_insider_without_profile",
        (g.single_without_profile_endpoint,),
        g.single_without_profile,
    )
    for i, t in enumerate(b.lifecycle.transitions.values()):
        yield Rule("L", f"lifecycle.transitions[{i}]", (t.endpoint,), t.expectation)
    s = b.sync_gate
    for name, e in (
        ("all_synced", s.all_synced),
        ("some_synced", s.some_synced),
        ("none_synced", s.none_synced),
    ):
        yield Rule("S", f"sync_gate.{name}", s.endpoints, e)
    yield Rule("R", "rate_limit", every, b.rate_limit.expectation)
    for i, probe in enumerate(b.probes):
        yield Rule("P", f"probes[{i}]", probe.endpoints, probe.expectation)


# -- what a run should exercise: the units check, progress, the summary and the reports count -------

PAIR = "pair"  # an error-table row on one endpoint it names
RULE = "rule"  # an expectation of behaviour.yaml that states a response
READING = "reading"  # what holds under every option of an open point (`asserted`)
ITEM_UNITS = (PAIR, RULE, READING)


@dataclass(frozen=True)
class ContractItem:
    """One thing the contract expects that a run should judge: a (row, endpoint) pair of the error
    table, a rule of behaviour.yaml (its id, the expectation's key path), or a reading's common
    ground, judged where one of the expectations it `governs` is."""

    unit: str
    id: str
    level: str
    endpoints: tuple[str, ...]
    governs: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.id} on {self.endpoints[0]}" if self.unit == PAIR else self.id


def contract_items(contract: Contract) -> tuple[ContractItem, ...]:
    """Every pair of the error table, then every rule: every expectation that states a response
    (`rules`), the eligibility classes and the rows only a fault provokes."""
    pairs = tuple(
        ContractItem(PAIR, row.id, "documented", (endpoint,))
        for row in contract.table.rows
        for endpoint in row.endpoints
    )
    b = contract.behaviour
    stated = (
        *((r.expectation, r.endpoints) for r in rules(contract)),
        *((c.expectation, (*b.eligibility.no_eligible_endpoints,)) for c in b.eligibility.classes.values()),
        *((f.expectation, contract.table.row(f.row).endpoints) for f in b.fault_only),
    )
    levels = {e.id: e.level for e in every_expectation(b)}
    readings = tuple(
        ContractItem(READING, f"readings.{r.id}", _reading_level(levels[g] for g in r.governs), (), r.governs)
        for r in b.readings.values()
    )
    return pairs + tuple(ContractItem(RULE, e.id, e.level, endpoints) for e, endpoints in stated) + readings


def _reading_level(governed: Iterable[str]) -> str:
    """The weakest asserted level among what a reading governs: its common ground is only as sure as
    the rules it holds for; undocumented when it governs no asserted rule (nothing but records)."""
    asserted = [level for level in governed if level != "undocumented"]
    return max(asserted, key=LEVELS.index) if asserted else "undocumented"


def every_expectation(node: object) -> Iterator[Expectation]:
    """Every expectation inside `node` (the Behaviour, or any part of it), found by walking it."""
    if isinstance(node, Expectation):
        yield node
    elif is_dataclass(node) and not isinstance(node, type):
        for f in fields(node):
            yield from every_expectation(getattr(node, f.name))
    elif isinstance(node, Mapping):
        for value in node.values():
            yield from every_expectation(value)
    elif isinstance(node, tuple):
        for value in node:
            yield from every_expectation(value)


def units_line(items: Sequence[ContractItem]) -> str:
    """`23 rows, 97 (row, endpoint) pairs, 86 rules, 19 readings`: the units a run is counted in."""
    pairs = [i for i in items if i.unit == PAIR]
    rows = len({i.id for i in pairs})
    rules_ = sum(1 for i in items if i.unit == RULE)
    readings = sum(1 for i in items if i.unit == READING)
    return f"{rows} rows, {len(pairs)} (row, endpoint) pairs, {rules_} rules, {readings} readings"
