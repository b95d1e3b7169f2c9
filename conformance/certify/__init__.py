"""Certify an integration: does a vendor's client obey the retry table? Evidence anyone can check.

The rules and scenarios are data (contracts/certification.yaml, joined to the error table by
`policy.load_policy`). Each scenario runs the integration's normal flow once against a fresh
sandbox whose answers are scripted (`conformance.sandbox.scripted`); the sandbox's journal of
attempts, and the client's own log, are then judged by one code path (`judge.py`), whichever way
the flow was run:

- over HTTP, any language: `certify_command("python my_client.py", scenarios=None)` serves each
  scenario's sandbox on loopback (port 0, in parallel) and runs the command with `LA_BASE_URL`,
  `LA_API_KEY`, `LA_INSIDER_IDS`, `LA_ACTIVITY_TYPE`, `LA_LOG_FILE` in its environment (and the
  placeholders `{base_url}` `{api_key}` `{insider_ids}` `{activity_type}` `{log_file}` replaced,
  shell-quoted). The CLI is `conformance certify --command CMD [--profile NAME ...] [--scenario NAME ...]
  [--output DIR]`.
- in-process, Python on httpx: `certify_in_process(integration, scenarios=None)`, where
  `integration(settings: FlowSettings) -> None` runs the flow (`flow.py`). respx routes every httpx
  request for `settings.base_url` to the scripted sandbox; `settings.sleep` and `settings.now` are a
  virtual clock, so a 1-2-4-8 s backoff costs no wall time. The integration must wait and read
  elapsed time only through them; any other host is refused by respx.

Both take `profiles` (default `core`; `segments` includes it) and return a `Certification`:
`.verdicts[rule_id].verdict` is a `Ruling` (PASSED, FAILED, NOT_EXERCISED or ADVICE_NOT_FOLLOWED,
spelled "pass", "fail", "not exercised", "advice" in the bundle; with `.reason`, and per scenario
`.outcomes`), `.failed_rules()` the ids that failed, `.decision` the one `CertificateVerdict`
("certified", "not certified", "incomplete" when `scenarios` narrowed the plan) with its reasons,
and `.exit_status` 0, 1 or 3 (`verdict.py`). Bad input (a command that is not found, a flow that never
reached the sandbox, an unknown scenario) raises a ConformanceError (the CLI prints it, exit 2).

The client log (LA_LOG_FILE / settings.log_file): one JSON object per line, one line per attempt,
with the keys `endpoint`, `status`, `code`, `error`, `activity_id`, `timestamp`, `retry`
(certification.yaml `log`), null where the attempt had no such value.

`write_bundle(certification, directory, signing_key=None, zip_it=False)` writes the certificate
bundle (verdicts, contract hashes, scenarios, redacted evidence, JUnit XML, HTML, a manifest signed
with Ed25519); `verify_bundle(path)` checks one offline (`conformance certify verify BUNDLE`).
"""

from typing import TYPE_CHECKING

from conformance.core.lazy import public_names

if TYPE_CHECKING:
    from conformance.certify.bundle import write_bundle
    from conformance.certify.findings import Certification, RuleVerdict, ScenarioOutcome
    from conformance.certify.harness import certify_command, certify_in_process
    from conformance.certify.verdict import CertificateVerdict, Ruling
    from conformance.certify.verify import BundleCheck, verify_bundle
    from conformance.client.settings import FlowSettings, Integration
    from conformance.contract.certification import Policy, Rule, Scenario, load_policy

__all__ = [
    "BundleCheck",
    "CertificateVerdict",
    "Certification",
    "FlowSettings",
    "Integration",
    "Policy",
    "Rule",
    "RuleVerdict",
    "Ruling",
    "Scenario",
    "ScenarioOutcome",
    "certify_command",
    "certify_in_process",
    "load_policy",
    "verify_bundle",
    "write_bundle",
]

# Each public name's module, imported on first use (`core/lazy.py`): the CLI's parser imports
# `certify/command.py`, not the harness.
__getattr__ = public_names(
    __name__,
    {
        "BundleCheck": "conformance.certify.verify",
        "CertificateVerdict": "conformance.certify.verdict",
        "Certification": "conformance.certify.findings",
        "FlowSettings": "conformance.client.settings",
        "Integration": "conformance.client.settings",
        "Policy": "conformance.contract.certification",
        "Rule": "conformance.contract.certification",
        "RuleVerdict": "conformance.certify.findings",
        "Ruling": "conformance.certify.verdict",
        "Scenario": "conformance.contract.certification",
        "ScenarioOutcome": "conformance.certify.findings",
        "certify_command": "conformance.certify.harness",
        "certify_in_process": "conformance.certify.harness",
        "load_policy": "conformance.contract.certification",
        "verify_bundle": "conformance.certify.verify",
        "write_bundle": "conformance.certify.bundle",
    },
)
