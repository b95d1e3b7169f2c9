"""contracts/certification.yaml joined with the loaded Contract: the rules and scenarios, typed.

A rule names a retry class of the error table, a retry warning or logging fields; this module reads
the rows, statuses, codes, idempotent endpoints and the budget's window from the Contract, so no
status, code or endpoint role is written twice. Every failure is one ContractError naming
certification.yaml, the key path and the fix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from conformance.contract import Contract, load_contract
from conformance.contract.loader import key_path, read_yaml, validate
from conformance.core.errors import ContractError, Place, UsageError

POLICY_FILE = "certification.yaml"
DEFAULT_PROFILE = "core"
SCHEMA_FILE = "certification.schema.json"

JudgeKind = Literal["repeats", "retried", "waits", "bounded", "logged"]
# A certification rule's level; a case's level is `contract.model.Level` (undocumented, not advice).
RuleLevel = Literal["documented", "inferred", "advice"]
LoseKind = Literal["dropped", "stalled"]
Origin = Literal["baseline", "written", "derived"]  # where a scenario comes from
# Judges that follow the first answer of a retry class (or a lost answer) and the attempts after it.
TRIGGERED: frozenset[str] = frozenset({"repeats", "retried", "waits", "bounded"})
# Judges that need the rows of their retry class to be retryable (`safe`) or not.
NEEDS_SAFE: Mapping[str, bool] = {"retried": True, "waits": True, "bounded": True}


@dataclass(frozen=True)
class SourceRef:
    key: str
    title: str
    url: str


@dataclass(frozen=True)
class Trigger:
    """What starts a rule's judgement: an answer of one of `rows`, or a lost answer, on `endpoints`."""

    rows: frozenset[str]
    lost: bool
    endpoints: frozenset[str]
    describe: str  # "429 (rate limit)" or "a lost answer to /start"


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    judge: JudgeKind
    level: RuleLevel
    sources: tuple[SourceRef, ...]
    note: str
    trigger: Trigger | None
    at_most: int | None
    min_mean_wait_seconds: float | None
    log_fields: tuple[str, ...]  # contract logging field names
    every_attempt: bool
    in_every_scenario: bool
    table_says: str  # the retry table's strategy, or the warning's text, for reports
    grows: bool = False  # the waits must also grow (Policy.growth)
    lost_described: bool = False  # a lost answer's `error` must say what happened

    @property
    def decides(self) -> bool:
        """Whether the rule's verdict decides the certificate: documented rules do; inferred rules
        and advice are reported beside it."""
        return self.level == "documented"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "judge": self.judge,
            "level": self.level,
            "sources": [{"key": s.key, "title": s.title, "url": s.url} for s in self.sources],
            "note": self.note,
            "trigger": None
            if self.trigger is None
            else {
                "rows": sorted(self.trigger.rows),
                "lost": self.trigger.lost,
                "endpoints": sorted(self.trigger.endpoints),
                "describe": self.trigger.describe,
            },
            "at_most": self.at_most,
            "min_mean_wait_seconds": self.min_mean_wait_seconds,
            "log_fields": list(self.log_fields),
            "every_attempt": self.every_attempt,
            "grows": self.grows,
            "lost_described": self.lost_described,
            "decides": self.decides,
            "table_says": self.table_says,
        }


@dataclass(frozen=True)
class Step:
    """One scripted answer: a row (`times` None means always) or a lost answer."""

    row: str | None = None
    times: int | None = 1
    lose: LoseKind | None = None

    def to_json(self) -> dict[str, Any]:
        if self.lose is not None:
            return {"lose": self.lose}
        return {"answer": self.row, "times": "always" if self.times is None else self.times}


@dataclass(frozen=True)
class Scenario:
    name: str
    profile: str
    description: str
    script: Mapping[str, tuple[Step, ...]]
    account: str
    insiders: str
    sync_delay_seconds: float
    rules: tuple[str, ...]  # its own rules, then those judged in every scenario
    baseline: bool = False  # the profile's no-fault run, which must complete
    derived: bool = False  # generated from the table by `generate`

    @property
    def lose(self) -> LoseKind | None:
        """How this scenario loses answers, if it does (one kind per scenario)."""
        return next((s.lose for steps in self.script.values() for s in steps if s.lose), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "profile": self.profile,
            "baseline": self.baseline,
            "derived": self.derived,
            "description": self.description,
            "script": {e: [s.to_json() for s in steps] for e, steps in self.script.items()},
            "account": self.account,
            "insiders": self.insiders,
            "sync_delay_seconds": self.sync_delay_seconds,
            "rules": list(self.rules),
        }


@dataclass(frozen=True)
class Profile:
    """A certification profile: the endpoints an integration uses, whose plan it is certified on."""

    name: str
    title: str
    endpoints: tuple[str, ...]
    includes: tuple[str, ...] = ()  # profiles whose plans this one's includes

    @property
    def baseline(self) -> str:
        return f"baseline-{self.name}"


@dataclass(frozen=True)
class Growth:
    """The test that waits grow as exponential backoff does (certification.yaml `growth`)."""

    false_refusal: float
    min_calls: int


@dataclass(frozen=True)
class Budget:
    max_attempts: int
    max_seconds: float
    level: RuleLevel
    note: str


@dataclass(frozen=True)
class LogFormat:
    endpoint_key: str
    keys: Mapping[str, str]  # contract logging field -> log line key


@dataclass(frozen=True)
class Harness:
    quiet_seconds: float
    stall_seconds: float
    margin_seconds: float
    sync_delay_seconds: float


@dataclass(frozen=True)
class Policy:
    contract: Contract
    path: Path
    digest: str  # sha256 of certification.yaml
    log: LogFormat
    budget: Budget
    harness: Harness
    rules: Mapping[str, Rule]
    scenarios: Mapping[str, Scenario]
    profiles: Mapping[str, Profile]
    growth: Growth

    @property
    def deadline_seconds(self) -> float:
        """No scenario runs longer than this (the budget's window plus the margin)."""
        return self.budget.max_seconds + self.harness.margin_seconds

    def chosen_profiles(self, names: Sequence[str] | None) -> tuple[str, ...]:
        """The named profiles (`core` when none) and those they include; UsageError naming an
        unknown one."""
        chosen: dict[str, None] = {}
        for name in names or (DEFAULT_PROFILE,):
            if name not in self.profiles:
                raise UsageError(
                    "command line",
                    "--profile",
                    f"no certification profile is named {name!r}",
                    f"use one of: {', '.join(self.profiles)}",
                )
            chosen.update(dict.fromkeys((*self.profiles[name].includes, name)))
        return tuple(chosen)

    def plan(self, profiles: Sequence[str] | None = None) -> tuple[Scenario, ...]:
        """Every scenario of the profiles (`core` when none), baselines first."""
        chosen = self.chosen_profiles(profiles)
        return tuple(
            sorted(
                (s for s in self.scenarios.values() if s.profile in chosen),
                key=lambda s: (not s.baseline, chosen.index(s.profile)),
            )
        )

    def select(
        self, names: Sequence[str] | None, profiles: Sequence[str] | None = None
    ) -> tuple[Scenario, ...]:
        """The named scenarios of the profiles' plan (the whole plan when None or empty);
        UsageError naming a scenario that is unknown or outside the plan."""
        plan = self.plan(profiles)
        if not names:
            return plan
        in_plan = {s.name: s for s in plan}
        for name in names:
            if name in in_plan:
                continue
            known = self.scenarios.get(name)
            raise UsageError(
                "command line",
                "--scenario",
                f"no scenario is named {name!r}"
                if known is None
                else f"scenario {name!r} belongs to profile {known.profile!r}, which is not certified",
                f"use one of: {', '.join(in_plan)}" if known is None else f"add --profile {known.profile}",
            )
        return tuple(in_plan[n] for n in dict.fromkeys(names))


def load_policy(contract: Contract | None = None, path: Path | None = None) -> Policy:
    """Read, validate and join certification.yaml (default: the contract directory's)."""
    contract = contract or load_contract()
    path = path or contract.directory / POLICY_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError(path, Place(), "the file does not exist", "restore it from git") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(
            path, Place(), f"cannot be read: {exc}", "make it a readable UTF-8 file"
        ) from None
    document = read_yaml(path, text)
    validate(document, SCHEMA_FILE, path, contract.directory)
    return _Builder(contract, path, document).build(hashlib.sha256(text.encode()).hexdigest())


class _Builder:
    def __init__(self, contract: Contract, path: Path, doc: Mapping[str, Any]) -> None:
        self.contract = contract
        self.path = path
        self.doc = doc
        behaviour = contract.behaviour
        uncontested = {e: x for e, x in behaviour.idempotency.items() if not x.conflict}
        self.selectors = {
            "all": frozenset(contract.endpoints),
            "idempotent": frozenset(e for e in uncontested if behaviour.idempotent[e]),
            "non_idempotent": frozenset(e for e in uncontested if not behaviour.idempotent[e]),
            "contested": frozenset(e for e, x in behaviour.idempotency.items() if x.conflict),
        }

    def fail(self, where: Sequence[str | int], problem: str, fix: str) -> ContractError:
        return ContractError(self.path, Place(path=key_path(where)), problem, fix)

    def build(self, digest: str) -> Policy:
        log = self._log()
        rules = {}
        for index, raw in enumerate(self.doc["rules"]):
            rule = self._rule(raw, ["rules", index])
            if rule.id in rules:
                raise self.fail(
                    ["rules", index, "id"], f"rule {rule.id!r} is defined twice", "give each rule its own id"
                )
            rules[rule.id] = rule
        profiles = self._profiles()
        scenarios: dict[str, Scenario] = {}
        written: list[tuple[list[str | int], Mapping[str, Any], Origin]] = [
            (["profiles", p.name], {"name": p.baseline, "profile": p.name, "rules": []}, "baseline")
            for p in profiles.values()
        ]
        written += [(["scenarios", i], raw, "written") for i, raw in enumerate(self.doc["scenarios"])]
        written += self._generated(profiles, rules)
        for where, raw, origin in written:
            scenario = self._scenario(raw, where, rules, profiles, origin=origin)
            if scenario.name in scenarios:
                raise self.fail(
                    [*where, "name"], f"scenario {scenario.name!r} is defined twice", "rename one"
                )
            scenarios[scenario.name] = scenario
        for index, rule in enumerate(rules.values()):
            if not rule.in_every_scenario and not any(rule.id in s.rules for s in scenarios.values()):
                raise self.fail(
                    ["rules", index, "id"],
                    f"rule {rule.id!r} is exercised by no scenario",
                    "list it under `rules` of a scenario that provokes it",
                )
        harness = self.doc["harness"]
        return Policy(
            contract=self.contract,
            path=self.path,
            digest=digest,
            log=log,
            budget=self._budget(),
            harness=Harness(
                quiet_seconds=float(harness["quiet_seconds"]),
                stall_seconds=float(harness["stall_seconds"]),
                margin_seconds=float(harness["margin_seconds"]),
                sync_delay_seconds=float(harness["sync_delay_seconds"]),
            ),
            rules=rules,
            scenarios=scenarios,
            profiles=profiles,
            growth=Growth(
                false_refusal=float(self.doc["growth"]["false_refusal"]),
                min_calls=int(self.doc["growth"]["min_calls"]),
            ),
        )

    def _profiles(self) -> dict[str, Profile]:
        profiles = {}
        for name, raw in self.doc["profiles"].items():
            for index, endpoint in enumerate(raw["endpoints"]):
                if endpoint not in self.contract.endpoints:
                    raise self.fail(
                        ["profiles", name, "endpoints", index],
                        f"unknown endpoint {endpoint!r}",
                        f"use one of {list(self.contract.endpoints)}",
                    )
            for index, included in enumerate(raw.get("includes", ())):
                if included not in self.doc["profiles"] or included == name:
                    raise self.fail(
                        ["profiles", name, "includes", index],
                        f"{included!r} is no other profile",
                        f"use one of {sorted(set(self.doc['profiles']) - {name})}",
                    )
            profiles[name] = Profile(
                name, raw["title"], tuple(raw["endpoints"]), tuple(raw.get("includes", ()))
            )
        if DEFAULT_PROFILE not in profiles:
            raise self.fail(
                ["profiles"], f"no profile is named {DEFAULT_PROFILE!r}", "define it: it is the default"
            )
        return profiles

    def _generated(
        self, profiles: Mapping[str, Profile], rules: Mapping[str, Rule]
    ) -> list[tuple[list[str | int], Mapping[str, Any], Origin]]:
        """The scenarios `generate` derives from the table: one per (entry, endpoint of a profile)."""
        owner = {e: p.name for p in reversed(list(profiles.values())) for e in p.endpoints}
        made: list[tuple[list[str | int], Mapping[str, Any], Origin]] = []
        for index, entry in enumerate(self.doc.get("generate", ())):
            where: list[str | int] = ["generate", index]
            row = next((r for r in self.contract.table.rows if r.id == entry["answer"]), None)
            if row is None:
                raise self.fail(
                    [*where, "answer"],
                    f"{entry['answer']!r} is no row of the error table",
                    "use a row id of errors.yaml",
                )
            for rule_id in entry["rules"]:
                if rule_id not in rules:
                    raise self.fail(
                        [*where, "rules"], f"no rule is named {rule_id!r}", f"use one of {sorted(rules)}"
                    )
            selected = self.selectors[entry.get("endpoints", "all")]
            for endpoint in (e for e in row.endpoints if e in selected and e in owner):
                applies = [r for r in entry["rules"] if _covers(rules[r], endpoint)]
                if not applies:
                    raise self.fail(
                        [*where, "rules"],
                        f"none of {entry['rules']} applies to {row.id} on /{endpoint}",
                        "narrow `endpoints` or name a rule that covers it",
                    )
                made.append(
                    (
                        where,
                        {
                            "name": f"{endpoint}-{entry['suffix']}",
                            "profile": owner[endpoint],
                            "description": f"{row.describe()} on {_attempts(entry['times'])} /{endpoint}",
                            "script": {endpoint: [{"answer": row.id, "times": entry["times"]}]},
                            "rules": applies,
                        },
                        "derived",
                    )
                )
        return made

    def _log(self) -> LogFormat:
        keys = dict(self.doc["log"]["keys"])
        fields = set(self.contract.table.logging_fields)
        if set(keys) != fields:
            raise self.fail(
                ["log", "keys"],
                f"maps {sorted(keys)} but errors.yaml error_logging lists {sorted(fields)}",
                "map every error_logging field, and only those, to a log key",
            )
        return LogFormat(endpoint_key=self.doc["log"]["endpoint_key"], keys=keys)

    def _budget(self) -> Budget:
        raw = self.doc["budget"]
        row = next((r for r in self.contract.table.rows if r.id == raw["window_row"]), None)
        if row is None or "per_seconds" not in row.limit:
            raise self.fail(
                ["budget", "window_row"],
                f"{raw['window_row']!r} is no row of the error table with a `limit` window",
                "name the rate-limit row (HTTP_429)",
            )
        self._sources(raw["sources"], ["budget", "sources"])
        return Budget(
            max_attempts=raw["max_attempts"],
            max_seconds=float(row.limit["per_seconds"]),
            level=raw["level"],
            note=raw.get("note", ""),
        )

    def _sources(self, keys: Sequence[str], where: list[str | int]) -> tuple[SourceRef, ...]:
        known = self.contract.behaviour.sources
        refs = []
        for index, key in enumerate(keys):
            if key not in known:
                raise self.fail(
                    [*where, index],
                    f"unknown source {key!r}",
                    f"use a key of behaviour.yaml sources: {sorted(known)}",
                )
            refs.append(SourceRef(key, known[key].title, known[key].url))
        return tuple(refs)

    def _rule(self, raw: Mapping[str, Any], where: list[str | int]) -> Rule:
        check = raw["check"]
        judge: JudgeKind = check["judge"]
        trigger, says = None, ""
        if judge in TRIGGERED:
            trigger, says = self._trigger(check, judge, [*where, "check"])
        if judge == "repeats" and "at_most" not in check:
            raise self.fail(
                [*where, "check"],
                "a `repeats` check needs `at_most`",
                "add `at_most: 0` (never again) or more",
            )
        if judge == "waits" and "min_mean_wait_seconds" not in check:
            raise self.fail(
                [*where, "check"],
                "a `waits` check needs `min_mean_wait_seconds`",
                "add it, with the reason in `note`",
            )
        fields = tuple(check.get("fields", ()))
        if judge == "logged":
            if bool(fields) == bool(check.get("every_attempt")):
                raise self.fail(
                    [*where, "check"],
                    "a `logged` check names either `fields` or `every_attempt: true`",
                    "give exactly one of them",
                )
            unknown = [f for f in fields if f not in self.contract.table.logging_fields]
            if unknown:
                raise self.fail(
                    [*where, "check", "fields"],
                    f"{unknown} are no errors.yaml error_logging fields",
                    f"use some of {list(self.contract.table.logging_fields)}",
                )
        return Rule(
            id=raw["id"],
            title=raw["title"],
            judge=judge,
            level=raw["level"],
            sources=self._sources(raw["sources"], [*where, "sources"]),
            note=" ".join(raw.get("note", "").split()),
            trigger=trigger,
            at_most=check.get("at_most"),
            min_mean_wait_seconds=check.get("min_mean_wait_seconds"),
            log_fields=fields,
            every_attempt=bool(check.get("every_attempt")),
            in_every_scenario=bool(raw.get("in_every_scenario")),
            table_says=says,
            grows=bool(check.get("grows")),
            lost_described=bool(check.get("lost_described")),
        )

    def _trigger(self, check: Mapping[str, Any], judge: str, where: list[str | int]) -> tuple[Trigger, str]:
        if ("retry_class" in check) == ("lost_response" in check):
            raise self.fail(
                where,
                f"a `{judge}` check names either `retry_class` or `lost_response`",
                "give exactly one of them",
            )
        if "lost_response" in check:
            endpoint = check["lost_response"]
            warning = next((w for w in self.contract.table.retry_warnings if w.endpoint == endpoint), None)
            if warning is None:
                known = [w.endpoint for w in self.contract.table.retry_warnings]
                raise self.fail(
                    [*where, "lost_response"],
                    f"errors.yaml has no retry warning for {endpoint!r}",
                    f"use one of {known}",
                )
            return Trigger(
                frozenset(), True, frozenset({endpoint}), f"a lost answer to /{endpoint}"
            ), warning.text
        name = check["retry_class"]
        rows = [r for r in self.contract.table.rows if r.retry is not None and r.retry.error_class == name]
        if not rows:
            classes = sorted({r.retry.error_class for r in self.contract.table.rows if r.retry is not None})
            raise self.fail(
                [*where, "retry_class"], f"no retry class is named {name!r}", f"use one of {classes}"
            )
        retry = rows[0].retry
        assert retry is not None  # rows were chosen for having one
        endpoints = frozenset(e for r in rows for e in r.endpoints)
        selector = check.get("endpoints")
        if selector is not None:
            endpoints &= self.selectors[selector]
        safe_needed = NEEDS_SAFE.get(judge, None if selector == "non_idempotent" else False)
        if judge == "repeats" and check.get("at_most", 0) > 0:
            safe_needed = None  # a tolerated status check, not a retry policy
        if safe_needed is not None and retry.safe != safe_needed:
            raise self.fail(
                [*where, "retry_class"],
                f"the table says {name!r} is {'' if retry.safe else 'not '}safe to retry; a `{judge}` check "
                f"{'needs a retryable' if safe_needed else 'with at_most: 0 needs a non-retryable'} class",
                "pick the judge that matches the table's `Safe to retry?`",
            )
        if retry.idempotent_only and selector is None and judge != "repeats":
            raise self.fail(
                [*where, "endpoints"],
                f"the table allows retrying {name!r} on idempotent endpoints only",
                "add `endpoints: idempotent` (or non_idempotent with a `repeats` check)",
            )
        return Trigger(frozenset(r.id for r in rows), False, endpoints, name), retry.strategy

    def _scenario(
        self,
        raw: Mapping[str, Any],
        where: list[str | int],
        rules: Mapping[str, Rule],
        profiles: Mapping[str, Profile],
        *,
        origin: Origin,
    ) -> Scenario:
        behaviour = self.contract.behaviour
        if raw["profile"] not in profiles:
            raise self.fail(
                [*where, "profile"],
                f"no profile is named {raw['profile']!r}",
                f"use one of {sorted(profiles)}",
            )
        script: dict[str, tuple[Step, ...]] = {}
        for endpoint, steps in raw.get("script", {}).items():
            if endpoint not in self.contract.endpoints:
                raise self.fail(
                    [*where, "script", endpoint],
                    f"unknown endpoint {endpoint!r}",
                    f"use one of {list(self.contract.endpoints)}",
                )
            script[endpoint] = tuple(
                self._step(step, endpoint, [*where, "script", endpoint, i]) for i, step in enumerate(steps)
            )
        kinds = {s.lose for steps in script.values() for s in steps if s.lose}
        if len(kinds) > 1:
            raise self.fail(
                [*where, "script"], "mixes `lose: dropped` and `lose: stalled`", "use one kind per scenario"
            )
        account = raw.get("account", "good")
        if account not in behaviour.accounts:
            raise self.fail(
                [*where, "account"],
                f"unknown account state {account!r}",
                f"use one of {sorted(behaviour.accounts)}",
            )
        insiders = raw.get("insiders", "eligible")
        if insiders not in behaviour.eligibility.classes:
            raise self.fail(
                [*where, "insiders"],
                f"unknown eligibility class {insiders!r}",
                f"use one of {sorted(behaviour.eligibility.classes)}",
            )
        for index, rule_id in enumerate(raw["rules"]):
            if rule_id not in rules:
                raise self.fail(
                    [*where, "rules", index], f"no rule is named {rule_id!r}", f"use one of {sorted(rules)}"
                )
            self._check_reachable(rules[rule_id], script, [*where, "rules", index])
        own = tuple(raw["rules"])
        every = tuple(r.id for r in rules.values() if r.in_every_scenario and r.id not in own)
        return Scenario(
            name=raw["name"],
            profile=raw["profile"],
            baseline=origin == "baseline",
            derived=origin == "derived",
            description=raw.get("description", f"no fault: the {raw['profile']} flow must complete"),
            script=script,
            account=account,
            insiders=insiders,
            sync_delay_seconds=float(
                raw.get("sync_delay_seconds", self.doc["harness"]["sync_delay_seconds"])
            ),
            rules=own + every,
        )

    def _step(self, raw: Mapping[str, Any], endpoint: str, where: list[str | int]) -> Step:
        if "lose" in raw:
            return Step(row=None, times=1, lose=raw["lose"])
        row = next((r for r in self.contract.table.rows if r.id == raw["answer"]), None)
        if row is None:
            raise self.fail(
                [*where, "answer"],
                f"{raw['answer']!r} is no row of the error table",
                "use a row id of errors.yaml, e.g. HTTP_429",
            )
        if endpoint not in row.endpoints:
            raise self.fail(
                [*where, "answer"],
                f"the table does not list /{endpoint} for {row.id}",
                f"script it on one of {list(row.endpoints)}",
            )
        times = raw.get("times", 1)
        return Step(row=row.id, times=None if times == "always" else times)

    def _check_reachable(
        self, rule: Rule, script: Mapping[str, tuple[Step, ...]], where: list[str | int]
    ) -> None:
        """A scripted row of a rule's class must sit on an endpoint where the rule applies (idempotency)."""
        trigger = rule.trigger
        if trigger is None or trigger.lost:
            return
        for endpoint, steps in script.items():
            if any(s.row in trigger.rows for s in steps) and endpoint not in trigger.endpoints:
                raise self.fail(
                    where,
                    f"rule {rule.id!r} applies on {sorted(trigger.endpoints)}, but the script answers "
                    f"{trigger.describe} on /{endpoint}",
                    "script the row on an endpoint the rule covers",
                )


def _covers(rule: Rule, endpoint: str) -> bool:
    return rule.trigger is not None and endpoint in rule.trigger.endpoints


def _attempts(times: int | str) -> str:
    """Which attempts a generated script answers, in words."""
    if times == "always":
        return "every attempt of"
    return "the first attempt of" if times == 1 else f"the first {times} attempts of"
