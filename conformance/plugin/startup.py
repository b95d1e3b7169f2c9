"""What a suite session checks and sets before any test: the options that cannot work together,
the preflight, the pseudonym key a recording needs, the traceback style.

Each check that fails ends the run with one usage error, before a test has touched the target.
"""

from __future__ import annotations

import os

import pytest

from conformance.cassettes.pseudonyms import PSEUDONYM_KEY_VARIABLE
from conformance.plugin.run import SuiteRun, stops_the_run
from conformance.sandbox.readings import resolve_readings
from conformance.sandbox.serve import reading_choices
from conformance.targets.preflight import preflight as check_target


def short_tracebacks(run: SuiteRun) -> None:
    """A broken target yields a few lines per test, not pages: `--tb=short` unless another style is
    asked for. Against a target with personal data, never the long style nor `--showlocals`: they
    print each frame's arguments and locals cut to a length, and a cut insider id is no longer one
    that scrubbing can recognise."""
    option = run.config.option
    personal = run.kind.traits.personal_data
    if option.tbstyle == "auto" or (personal and option.tbstyle == "long"):
        option.tbstyle = "short"
    if personal:
        option.showlocals = False


def preflight(run: SuiteRun) -> None:
    """Before any test: the profile, the base URL, the target's reach and clock (`conformance check`).

    A failure ends the run with one usage error; what the target does not offer is listed in the
    report header (the tests needing it skip with the reason). Run once, by the controlling process,
    and only when a profile or a remote target was asked for: the bundled sandbox profile is ours.
    """
    config = run.config
    path = config.getoption("target_profile")
    if path is None and run.kind.traits.needs_profile:
        name = config.getoption("target")
        raise pytest.UsageError(f"--target {name} needs --target-profile PATH (what the target offers)")
    if run.worker is not None or path is None:
        return
    with stops_the_run():
        run.preflight = check_target(
            run.contract(),
            path,
            target_kind=config.getoption("target"),
            base_url=config.getoption("base_url"),
            allow_rate_limit_probe=bool(config.getoption("allow_rate_limit_probe")),
        ).render()


def check_sandbox_readings(run: SuiteRun) -> None:
    """A bad --sandbox-reading ends the run before any test, with one message naming the choices."""
    chosen = run.config.getoption("sandbox_reading")
    if not chosen:
        return
    behaviour = run.contract().behaviour
    with stops_the_run("--sandbox-reading: ", ValueError):
        resolve_readings(behaviour, reading_choices(chosen))


def refuse_shared_control_in_parallel(run: SuiteRun) -> None:
    """Parallel workers (-n) would see each other's injected faults, lowered limits and rate probes."""
    config = run.config
    if (
        getattr(config.option, "numprocesses", None) in (None, 0, 1)
        or not run.kind.traits.shared_between_workers
    ):
        return
    profile = run.profile() if config.getoption("target_profile") else None
    if config.getoption("allow_rate_limit_probe") or (profile is not None and profile.control_token()):
        raise pytest.UsageError(
            "parallel workers (-n) would see each other's injected faults, lowered rate limits and rate "
            "probes: run a target whose control API is enabled, or --allow-rate-limit-probe, without -n"
        )


def require_pseudonym_key(run: SuiteRun) -> None:
    """Recording from a target with personal data needs the key its pseudonyms are made with."""
    if not (run.kind.traits.personal_data and run.recording):
        return
    if not os.environ.get(PSEUDONYM_KEY_VARIABLE):
        raise pytest.UsageError(
            "recording from a live target stores pseudonyms of insider ids and udids: export "
            f"{PSEUDONYM_KEY_VARIABLE} (any secret string; keep it to recognise the pseudonyms later)"
        )
