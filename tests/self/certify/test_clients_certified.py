"""The clients certified end to end: the reference client and a second correct client pass, and each
deliberately flawed client fails exactly the rule it breaks, in-process and over HTTP.

In-process runs cost milliseconds of wall time per scenario (virtual clock). Over HTTP the clients
sleep for real: CI runs the scenarios whose waits are short, and the complete runs are marked slow.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.certify import Certification, certify_command, certify_in_process, load_policy
from conformance.certify.render import render_text
from conformance.certify.verdict import CertificateVerdict, Decision, Ruling
from tests.self.certify.certify_support import seeded_reference
from tests.self.certify.clients.delivery import delivery_flow
from tests.self.certify.clients.flawed import FLAWS, flawed_integration, scenario_flaws

CLIENTS = Path(__file__).parent / "clients"
PYTHON = shlex.quote(sys.executable)
REFERENCE = f"{PYTHON} -m conformance.client"
URLLIB = f"{PYTHON} {shlex.quote(str(CLIENTS / 'urllib_client.py'))}"
DELIVERY = f"{PYTHON} {shlex.quote(str(CLIENTS / 'delivery.py'))}"
RULES = frozenset(load_policy().rules)


def flawed_command(name: str) -> str:
    return f"{PYTHON} {shlex.quote(str(CLIENTS / 'flawed.py'))} --flaw {name}"


def verdicts(certification: Certification) -> dict[str, str]:
    return {rule: v.verdict for rule, v in certification.verdicts.items()}


# -- in-process ----------------------------------------------------------------------------------

POLICY = load_policy()
BOTH = ["segments"]  # segments includes core: the whole plan
DECIDING = frozenset(r.id for r in POLICY.rules.values() if r.level != "advice")
SCENARIO_FLAWS = scenario_flaws(POLICY)


def test_reference_client_is_certified_in_process() -> None:
    """Every scenario of both profiles, every rule exercised and passed: certified, exit 0."""
    certification = certify_in_process(seeded_reference(20260520), profiles=BOTH)
    assert verdicts(certification) == dict.fromkeys(RULES, "pass")
    assert certification.decision.verdict == CertificateVerdict.CERTIFIED
    assert certification.exit_status == 0


def test_a_delivery_client_that_updates_twice_and_logs_null_errors_is_certified_in_process() -> None:
    """Several /update calls per activity are calls, not retries; null code and error on a lost
    answer are faithful: certified, exit 0, with the description advice shown, not failing."""
    certification = certify_in_process(delivery_flow, profiles=BOTH)
    assert certification.failed_rules() == (), {
        r: certification.verdicts[r].reason for r in certification.failed_rules()
    }
    assert certification.decision.verdict == CertificateVerdict.CERTIFIED
    assert certification.exit_status == 0
    assert certification.verdicts["log-lost-answer-described"].verdict == Ruling.ADVICE_NOT_FOLLOWED
    assert "CERTIFIED for core, segments" in render_text(certification)


def test_every_rule_has_a_flawed_client_that_breaks_it() -> None:
    """The flawed clients cover the rules of certification.yaml (advice aside), one flaw per rule at least."""
    assert {flaw.breaks for flaw in [*FLAWS.values(), *SCENARIO_FLAWS.values()]} >= DECIDING


@pytest.mark.parametrize("name", sorted(FLAWS))
def test_flawed_client_fails_exactly_its_rule_in_process(name: str) -> None:
    """Run both profiles' plans: the rule the flaw breaks fails, and every other rule passes; the
    certificate is refused (exit 1) when that rule decides, granted with the failure shown when
    it is inferred; a flow that never completes is refused for exactly that."""
    flaw = FLAWS[name]
    certification = certify_in_process(flawed_integration(name), profiles=BOTH)
    decision = certification.decision
    if flaw.breaks.startswith("baseline-"):
        assert decision.verdict == CertificateVerdict.NOT_CERTIFIED
        assert f"{flaw.breaks} never completed: {certification.baselines[flaw.breaks]}" in decision.reasons
        assert all(" never completed: " in reason for reason in decision.reasons)
        assert certification.exit_status == 1
        return
    assert certification.failed_rules() == (flaw.breaks,), {
        rule: certification.verdicts[rule].reason for rule in certification.failed_rules()
    }
    if POLICY.rules[flaw.breaks].decides:
        assert decision == Decision(CertificateVerdict.NOT_CERTIFIED, (f"{flaw.breaks} failed",))
        assert certification.exit_status == 1
    else:
        assert decision.verdict == CertificateVerdict.CERTIFIED
        assert certification.exit_status == 0


def test_every_derived_scenario_has_a_flaw() -> None:
    """Each (class, endpoint) scenario derived from the table has a flawed client of its own."""
    derived = {s.name for s in POLICY.scenarios.values() if s.derived}
    assert {name.split("-" + flaw.breaks)[0] for name, flaw in SCENARIO_FLAWS.items()} == derived


@pytest.mark.parametrize("name", sorted(SCENARIO_FLAWS))
def test_a_derived_scenario_flaw_fails_its_rule_only_there(name: str) -> None:
    """The flaw of one (class, endpoint) scenario fails that scenario's rule, in that scenario,
    and no other rule: not certified, exit 1, the rule named."""
    flaw = SCENARIO_FLAWS[name]
    scenario = name.removesuffix("-" + flaw.breaks)
    certification = certify_in_process(flawed_integration(name), profiles=BOTH)
    assert certification.failed_rules() == (flaw.breaks,), {
        rule: certification.verdicts[rule].reason for rule in certification.failed_rules()
    }
    failing = {o.scenario for o in certification.verdicts[flaw.breaks].outcomes if o.verdict == Ruling.FAILED}
    assert scenario in failing
    assert certification.decision == Decision(CertificateVerdict.NOT_CERTIFIED, (f"{flaw.breaks} failed",))


def test_a_one_scenario_run_is_incomplete_not_a_certificate() -> None:
    """--scenario narrows the plan: incomplete, exit 3, whatever the rules found."""
    certification = certify_in_process(seeded_reference(1), ["update-400"])
    assert certification.decision.verdict == CertificateVerdict.INCOMPLETE
    assert certification.exit_status == 3
    assert "INCOMPLETE: this run is not a certificate" in render_text(certification)


# -- over HTTP -----------------------------------------------------------------------------------

# Scenarios whose waits are short (no persistent 503, no stalled answer, no 429 backoff): seconds.
QUICK = [
    "update-400",
    "register-401",
    "start-502",
    "update-502",
    "start-lost-dropped",
    "end-lost-dropped",
    "end-lost-twice",
    "update-token-not-synced",
]


def test_reference_client_passes_quick_scenarios_over_http() -> None:
    """`python -m conformance.client` passes every rule the quick scenarios exercise."""
    certification = certify_command(REFERENCE, QUICK)
    exercised = {rule: v for rule, v in verdicts(certification).items() if v != "not exercised"}
    assert set(exercised.values()) == {"pass"}
    assert {
        "no-retry-validation",
        "no-blind-retry-upstream",
        "lost-response-start",
        "wait-token-sync",
    } <= set(exercised)


def test_urllib_client_passes_quick_scenarios_over_http() -> None:
    """The standard-library client passes too, with the stalled and 429 scenarios added; its null
    `error` on lost answers passes log-code-error and shows the description advice."""
    certification = certify_command(URLLIB, [*QUICK, "start-lost-stalled", "register-429"])
    exercised = {rule: v for rule, v in verdicts(certification).items() if v != "not exercised"}
    assert set(exercised.values()) == {"pass", "advice"}  # it logs a lost answer's error as null
    assert exercised["log-lost-answer-described"] == "advice"


@pytest.mark.parametrize(
    ("name", "scenario"),
    [
        ("log-without-activity-id", "update-400"),
        ("gives-up-on-429", "register-429"),
        ("token-sync-no-wait", "update-token-not-synced"),  # killed by the harness mid-retry
        ("logs-answers-only", "start-lost-dropped"),
        ("blind-end-retry", "end-lost-twice"),
    ],
)
def test_flawed_client_is_refused_over_http(name: str, scenario: str) -> None:
    """Run as a script over HTTP, a flawed client fails its rule and only that one."""
    certification = certify_command(flawed_command(name), [scenario])
    assert certification.failed_rules() == (FLAWS[name].breaks,)


def test_the_command_line_shows_a_flawed_clients_rule_in_a_partial_run(tmp_path: Path) -> None:
    """`conformance certify --scenario` names the broken rule with the evidence, and exits 3: a
    partial run is incomplete, whatever it found."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.cli",
            "certify",
            "--command",
            flawed_command("retries-400"),
            "--scenario",
            "update-400",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        timeout=120,
    )
    assert done.returncode == 3, done.stderr
    assert "INCOMPLETE: this run is not a certificate" in done.stdout
    assert "FAIL no-retry-validation" in done.stdout
    assert "no-retry-validation failed: A 400 (validation) is not sent again" in done.stdout
    assert "sent again 1 time(s); at most 0 allowed" in done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("command", [REFERENCE, URLLIB, DELIVERY], ids=["reference", "urllib", "delivery"])
def test_correct_clients_are_certified_over_http(command: str) -> None:
    """The complete certification of both profiles over HTTP (real backoff sleeps: about a minute):
    certified, exit 0, no rule failed (advice may be shown)."""
    certification = certify_command(command, profiles=BOTH)
    assert certification.failed_rules() == ()
    assert certification.decision.verdict == CertificateVerdict.CERTIFIED
    assert certification.exit_status == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        "never-completes",
        "constant-backoff",
        "update-429-backoff-rate-limit",
        "end-412-token-wait-token-sync",
        "end-502-no-blind-retry-upstream",
    ],
)
def test_flawed_clients_are_not_certified_over_http(name: str) -> None:
    """The flawed integrations of issue 16, run as scripts over the whole plan: not certified, exit
    1, naming their rule (or the baseline they never complete)."""
    breaks = FLAWS[name].breaks if name in FLAWS else SCENARIO_FLAWS[name].breaks
    certification = certify_command(flawed_command(name), profiles=BOTH)
    assert certification.exit_status == 1
    assert any(reason.startswith(breaks) for reason in certification.decision.reasons)
