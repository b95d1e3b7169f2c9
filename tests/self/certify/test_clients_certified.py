"""The clients certified end to end: the reference client and a second correct client pass, and each
deliberately flawed client fails exactly the rule it breaks, in-process and over HTTP.

In-process runs cost milliseconds of wall time per scenario (virtual clock). Over HTTP the clients
sleep for real: CI runs the scenarios whose waits are short, and the complete runs are marked slow.
"""

from __future__ import annotations

import random
import shlex
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from conformance.certify import Certification, certify_command, certify_in_process, load_policy
from conformance.client import LiveActivityClient, Parts, RetrySchedule, normal_flow
from conformance.client.settings import FlowSettings
from conformance.contract import load_contract
from tests.self.certify.clients.flawed import FLAWS, flawed_integration

CLIENTS = Path(__file__).parent / "clients"
PYTHON = shlex.quote(sys.executable)
REFERENCE = f"{PYTHON} -m conformance.client"
URLLIB = f"{PYTHON} {shlex.quote(str(CLIENTS / 'urllib_client.py'))}"
RULES = frozenset(load_policy().rules)


def flawed_command(name: str) -> str:
    return f"{PYTHON} {shlex.quote(str(CLIENTS / 'flawed.py'))} --flaw {name}"


def reference_with_seeded_jitter(settings: FlowSettings) -> None:
    """`run_flow`, with its jitter drawn from a fixed seed: the verdict cannot hang on a draw.

    (Full jitter could, with probability below 1e-4, draw three waits so short that the mean wait
    after a 429 falls under the backoff rule's floor; certification.yaml explains the figure.)
    """
    contract = load_contract()
    rng = random.Random(20260520)  # noqa: S311 (jitter draws, not secrets)
    parts = replace(
        Parts.from_contract(contract, settings), schedule=RetrySchedule.from_contract(contract, rng)
    )
    with LiveActivityClient(settings, contract=contract, parts=parts) as client:
        normal_flow(client)


def verdicts(certification: Certification) -> dict[str, str]:
    return {rule: v.verdict for rule, v in certification.verdicts.items()}


# -- in-process ----------------------------------------------------------------------------------


def test_reference_client_passes_every_rule_in_process() -> None:
    """Every scenario, every rule exercised and passed."""
    certification = certify_in_process(reference_with_seeded_jitter)
    assert verdicts(certification) == dict.fromkeys(RULES, "pass")


def test_every_rule_has_a_flawed_client_that_breaks_it() -> None:
    """The flawed clients cover the rules of certification.yaml, one flaw per rule at least."""
    assert {flaw.breaks for flaw in FLAWS.values()} == RULES


@pytest.mark.parametrize("name", sorted(FLAWS))
def test_flawed_client_fails_exactly_its_rule_in_process(name: str) -> None:
    """Run every scenario: the rule the flaw breaks fails, and every other rule passes."""
    flaw = FLAWS[name]
    certification = certify_in_process(flawed_integration(name))
    assert certification.failed_rules() == (flaw.breaks,), {
        rule: certification.verdicts[rule].reason for rule in certification.failed_rules()
    }
    assert certification.exit_status == 1


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
    """The standard-library client passes too, with the stalled and 429 scenarios added."""
    certification = certify_command(URLLIB, [*QUICK, "start-lost-stalled", "register-429"])
    exercised = {rule: v for rule, v in verdicts(certification).items() if v != "not exercised"}
    assert set(exercised.values()) == {"pass"}


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


def test_the_command_line_refuses_a_flawed_client_naming_the_rule(tmp_path: Path) -> None:
    """`conformance certify` exits 1 and its output names the broken rule, with the evidence."""
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
    assert done.returncode == 1, done.stderr
    assert "FAIL no-retry-validation" in done.stdout
    assert "no-retry-validation failed: A 400 (validation) is not sent again" in done.stdout
    assert "sent again 1 time(s); at most 0 allowed" in done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("command", [REFERENCE, URLLIB], ids=["reference", "urllib"])
def test_correct_clients_pass_every_scenario_over_http(command: str) -> None:
    """The complete certification over HTTP (real backoff sleeps: up to a minute)."""
    certification = certify_command(command)
    assert verdicts(certification) == dict.fromkeys(RULES, "pass")
