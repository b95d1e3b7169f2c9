"""`conformance check` (the preflight) and `conformance cassettes lint` (what the kinds recorded).

The cassettes lint is a command of this layer, not of `cassettes/`: which recordings may hold
personal data is a trait of the target kind that made them (`kinds/`), and recording sits above it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.core.subcommand import BAD_INPUT, Command
from conformance.targets.kinds import NAMES, kind_named


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target-profile", type=Path, required=True, help="the target profile (TOML)")
    parser.add_argument("--base-url", default=None, help="default: the profile's base_url")
    parser.add_argument("--target", choices=NAMES, default="live")
    parser.add_argument(
        "--allow-rate-limit-probe", action="store_true", help="as `conformance run` would be given it"
    )


def _check(args: argparse.Namespace, contracts: Path) -> int:
    from conformance.contract import load_contract
    from conformance.targets.preflight import check_main

    return check_main(
        load_contract(contracts),
        args.target_profile,
        target_kind=args.target,
        base_url=args.base_url,
        allow_rate_limit_probe=args.allow_rate_limit_probe,
    )


def _lint_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cassette-dir", type=Path, default=None, help="default: the checkout's cassettes/")
    parser.add_argument("--target-profile", type=Path, default=None, help="whose keys and ids to look for")


def _lint(args: argparse.Namespace, contracts: Path) -> int:
    """Exit 1 on any finding, 2 when there is no cassette directory."""
    from conformance.cassettes.lint import lint
    from conformance.cassettes.messages import default_cassette_dir
    from conformance.contract import load_contract
    from conformance.profile.target_profile import load_profile, sandbox_profile_path

    contract = load_contract(contracts)
    profile = load_profile(args.target_profile or sandbox_profile_path(contract), contract)
    root: Path = args.cassette_dir or default_cassette_dir()
    if not root.is_dir():
        print(
            f"no cassette directory at {root}: record with `conformance run --record-mode=rewrite`",
            file=sys.stderr,
        )
        return BAD_INPUT
    personal = profile.personal_ids()
    personal_kinds = {name for name in NAMES if kind_named(name).traits.personal_data}
    findings = lint(root, secrets=profile.secrets(), personal=personal, personal_kinds=personal_kinds)
    for finding in findings:
        print(f"{finding.path}: {finding.place}: {finding.problem}")
    count = sum(1 for _ in root.rglob("*.yaml"))
    print(f"{count} cassette(s) checked, {len(findings)} finding(s)")
    return 1 if findings else 0


CHECK = Command(
    "check",
    "preflight: is the target ready, and what will a run verify and skip (and why)",
    description="Checks the profile, the base URL, that the target answers, and its clock offset and "
    "round trip; proves each key the run will use (the good key always, another state's when set) "
    "with a request that changes nothing, whose answer must be one the key's account state may "
    "get. Exit status 0 when a run can start, 2 with one message naming what is wrong (e.g. the key "
    "variable), where, and the fix.",
    run=_check,
    arguments=_check_arguments,
)
CASSETTES = Command(
    "cassettes",
    "check recorded cassettes",
    actions=(
        Command(
            "lint",
            "fail on anything that looks like a key, a token or an unpseudonymised id",
            run=_lint,
            arguments=_lint_arguments,
        ),
    ),
)
