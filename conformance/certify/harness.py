"""Playing scenarios: in-process (respx + a virtual clock) or over HTTP (a command, one sandbox each).

Both produce `Run`s from the scripted sandbox's journal and the client's log, and both hand them
to the same judge.
"""

from __future__ import annotations

import os
import shlex
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import respx

from conformance.certify.calls import group_calls
from conformance.certify.capped import Captured, read_log
from conformance.certify.contain import Contained, adopting_orphans
from conformance.certify.findings import Certification, LogLine, Run, parse_log
from conformance.certify.judge import baseline_problem, judge_runs
from conformance.certify.stage import Stage, build_stage, sandbox_profile
from conformance.client.settings import FlowSettings, Integration
from conformance.contract.certification import Policy, Scenario, load_policy
from conformance.core.clock import SystemClock, VirtualClock
from conformance.core.errors import UsageError
from conformance.profile.target_profile import TargetProfile
from conformance.sandbox.serve import running
from conformance.sandbox.transport import InProcessTransport

IN_PROCESS_BASE_URL = "http://certify.invalid"
# How often a command run looks at its sandbox's journal and its process.
POLL_SECONDS = 0.05
PLACEHOLDERS = ("base_url", "api_key", "insider_ids", "activity_type", "log_file")


class _Stop(BaseException):
    """Ends a runaway in-process flow; a BaseException, so a client's `except Exception` cannot hide it."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def _certify(
    policy: Policy,
    *,
    mode: str,
    subject: str,
    runs: Sequence[Run],
    started: datetime,
    wall: float,
    profile: TargetProfile,
    profiles: Sequence[str] | None,
) -> Certification:
    return Certification(
        profiles=policy.chosen_profiles(profiles),
        planned=len(policy.plan(profiles)),
        baselines={r.scenario.name: baseline_problem(policy, r) for r in runs if r.scenario.baseline},
        policy=policy,
        mode="http" if mode == "http" else "in-process",
        subject=subject,
        started=started,
        wall_seconds=wall,
        runs=tuple(runs),
        verdicts=judge_runs(policy, runs),
        secrets=profile.secrets(),
        aliases=profile.aliases(),
    )


# -- in-process ----------------------------------------------------------------------------------


def certify_in_process(
    integration: Integration,
    scenarios: Sequence[str] | None = None,
    *,
    policy: Policy | None = None,
    profiles: Sequence[str] | None = None,
) -> Certification:
    """Play the profiles' plan (or the named scenarios of it) against a Python integration on httpx;
    a virtual clock stands in for time."""
    policy = policy or load_policy()
    chosen = policy.select(scenarios, profiles)
    profile = sandbox_profile(policy)
    started, begin = datetime.now(UTC), time.perf_counter()
    runs = [run_in_process(policy, scenario, integration, profile) for scenario in chosen]
    name = getattr(integration, "__qualname__", None) or repr(integration)
    module = getattr(integration, "__module__", "")
    return _certify(
        policy,
        mode="in-process",
        subject=f"{module}.{name}" if module else name,
        runs=runs,
        started=started,
        wall=time.perf_counter() - begin,
        profile=profile,
        profiles=profiles,
    )


def run_in_process(
    policy: Policy, scenario: Scenario, integration: Integration, profile: TargetProfile
) -> Run:
    clock = VirtualClock()
    start = clock.now()
    stage = build_stage(policy, scenario, profile, clock)
    transport = InProcessTransport(stage.app)
    begin = time.perf_counter()

    def elapsed() -> float:
        return (clock.now() - start).total_seconds()

    def sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        clock.advance(seconds)
        if elapsed() > policy.deadline_seconds:
            raise _Stop("deadline")

    def forward(request: httpx.Request) -> httpx.Response:
        if _over_budget(policy, stage):
            raise _Stop("attempts")
        return transport.handle_request(request)

    ended, stopped = "returned", None
    with tempfile.TemporaryDirectory(prefix="certify-") as tmp:
        log_file = Path(tmp) / "client.log"
        settings = FlowSettings(
            base_url=IN_PROCESS_BASE_URL,
            api_key=stage.api_key,
            insider_ids=stage.insider_ids,
            activity_type=stage.activity_type,
            log_file=log_file,
            sleep=sleep,
            now=elapsed,
        )
        try:
            with respx.mock(base_url=IN_PROCESS_BASE_URL, assert_all_called=False) as router:
                router.route().mock(side_effect=forward)
                integration(settings)
        except _Stop as stop:
            ended, stopped = f"stopped by the harness ({stop.why})", stop.why
        except Exception as exc:
            ended = f"raised {type(exc).__name__}: {exc}"
        finally:
            transport.close()
        log = read_log(log_file, scenario.name)
    return Run(
        scenario=scenario,
        started=start,
        attempts=tuple(stage.journal.entries()),
        log=log_lines(log),
        ended=ended,
        stopped=stopped,
        wall_seconds=time.perf_counter() - begin,
        captured=(log,) if log else (),
    )


def log_lines(log: Captured | None) -> tuple[LogLine, ...]:
    """The lines kept of the client's log (its head and tail when it was cut), numbered as written."""
    if log is None:
        return ()
    return tuple(line for first, text in log.line_blocks() for line in parse_log(text, first=first))


def _over_budget(policy: Policy, stage: Stage) -> bool:
    """More attempts of one call than the budget allows: a runaway the harness may stop at once (a
    flow that makes many calls, say ten /update calls with ten bodies, is not one)."""
    calls = group_calls(stage.journal.entries())
    return any(len(call.attempts) > policy.budget.max_attempts for call in calls)


# -- over HTTP -----------------------------------------------------------------------------------


def certify_command(
    command: str,
    scenarios: Sequence[str] | None = None,
    *,
    policy: Policy | None = None,
    parallel: int | None = None,
    quiet_seconds: float | None = None,
    cwd: Path | None = None,
    profiles: Sequence[str] | None = None,
) -> Certification:
    """Run `command` once per scenario of the profiles' plan (or the named ones) against its own
    sandbox served on loopback, in parallel.

    UsageError when the command is empty or not found, or when no scenario's flow reached its sandbox.
    KeyboardInterrupt stops every running command before it propagates.
    """
    if not command.strip():
        raise UsageError(
            "command line", "--command", "the command is empty", 'pass --command "python my_client.py"'
        )
    policy = policy or load_policy()
    chosen = policy.select(scenarios, profiles)
    profile = sandbox_profile(policy)
    cancel = threading.Event()
    quiet = policy.harness.quiet_seconds if quiet_seconds is None else quiet_seconds
    started, begin = datetime.now(UTC), time.perf_counter()
    pool = ThreadPoolExecutor(max_workers=parallel or len(chosen), thread_name_prefix="certify")
    with adopting_orphans():  # what escaped every scenario's sweep is killed on the way out
        try:
            futures = [
                pool.submit(
                    run_command, policy, s, command, profile=profile, cancel=cancel, quiet=quiet, cwd=cwd
                )
                for s in chosen
            ]
            runs = [f.result() for f in futures]
        except BaseException:
            cancel.set()  # every running command is stopped before the interrupt propagates
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown()
    _check_reached(command, runs)
    wall = time.perf_counter() - begin
    return _certify(
        policy,
        mode="http",
        subject=command,
        runs=runs,
        started=started,
        wall=wall,
        profile=profile,
        profiles=profiles,
    )


def _check_reached(command: str, runs: Sequence[Run]) -> None:
    if any(run.attempts for run in runs):
        return
    first = runs[0]
    not_found = any(run.ended == "exited 127" for run in runs)
    problem = (
        "the command was not found"
        if not_found
        else f"the flow never reached the sandbox ({first.ended}, no request)"
    )
    tail = first.output_tail.strip().splitlines()[-3:]
    raise UsageError(
        "command line",
        "--command",
        f"{problem}: {command!r}" + (f"; its output ended with: {' | '.join(tail)}" if tail else ""),
        "give a command that runs your flow against $LA_BASE_URL (or {base_url}) with $LA_API_KEY; "
        "check it by hand against `conformance sandbox serve`",
    )


def substitute(command: str, values: dict[str, str]) -> str:
    """`command` with each `{placeholder}` replaced by its value, shell-quoted."""
    for name in PLACEHOLDERS:
        command = command.replace("{" + name + "}", shlex.quote(values[name]))
    return command


def run_command(
    policy: Policy,
    scenario: Scenario,
    command: str,
    *,
    profile: TargetProfile,
    cancel: threading.Event,
    quiet: float,
    cwd: Path | None = None,
) -> Run:
    stage = build_stage(policy, scenario, profile, SystemClock())
    served = replace(stage.sandbox, app=stage.app)
    with tempfile.TemporaryDirectory(prefix="certify-") as tmp, running(served) as base_url:
        log_file = Path(tmp) / "client.log"
        values = {
            "base_url": base_url,
            "api_key": stage.api_key,
            "insider_ids": ",".join(stage.insider_ids),
            "activity_type": stage.activity_type,
            "log_file": str(log_file),
        }
        env = {**os.environ, **{f"LA_{name.upper()}": value for name, value in values.items()}}
        started = stage.sandbox.control.now()
        begin = time.perf_counter()
        command_run = Contained(substitute(command, values), env=env, cwd=cwd)
        try:
            ended, stopped = _watch(policy, stage, command_run, cancel, begin)
            _keep_listening(stage, quiet, cancel)
        finally:
            output = command_run.end()  # the scenario is over: nothing the command started outlives it
        log = read_log(log_file, scenario.name)
    return Run(
        scenario=scenario,
        started=started,
        attempts=tuple(stage.journal.entries()),
        log=log_lines(log),
        ended=ended,
        stopped=stopped,
        wall_seconds=time.perf_counter() - begin,
        captured=(output.stdout, output.stderr) + ((log,) if log else ()),
    )


def _watch(
    policy: Policy, stage: Stage, process: Contained, cancel: threading.Event, begin: float
) -> tuple[str, str | None]:
    """Wait for the command to end; stop it at the deadline, over the budget, or on cancel."""
    while True:
        code = process.poll()
        if code is not None:
            return f"exited {code}", None
        why = None
        if cancel.is_set():
            why = "interrupted"
        elif time.perf_counter() - begin > policy.deadline_seconds:
            why = "deadline"
        elif _over_budget(policy, stage):
            why = "attempts"
        if why is not None:
            process.terminate()
            return f"stopped by the harness ({why})", why
        time.sleep(POLL_SECONDS)


def _keep_listening(stage: Stage, quiet_seconds: float, cancel: threading.Event) -> None:
    """Serve on until `quiet_seconds` after the last answer, so that a late extra attempt is caught."""
    entries = stage.journal.entries()
    if not entries or not quiet_seconds:
        return
    last = entries[-1].answered or entries[-1].received
    remaining = quiet_seconds - (stage.sandbox.control.now() - last).total_seconds()
    if remaining > 0:
        cancel.wait(remaining)
