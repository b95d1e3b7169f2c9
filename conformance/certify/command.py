"""`conformance certify` and `conformance certify verify`: the command-line face of the harness."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.core.errors import UsageError
from conformance.core.subcommand import INTERRUPTED, Command


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--command", dest="command_line", default=None, metavar="CMD", help="the integration's flow"
    )
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="NAME",
        help="certify this profile (repeatable; default: core)",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this one (repeatable): the run is incomplete, not a certificate",
    )
    parser.add_argument(
        "--output", type=Path, default=None, metavar="DIR", help="write the certificate bundle here"
    )
    parser.add_argument("--zip", action="store_true", help="also write DIR.zip")
    parser.add_argument(
        "--signing-key", type=Path, default=None, metavar="PEM", help="Ed25519 key (default: a fresh one)"
    )
    parser.add_argument(
        "--parallel", type=int, default=None, metavar="N", help="scenarios at once (default: all)"
    )


def _verify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", type=Path, metavar="BUNDLE")
    parser.add_argument(
        "--public-key", type=Path, default=None, metavar="PEM", help="the key it must be signed with"
    )


def certify_main(args: argparse.Namespace, contracts: Path) -> int:
    """Exit 0 certified, 1 not certified, 3 incomplete (a --scenario run); bad input raises a
    ConformanceError."""
    from conformance.certify.bundle import redactor, write_bundle
    from conformance.certify.harness import certify_command
    from conformance.certify.render import render_text
    from conformance.certify.verdict import NOT_A_CERTIFICATE, CertificateVerdict
    from conformance.contract import load_contract
    from conformance.contract.certification import load_policy

    if args.command_line is None:
        raise UsageError(
            "command line",
            "--command",
            "no command given",
            'pass --command "python my_client.py" (or `certify verify BUNDLE`)',
        )
    if args.parallel is not None and args.parallel < 1:
        raise UsageError(
            "command line",
            "--parallel",
            f"{args.parallel} is not a positive number",
            "pass --parallel 1 or more",
        )
    policy = load_policy(load_contract(contracts))
    policy.select(args.scenario, args.profile)  # an unknown name ends here, before any sandbox starts
    try:
        certification = certify_command(
            args.command_line, args.scenario, policy=policy, parallel=args.parallel, profiles=args.profile
        )
    except KeyboardInterrupt:
        print("interrupted: every running command was stopped; no bundle written", file=sys.stderr)
        return INTERRUPTED
    print(redactor(certification)(render_text(certification)), end="")
    if args.output is not None:
        written = write_bundle(certification, args.output, signing_key=args.signing_key, zip_it=args.zip)
        print(f"bundle written to {written}; check it with `conformance certify verify {written}`")
        if certification.decision.verdict == CertificateVerdict.INCOMPLETE:
            print(f"{NOT_A_CERTIFICATE}: the bundle records a partial run")
    return certification.exit_status


def _verify(args: argparse.Namespace, _contracts: Path) -> int:
    return verify_main(args.bundle, args.public_key)


def verify_main(bundle: Path, public_key: Path | None) -> int:
    from conformance.certify.verify import verify_bundle

    if public_key is not None and not public_key.is_file():
        raise UsageError(
            public_key,
            "--public-key",
            "does not exist",
            "pass the PEM public key the bundle should be signed with",
        )
    check = verify_bundle(bundle, public_key)
    print(check.describe(), end="")
    return check.exit_status


CERTIFY = Command(
    "certify",
    "certify an integration: run its flow against scripted sandboxes and judge its retries",
    description="Runs CMD once per scenario of the profiles' plan (contracts/certification.yaml) against "
    "its own sandbox on loopback. Exit status 0 certified, 1 not certified, 2 on bad input, 3 "
    "incomplete (a --scenario run is never a certificate). "
    "`certify verify BUNDLE` checks a bundle offline: 0 intact, 1 edited, 2 unreadable.",
    run=certify_main,
    arguments=_arguments,
    actions=(
        Command(
            "verify",
            "check a certificate bundle (directory or .zip) offline",
            run=_verify,
            arguments=_verify_arguments,
        ),
    ),
)
