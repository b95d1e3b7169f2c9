"""The `conformance` command: contracts build|lint, sandbox serve, run, drift, report.

Every user-facing failure is a `ConformanceError`: printed as one message, exit status 2. A reader
that stops reading (`conformance check | head`) ends the command quietly, as SIGPIPE ends a Unix tool.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance.core.errors import ConformanceError
from conformance.plugin.options import help_epilog

BAD_INPUT = 2  # the exit status of every command given input it cannot work with
PYTEST_USAGE_ERROR = 4  # pytest.ExitCode.USAGE_ERROR: how the suite's preflight stops a run


def _parser() -> argparse.ArgumentParser:
    from conformance.report.command import RUN_RENDERERS

    parser = argparse.ArgumentParser(prog="conformance", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--contracts", type=Path, default=None, help="the contracts directory (default: the bundled one)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    contracts = commands.add_parser("contracts", help="build and check the contract files")
    contract_commands = contracts.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = contract_commands.add_parser("build", help="regenerate errors.yaml from error-table.md")
    build.add_argument(
        "--check", action="store_true", help="exit 1 when errors.yaml is stale instead of writing it"
    )
    contract_commands.add_parser("lint", help="cross-check the contract files and print the coverage matrix")

    commands.add_parser(
        "run",
        help="run the conformance suite (default: the embedded sandbox); other arguments go to pytest",
        usage="%(prog)s [SUITE OPTIONS] [PYTEST OPTIONS]",
        description="Runs `pytest --pyargs conformance.suite` with the options below, e.g.\n"
        "  conformance run --target live --base-url URL --target-profile PROFILE.toml\n"
        "Exit status: 0 every test passed or skipped and something documented was verified; 1 a test "
        "failed, or the run verified nothing (no documented case judged, or more errors than verdicts: "
        "the summary and the results file say which); 2 interrupted, or the run could not start (its "
        "preflight failed: one message).",
        epilog=help_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    _add_drift(commands)

    report = commands.add_parser(
        "report",
        help="render one results file for a person: counts, matrix, failures, what was not verified",
        description="Markdown (short enough for a CI job summary), one self-contained HTML page, or "
        "JUnit XML with one testcase per case. Exit status 0 whatever the run's verdicts; 2 on a "
        "malformed file.",
    )
    report.add_argument("results", type=Path, metavar="RESULTS", help="a results JSON file")
    report.add_argument("--format", choices=sorted(RUN_RENDERERS), default="markdown")
    report.add_argument("--output", type=Path, default=None, help="write the report here (default: stdout)")

    _add_check(commands)
    _add_verdict(commands)

    certify = commands.add_parser(
        "certify",
        help="certify an integration: run its flow against scripted sandboxes and judge its retries",
        description="Runs CMD once per scenario of the profiles' plan (contracts/certification.yaml) against "
        "its own sandbox on loopback. Exit status 0 certified, 1 not certified, 2 on bad input, 3 "
        "incomplete (a --scenario run is never a certificate). "
        "`certify verify BUNDLE` checks a bundle offline: 0 intact, 1 edited, 2 unreadable.",
    )
    certify.add_argument(
        "--command", dest="command_line", default=None, metavar="CMD", help="the integration's flow"
    )
    certify.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="NAME",
        help="certify this profile (repeatable; default: core)",
    )
    certify.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this one (repeatable): the run is incomplete, not a certificate",
    )
    certify.add_argument(
        "--output", type=Path, default=None, metavar="DIR", help="write the certificate bundle here"
    )
    certify.add_argument("--zip", action="store_true", help="also write DIR.zip")
    certify.add_argument(
        "--signing-key", type=Path, default=None, metavar="PEM", help="Ed25519 key (default: a fresh one)"
    )
    certify.add_argument(
        "--parallel", type=int, default=None, metavar="N", help="scenarios at once (default: all)"
    )
    certify_commands = certify.add_subparsers(dest="action", required=False, metavar="ACTION")
    verify = certify_commands.add_parser(
        "verify", help="check a certificate bundle (directory or .zip) offline"
    )
    verify.add_argument("bundle", type=Path, metavar="BUNDLE")
    verify.add_argument(
        "--public-key", type=Path, default=None, metavar="PEM", help="the key it must be signed with"
    )

    cassettes = commands.add_parser("cassettes", help="check recorded cassettes")
    cassette_commands = cassettes.add_subparsers(dest="action", required=True, metavar="ACTION")
    cassette_lint = cassette_commands.add_parser(
        "lint", help="fail on anything that looks like a key, a token or an unpseudonymised id"
    )
    cassette_lint.add_argument(
        "--cassette-dir", type=Path, default=None, help="default: the checkout's cassettes/"
    )
    cassette_lint.add_argument(
        "--target-profile", type=Path, default=None, help="whose keys and ids to look for"
    )

    sandbox = commands.add_parser("sandbox", help="run the embedded reference sandbox")
    sandbox_commands = sandbox.add_subparsers(dest="action", required=True, metavar="ACTION")
    serve = sandbox_commands.add_parser("serve", help="serve the sandbox over HTTP (uvicorn) until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--target-profile", type=Path, default=None, help="seed data and keys (default: sandbox.toml)"
    )
    serve.add_argument("--clock", choices=["real", "virtual"], default="real")
    serve.add_argument("--sync-delay", type=float, default=None, help="seconds until a device's token syncs")
    serve.add_argument(
        "--rate-limit", type=int, default=None, help="requests per minute per key + path + method"
    )
    serve.add_argument(
        "--reading",
        action="append",
        default=[],
        metavar="ID=OPTION",
        help="take this option of a reading of behaviour.yaml (repeatable; the others take their default)",
    )
    serve.add_argument(
        "--other-readings",
        action="store_true",
        help="take the second option of every reading at once (--reading still chooses for its id)",
    )
    serve.add_argument(
        "--clock-offset",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="the sandbox's clock reads the real (or virtual) time plus this, which may be negative",
    )
    serve.add_argument(
        "--latency-ms",
        type=int,
        default=0,
        metavar="MS",
        help="one-way network latency: each request and each answer waits this long",
    )
    serve.add_argument(
        "--http",
        action="append",
        default=[],
        metavar="STYLE",
        help="speak HTTP as many servers do (repeatable): gzip (when the request accepts it), chunked, "
        "close (the connection after every answer), charset (on the JSON content type), or all",
    )
    return parser


def _add_drift(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from conformance.report.command import HISTORY_RENDERERS, RENDERERS

    drift = commands.add_parser(
        "drift",
        help="compare two results files, or a directory of nightly ones: what changed, since when, "
        "and whether documented behaviour regressed",
        description="Exit status 1 when a documented case or row that passed in BASELINE fails in CURRENT "
        "(or a test newly errors); 0 otherwise (changes in undocumented behaviour are reported, not "
        "failed); 2 on a malformed file. Given a DIRECTORY of results files instead, ordered by their "
        "started_at: for each change, the first run that showed it, whether it held or flaps, and exit "
        "status 1 when a documented case or row that passed in any earlier run fails in the latest.",
    )
    drift.add_argument(
        "baseline",
        type=Path,
        metavar="BASELINE",
        help="the earlier results JSON file, or a DIRECTORY of them",
    )
    drift.add_argument(
        "current",
        type=Path,
        metavar="CURRENT",
        nargs="?",
        help="the later results JSON file (not with a DIRECTORY)",
    )
    drift.add_argument(
        "--format", choices=sorted(RENDERERS.keys() & HISTORY_RENDERERS.keys()), default="markdown"
    )
    drift.add_argument("--output", type=Path, default=None, help="write the report here (default: stdout)")
    drift.add_argument(
        "--store",
        type=Path,
        default=None,
        metavar="FILE",
        help="with a DIRECTORY: the history store (SQLite) to read and keep; the directory's results files "
        "are added to it, and the report covers every run it holds (default: the directory alone)",
    )


def _add_check(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from conformance.targets.kinds import NAMES

    check = commands.add_parser(
        "check",
        help="preflight: is the target ready, and what will a run verify and skip (and why)",
        description="Checks the profile, the base URL, that the target answers, and its clock offset and "
        "round trip; proves each key the run will use (the good key always, another state's when set) "
        "with a request that changes nothing, whose answer must be one the key's account state may "
        "get. Exit status 0 when a run can start, 2 with one message naming what is wrong (e.g. the key "
        "variable), where, and the fix.",
    )
    check.add_argument("--target-profile", type=Path, required=True, help="the target profile (TOML)")
    check.add_argument("--base-url", default=None, help="default: the profile's base_url")
    check.add_argument("--target", choices=NAMES, default="live")
    check.add_argument(
        "--allow-rate-limit-probe", action="store_true", help="as `conformance run` would be given it"
    )


def _add_verdict(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verdict = commands.add_parser(
        "verdict",
        help="the colour of a nightly job: is tonight's run red against the accepted baseline",
        description="Exit status 1 (one line per reason) when the run verified nothing or errors "
        "outnumber its verdicts, when any case ended in error, and, against BASELINE, when a documented "
        "case fails that the baseline did not have failing or fewer documented cases were judged; "
        "without a baseline, when any documented case failed. 0 otherwise; 2 on a malformed file.",
    )
    verdict.add_argument("results", type=Path, help="tonight's results JSON")
    verdict.add_argument("--baseline", type=Path, default=None, help="the accepted baseline's results JSON")
    verdict.add_argument(
        "--github", action="store_true", help="print each reason as a GitHub Actions error annotation"
    )


# The suite's own pytest settings (junit_family, filterwarnings), whatever the rootdir would be.
SUITE_CONFIG = Path(__file__).parent / "suite" / "pytest.ini"


def suite_command(*pytest_args: str) -> list[str]:
    """The command that runs the suite in a fresh interpreter, so pytest imports (and assert-rewrites) it,
    with the suite's own settings and rootdir (`SUITE_CONFIG`), wherever it is run from."""
    return [
        sys.executable,
        "-m",
        "pytest",
        "--pyargs",
        "conformance.suite",
        "-c",
        str(SUITE_CONFIG),
        "--rootdir",
        str(SUITE_CONFIG.parent),
        "-p",
        "no:cacheprovider",
        *pytest_args,
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "run":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.pytest_args = extra
    try:
        status = _dispatch(args)
        sys.stdout.flush()  # here, where a reader gone is caught, not in the interpreter's exit
        return status
    except ConformanceError as error:
        print(error, file=sys.stderr)
        return BAD_INPUT
    except BrokenPipeError:
        return _reader_gone()


# What a shell reports for a command that SIGPIPE ended (128 + 13).
READER_GONE = 141


def _reader_gone() -> int:
    """Stdout's reader went away (`| head`): stop without a traceback. Point stdout at /dev/null, so
    that the interpreter's flush at exit does not raise BrokenPipeError again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return READER_GONE


def _dispatch(args: argparse.Namespace) -> int:
    from conformance.contract.loader import default_contracts_dir

    directory: Path = args.contracts or default_contracts_dir()
    if args.command == "contracts" and args.action == "build":
        from conformance.contract.build import ERRORS_FILE, is_stale, render_errors_yaml, write_atomically

        if args.check:
            if is_stale(directory):
                print(
                    f"{directory / ERRORS_FILE} is stale: run `conformance contracts build`", file=sys.stderr
                )
                return 1
            print(f"{directory / ERRORS_FILE} is up to date")
            return 0
        write_atomically(directory / ERRORS_FILE, render_errors_yaml(directory))
        print(f"wrote {directory / ERRORS_FILE}")
        return 0
    if args.command == "contracts" and args.action == "lint":
        from conformance.contract.lint import lint_main

        return lint_main(directory)
    if args.command == "run":
        # A fresh interpreter, so pytest imports (and assert-rewrites) the suite itself.
        contracts = ["--contracts", str(args.contracts)] if args.contracts else []
        command = suite_command(*contracts, *args.pytest_args)
        from conformance.plugin.interrupts import run_child

        status = run_child(command)  # Ctrl-C and SIGTERM let the suite clean up and write its results
        # A run that cannot start (its preflight failed) exits as every other command given bad input.
        return BAD_INPUT if status == PYTEST_USAGE_ERROR else status
    if args.command == "certify":
        from conformance.certify.command import certify_main

        return certify_main(args, directory)
    if args.command == "drift":
        from conformance.report.command import drift_main

        return drift_main(args.baseline, args.current, args.format, args.output, args.store)
    if args.command == "report":
        from conformance.report.command import report_main

        return report_main(args.results, args.format, args.output)
    if args.command == "check":
        from conformance.contract import load_contract
        from conformance.targets.preflight import check_main

        return check_main(
            load_contract(directory),
            args.target_profile,
            target_kind=args.target,
            base_url=args.base_url,
            allow_rate_limit_probe=args.allow_rate_limit_probe,
        )
    if args.command == "verdict":
        from conformance.judging.earned import verdict_main

        return verdict_main(args.results, args.baseline, github=args.github)
    if args.command == "cassettes" and args.action == "lint":
        return _lint_cassettes(directory, args.cassette_dir, args.target_profile)
    if args.command == "sandbox" and args.action == "serve":
        return _serve(args, directory)
    raise AssertionError(f"unhandled command {args.command}")  # argparse only lets known commands through


def _serve(args: argparse.Namespace, contracts: Path) -> int:
    from conformance.sandbox import SandboxConfig
    from conformance.sandbox.serve import reading_choices, serve

    config = SandboxConfig(
        sync_delay_seconds=args.sync_delay,
        rate_limit_per_minute=args.rate_limit,
        readings=reading_choices(args.reading),
        clock_offset_seconds=args.clock_offset,
        latency_ms=args.latency_ms,
        http=frozenset(args.http),
    )
    serve(
        args.host,
        args.port,
        contracts=contracts,
        profile=args.target_profile,
        clock=args.clock,
        config=config,
        other_readings=args.other_readings,
    )
    return 0


def _lint_cassettes(contracts: Path, cassette_dir: Path | None, profile_path: Path | None) -> int:
    from conformance.cassettes.lint import lint
    from conformance.cassettes.messages import default_cassette_dir
    from conformance.contract import load_contract
    from conformance.profile.target_profile import load_profile, sandbox_profile_path
    from conformance.targets.kinds import NAMES, kind_named

    contract = load_contract(contracts)
    profile = load_profile(profile_path or sandbox_profile_path(contract), contract)
    root = cassette_dir or default_cassette_dir()
    if not root.is_dir():
        print(
            f"no cassette directory at {root}: record with `conformance run --record-mode=rewrite`",
            file=sys.stderr,
        )
        return 2
    personal = profile.personal_ids()
    personal_kinds = {name for name in NAMES if kind_named(name).traits.personal_data}
    findings = lint(root, secrets=profile.secrets(), personal=personal, personal_kinds=personal_kinds)
    for finding in findings:
        print(f"{finding.path}: {finding.place}: {finding.problem}")
    count = sum(1 for _ in root.rglob("*.yaml"))
    print(f"{count} cassette(s) checked, {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
