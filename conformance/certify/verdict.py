"""One verdict for a certification: certified, not certified, or incomplete.

The model is the OpenID Foundation's: a certificate names its profiles, and it is granted only when
every scenario of their plans ran, each profile's baseline (the flow with no fault) completed, and
every documented rule passed. Inferred rules and advice are reported beside it, never deciding it.
A run restricted to some scenarios is incomplete: it is not a certificate, whatever it found.

The decision reads plain data (a rule's id, whether it decides, its verdict, whether any scenario
of the run exercised it), so that `certify verify` can re-derive it from a bundle's own results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from conformance.core import strict_json


class CertificateVerdict(StrEnum):
    """The one verdict of a certification; the value is certificate.json's spelling."""

    CERTIFIED = "certified"
    NOT_CERTIFIED = "not certified"
    INCOMPLETE = "incomplete"  # fewer scenarios ran than the plan has: not a certificate


class Ruling(StrEnum):
    """What judging found of one rule, or of one rule on one scenario run; the value is the bundle's
    spelling (certificate.json, junit.xml, summary.html), so a bundle signed before still verifies."""

    PASSED = "pass"
    FAILED = "fail"
    NOT_EXERCISED = "not exercised"  # no scenario of the run reached what the rule tests
    # A rule at the advice level that the integration does not follow (shown, never failing): named
    # apart from the advice level itself, which a followed rule has too.
    ADVICE_NOT_FOLLOWED = "advice"


EXIT_STATUS: Mapping[CertificateVerdict, int] = {
    CertificateVerdict.CERTIFIED: 0,
    CertificateVerdict.NOT_CERTIFIED: 1,
    CertificateVerdict.INCOMPLETE: 3,
}
NOT_A_CERTIFICATE = "INCOMPLETE: this run is not a certificate"


@dataclass(frozen=True)
class RuleResult:
    id: str
    decides: bool  # documented rules decide; inferred rules and advice do not
    verdict: Ruling
    judged: bool  # a scenario of the run exercises it


@dataclass(frozen=True)
class Decision:
    verdict: CertificateVerdict
    reasons: tuple[str, ...]

    @property
    def exit_status(self) -> int:
        return EXIT_STATUS[self.verdict]


def decide(
    *,
    ran: int,
    planned: int,
    baselines: Mapping[str, str | None],
    rules: Sequence[RuleResult],
) -> Decision:
    """The verdict: incomplete when fewer scenarios ran than the plan has; not certified when a
    baseline did not complete (that alone is the reason) or a deciding rule did not pass."""
    if ran < planned:
        return Decision(
            CertificateVerdict.INCOMPLETE,
            (f"{ran} of the plan's {planned} scenarios ran (--scenario): not a certificate",),
        )
    broken = [f"{name} never completed: {problem}" for name, problem in baselines.items() if problem]
    if broken:
        return Decision(CertificateVerdict.NOT_CERTIFIED, tuple(broken))
    reasons = [f"{r.id} failed" for r in rules if r.decides and r.judged and r.verdict == Ruling.FAILED]
    reasons += [
        f"{r.id} was never exercised: the flow never reached what it tests"
        for r in rules
        if r.decides and r.judged and r.verdict == Ruling.NOT_EXERCISED
    ]
    if reasons:
        return Decision(CertificateVerdict.NOT_CERTIFIED, tuple(reasons))
    return Decision(CertificateVerdict.CERTIFIED, ())


def decide_certificate(certificate: Mapping[str, Any]) -> Decision:
    """The verdict a certificate.json's own results lead to (KeyError/TypeError/ValueError when it
    lacks them, or names a verdict no certification gives)."""
    plan = certificate["plan"]
    return decide(
        ran=int(plan["ran"]),
        planned=int(plan["planned"]),
        baselines={str(k): v for k, v in plan["baselines"].items()},
        rules=[
            RuleResult(str(v["id"]), bool(v["decides"]), _ruling(v["verdict"]), bool(v["outcomes"]))
            for v in certificate["verdicts"]
        ],
    )


def _ruling(value: Any) -> Ruling:
    """A rule's verdict as a bundle spells it; ValueError naming the spellings a bundle may hold."""
    try:
        return Ruling(value)
    except ValueError:
        allowed = ", ".join(repr(r.value) for r in Ruling)
        raise ValueError(f"a rule's verdict {value!r} is not one of {allowed}") from None


def verdict_problem(certificate: Mapping[str, Any]) -> str | None:
    """Why a certificate's stated verdict does not follow from its own results (None when it does)."""
    try:
        decision = decide_certificate(certificate)
        stated = certificate["verdict"]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return f"certificate.json lacks what its verdict rests on ({type(exc).__name__}: {exc})"
    if stated != decision.verdict:
        return f"certificate.json says {stated!r}, but its own results say {decision.verdict.value!r}"
    return None


def certificate_summary(raw: bytes | None) -> tuple[str, str | None]:
    """What `certify verify` prints about a bundle's certificate.json (verdict, profiles, scenario
    count, contract digest), and why its verdict does not follow from its results (None if it does)."""
    try:
        certificate = strict_json.loads(raw or b"")
    except ValueError:
        return "", "certificate.json is not JSON"
    if not isinstance(certificate, dict):
        return "", "certificate.json is not a JSON object"
    raw_plan = certificate.get("plan")
    plan: dict[str, Any] = raw_plan if isinstance(raw_plan, dict) else {}
    verdict = certificate.get("verdict")
    lines = [
        f"verdict: {verdict}"
        + (f" ({NOT_A_CERTIFICATE})" if verdict == CertificateVerdict.INCOMPLETE else ""),
        f"profiles: {', '.join(str(p) for p in certificate.get('profiles') or ())}",
        f"scenarios: {plan.get('ran')} of {plan.get('planned')} planned",
        f"contract digest: {certificate.get('contract_digest')}",
    ]
    return "\n".join(lines) + "\n", verdict_problem(certificate)
