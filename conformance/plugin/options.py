"""The suite's command-line options, written once: the pytest plugin registers them, `conformance run
--help` lists them, each with an example.

Plain data and no pytest import, so that the command line can show the help without loading the suite.
Options of the plugins the suite runs with (Hypothesis, pytest-xdist, pytest-recording) are theirs to
define; they are listed here only so that the help names them.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.targets.kinds import NAMES

TARGETS = NAMES  # the kinds of target, written once there
DEFAULT_RESULTS = Path("results/conformance.json")
# The Hypothesis profiles the plugin registers in a suite run (prefixed: a user's own `ci` stays theirs,
# and so does Hypothesis's built-in one); the suite loads the deterministic one unless told otherwise.
HYPOTHESIS_PROFILES = ("conformance-dev", "conformance-ci", "conformance-nightly")
DEFAULT_HYPOTHESIS_PROFILE = HYPOTHESIS_PROFILES[1]
GROUP = ("live activity conformance", "Insider One Live Activities API conformance suite")


@dataclass(frozen=True)
class SuiteOption:
    """One option: its flags, what it does, an example, and the rest of what argparse is given."""

    flags: tuple[str, ...]
    help: str
    example: str
    settings: Mapping[str, Any] = field(default_factory=dict)  # action, choices, default, type, metavar

    def usage(self) -> str:
        """The option as the help shows it: `--target {sandbox,live,cassettes}`, `--results PATH`."""
        action = self.settings.get("action")
        if action is argparse.BooleanOptionalAction:  # --flag and --no-flag
            return ", ".join(f"{flag}, --no-{flag.removeprefix('--')}" for flag in self.flags)
        if action in ("store_true", "store_false"):
            return ", ".join(self.flags)
        choices = self.settings.get("choices")
        value = "{" + ",".join(choices) + "}" if choices else self.settings.get("metavar", "VALUE")
        return ", ".join(f"{flag} {value}" for flag in self.flags)

    def entry(self, width: int) -> str:
        return _entry(self.usage(), self.help, self.example, width)


OPTIONS: tuple[SuiteOption, ...] = (
    SuiteOption(
        ("--target",),
        "what to test: the embedded sandbox (in-process, on a clock the suite moves), a live target over "
        "HTTP, or the recorded cassettes replayed with the network blocked (default: sandbox)",
        "conformance run --target live --base-url https://api.example.test --target-profile live.toml",
        {"choices": TARGETS, "default": "sandbox"},
    ),
    SuiteOption(
        ("--base-url",),
        "the live target's base URL: the profile's own, or one its destructive_allowed list declares "
        "(default: the profile's base_url)",
        "conformance run --target live --base-url http://127.0.0.1:8080 --target-profile served.toml",
        {"default": None, "metavar": "URL"},
    ),
    SuiteOption(
        ("--target-profile",),
        "the target profile (TOML): the keys of each account state (from environment variables), the "
        "insiders and devices, the control API; required with --target live (default: "
        "contracts/targets/sandbox.toml)",
        "conformance run --target live --target-profile my-insider.toml  (a filled-in insider.example.toml)",
        {"type": Path, "default": None, "metavar": "PATH"},
    ),
    SuiteOption(
        ("--contracts",),
        "the contract directory (default: the bundled one)",
        "conformance run --contracts ./contracts",
        {"type": Path, "default": None, "metavar": "DIR"},
    ),
    SuiteOption(
        ("--results",),
        f"where the results JSON goes, also when the run is interrupted (default: {DEFAULT_RESULTS})",
        "conformance run --results results/nightly.json",
        {"type": Path, "default": DEFAULT_RESULTS, "metavar": "PATH"},
    ),
    SuiteOption(
        ("--allow-rate-limit-probe",),
        "on a live target, spend rate budget to provoke one 429 per endpoint (those tests run last)",
        "conformance run --target live --target-profile live.toml --allow-rate-limit-probe",
        {"action": "store_true"},
    ),
    SuiteOption(
        ("--cassette-dir",),
        "where cassettes are recorded and replayed from (default: the checkout's cassettes/)",
        "conformance run --target cassettes --cassette-dir nightly",
        {"type": Path, "default": None, "metavar": "DIR"},
    ),
    SuiteOption(
        ("--sync-pool",),
        "on a live target that does not record, start the activities tests need synced ahead of them, so "
        "that their sync waits overlap (the default; --no-sync-pool: each test arranges its own when it "
        "asks; see docs/sync-pool.md)",
        "conformance run --target live --target-profile live.toml --no-sync-pool",
        {"action": argparse.BooleanOptionalAction, "default": True},
    ),
    SuiteOption(
        ("--sandbox-reading",),
        "the embedded sandbox takes this option of a reading of behaviour.yaml (repeatable)",
        "conformance run --sandbox-reading rate-limit-window=sliding",
        {"action": "append", "default": [], "metavar": "ID=OPTION"},
    ),
)

# Options of the plugins the suite runs with: shown in the help, defined by the plugins themselves.
PLUGIN_OPTIONS: tuple[SuiteOption, ...] = (
    SuiteOption(
        ("--hypothesis-profile",),
        "(Hypothesis) how many examples each property test draws: conformance-dev (few), conformance-ci "
        "(deterministic; the default) or conformance-nightly (many)",
        "conformance run --hypothesis-profile conformance-nightly",
        {"choices": HYPOTHESIS_PROFILES},
    ),
    SuiteOption(
        ("-n",),
        "(pytest-xdist) run tests in N parallel workers, each with 1/N of the rate budget; refused when "
        "the target's control API is enabled or --allow-rate-limit-probe is given",
        "conformance run --target live --target-profile live.toml -n 4",
        {"metavar": "N"},
    ),
    SuiteOption(
        ("--record-mode",),
        "(pytest-recording) record a cassette per test from the target",
        "conformance run --record-mode=rewrite",
        {"metavar": "rewrite"},
    ),
)

PYTEST_EXAMPLES = (
    ("-k EXPRESSION", "only the tests whose names match", 'conformance run -k "ends_at or sync"'),
    ("--junitxml PATH", "JUnit XML with contract rows as properties", "conformance run --junitxml junit.xml"),
    ("-x", "stop at the first failure (activities are still ended)", "conformance run -x"),
)


def help_epilog(width: int = 100) -> str:
    """The suite's options, the plugins' and pytest's, each with what it does and an example."""
    sections = (
        ("suite options (any other option goes to pytest)", [o.entry(width) for o in OPTIONS]),
        ("options of the plugins the suite runs with", [o.entry(width) for o in PLUGIN_OPTIONS]),
        ("pytest options, for example", [_entry(*example, width) for example in PYTEST_EXAMPLES]),
    )
    listed = [f"{title}:\n" + "\n".join(entries) for title, entries in sections]
    return "\n\n".join([*listed, textwrap.fill(INTERRUPTS, width)])


INTERRUPTS = (
    "Ctrl-C or SIGTERM stops the run within seconds: every STARTED activity is ended and the results "
    "file is written, marked interrupted. A second Ctrl-C stops the cleanup and says what was left."
)


def _entry(usage: str, text: str, example: str, width: int) -> str:
    indent = " " * 6
    wrapped = textwrap.fill(text, width, initial_indent=indent, subsequent_indent=indent)
    return f"  {usage}\n{wrapped}\n{indent}e.g. {example}"
