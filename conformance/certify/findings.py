"""What a certification found: per scenario run the journal and the client's log, per rule a verdict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from conformance.certify.capped import Captured
from conformance.certify.verdict import Decision, RuleResult, Ruling, decide
from conformance.contract.certification import Policy, Rule, Scenario
from conformance.core import strict_json
from conformance.core.clock import rfc3339
from conformance.sandbox.scripted import Attempt


@dataclass(frozen=True)
class LogLine:
    """One line of the client's log; `data` is None when the line is no JSON object."""

    number: int
    text: str
    data: Mapping[str, Any] | None


def parse_log(text: str, first: int = 1) -> tuple[LogLine, ...]:
    """The log's lines, numbered from `first`; a line that is no strict JSON object (NaN is not) has no
    data."""
    lines = []
    for number, raw in enumerate(text.splitlines(), start=first):
        if not raw.strip():
            continue
        try:
            data = strict_json.loads(raw)
        except ValueError:
            data = None
        lines.append(LogLine(number, raw, data if isinstance(data, dict) else None))
    return tuple(lines)


@dataclass(frozen=True)
class Run:
    """One scenario played once: what the sandbox saw and what the client logged.

    `stopped` says why the harness ended the flow itself ("deadline", "attempts"), None when the
    flow ended on its own (`ended` says how: an exit status, a return, an exception).
    """

    scenario: Scenario
    started: datetime
    attempts: tuple[Attempt, ...]
    log: tuple[LogLine, ...]
    ended: str
    stopped: str | None
    wall_seconds: float
    captured: tuple[Captured, ...] = ()  # stdout, stderr, the log: how much was written, what was kept

    @property
    def output_tail(self) -> str:
        """The last lines the command wrote (stdout, then stderr)."""
        tails = [c.text().splitlines()[-20:] for c in self.captured if c.name in ("stdout", "stderr")]
        return "\n".join(line for tail in tails for line in tail)

    def seconds(self, moment: datetime) -> float:
        """`moment` as seconds since the run started."""
        return (moment - self.started).total_seconds()

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "started": rfc3339(self.started, exact=True),
            "ended": self.ended,
            "stopped": self.stopped,
            "wall_seconds": round(self.wall_seconds, 3),
            "attempts": [a.to_json() for a in self.attempts],
            "log": [line.data if line.data is not None else {"unparsed": line.text} for line in self.log],
            # The log's kept lines are under "log" above; of the output, its kept head and tail.
            "output": {c.name: c.to_json(with_text=c.name != "log") for c in self.captured},
        }


@dataclass(frozen=True)
class ScenarioOutcome:
    """One rule judged on one scenario run; `evidence` lists the attempts (or log lines) it rests on."""

    scenario: str
    verdict: Ruling
    reason: str
    evidence: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "verdict": self.verdict,
            "reason": self.reason,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class RuleVerdict:
    rule: Rule
    verdict: Ruling
    reason: str
    outcomes: tuple[ScenarioOutcome, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            **self.rule.to_json(),
            "verdict": self.verdict,
            "reason": self.reason,
            "outcomes": [o.to_json() for o in self.outcomes],
        }


@dataclass(frozen=True)
class Certification:
    policy: Policy
    mode: Literal["http", "in-process"]
    subject: str  # the command (redacted) or the integration's name
    started: datetime
    wall_seconds: float
    runs: tuple[Run, ...]
    verdicts: Mapping[str, RuleVerdict]
    secrets: tuple[str, ...] = field(default=(), repr=False)  # what every written file must hide
    aliases: Mapping[str, str] = field(default_factory=dict, repr=False)  # personal id -> pseudonym
    profiles: tuple[str, ...] = ("core",)
    planned: int = 0  # scenarios in the profiles' plan (0: as many as ran)
    baselines: Mapping[str, str | None] = field(default_factory=dict)  # baseline -> why it did not complete

    @property
    def decision(self) -> Decision:
        """certified / not certified / incomplete, and why (`verdict.decide`)."""
        return decide(
            ran=len(self.runs),
            planned=self.planned or len(self.runs),
            baselines=self.baselines,
            rules=[
                RuleResult(rule_id, v.rule.decides, v.verdict, bool(v.outcomes))
                for rule_id, v in self.verdicts.items()
            ],
        )

    def plan_json(self) -> dict[str, Any]:
        """What the verdict rests on besides the rules: the plan's size and its baselines."""
        return {
            "profiles": list(self.profiles),
            "planned": self.planned or len(self.runs),
            "ran": len(self.runs),
            "baselines": dict(self.baselines),
        }

    def failed_rules(self) -> tuple[str, ...]:
        return tuple(rule_id for rule_id, v in self.verdicts.items() if v.verdict == Ruling.FAILED)

    def passed_rules(self) -> tuple[str, ...]:
        return tuple(rule_id for rule_id, v in self.verdicts.items() if v.verdict == Ruling.PASSED)

    @property
    def exit_status(self) -> int:
        """0 certified, 1 not certified, 3 incomplete: exit 0 means certified and nothing else."""
        return self.decision.exit_status

    def counts(self) -> dict[Ruling, int]:
        return {v: sum(1 for r in self.verdicts.values() if r.verdict == v) for v in Ruling}
