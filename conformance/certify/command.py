"""`conformance certify` and `conformance certify verify`: the command-line face of the harness."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.certify.bundle import redactor, write_bundle
from conformance.certify.harness import certify_command
from conformance.certify.render import render_text
from conformance.certify.verdict import NOT_A_CERTIFICATE, CertificateVerdict
from conformance.certify.verify import verify_bundle
from conformance.contract import load_contract
from conformance.contract.certification import load_policy
from conformance.core.errors import UsageError

INTERRUPTED = 130


def certify_main(args: argparse.Namespace, contracts: Path) -> int:
    """Exit 0 certified, 1 not certified, 3 incomplete (a --scenario run); bad input raises a
    ConformanceError."""
    if args.action == "verify":
        return verify_main(args.bundle, args.public_key)
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


def verify_main(bundle: Path, public_key: Path | None) -> int:
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
