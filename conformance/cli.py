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
    return parser


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
        command = [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "conformance.suite",
            "-p",
            "no:cacheprovider",
            *contracts,
            *args.pytest_args,
        ]
        return subprocess.run(command, check=False).returncode  # noqa: S603 - our own interpreter and arguments
    if args.command == "sandbox" and args.action == "serve":
        from conformance.sandbox.serve import serve

        serve(
            args.host,
            args.port,
            contracts=directory,
            profile=args.target_profile,
            clock=args.clock,
            sync_delay=args.sync_delay,
            rate_limit=args.rate_limit,
        )
        return 0
    raise AssertionError(f"unhandled command {args.command}")  # argparse only lets known commands through


if __name__ == "__main__":
    sys.exit(main())
