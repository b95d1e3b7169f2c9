"""The `conformance` command: contracts build|lint, sandbox serve, run, drift.

Every user-facing failure is a `ConformanceError`: printed as one message, exit status 2.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance.errors import ConformanceError


def _parser() -> argparse.ArgumentParser:
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
        description="Runs `pytest --pyargs conformance.suite`; arguments it does not know go to pytest, e.g. "
        "`conformance run --target live --base-url URL --target-profile PROFILE.toml`.",
    )

    drift = commands.add_parser(
        "drift",
        help="compare two results files: what changed, and whether documented behaviour regressed",
        description="Exit status 1 when a documented case or row that passed in BASELINE fails in CURRENT; "
        "0 otherwise (changes in undocumented behaviour are reported, not failed); 2 on a malformed file.",
    )
    drift.add_argument("baseline", type=Path, metavar="BASELINE", help="the earlier results JSON file")
    drift.add_argument("current", type=Path, metavar="CURRENT", help="the later results JSON file")
    drift.add_argument("--format", choices=["markdown", "html", "json"], default="markdown")
    drift.add_argument("--output", type=Path, default=None, help="write the report here (default: stdout)")

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
    return parser


def suite_command(*pytest_args: str) -> list[str]:
    """The command that runs the suite in a fresh interpreter, so pytest imports (and assert-rewrites) it."""
    return [
        sys.executable,
        "-m",
        "pytest",
        "--pyargs",
        "conformance.suite",
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
        return _dispatch(args)
    except ConformanceError as error:
        print(error, file=sys.stderr)
        return 2


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
        return subprocess.run(command, check=False).returncode  # noqa: S603 - our own interpreter and arguments
    if args.command == "drift":
        from conformance.report.command import drift_main

        return drift_main(args.baseline, args.current, args.format, args.output)
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
    from conformance.cassettes import default_cassette_dir, lint
    from conformance.contract import load_contract
    from conformance.targets.profile import load_profile, sandbox_profile_path

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
    findings = lint(root, secrets=profile.secrets(), personal=personal)
    for finding in findings:
        print(f"{finding.path}: {finding.place}: {finding.problem}")
    count = sum(1 for _ in root.rglob("*.yaml"))
    print(f"{count} cassette(s) checked, {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
