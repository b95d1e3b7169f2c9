"""`conformance sandbox serve`: the embedded sandbox over HTTP, until Ctrl-C."""

from __future__ import annotations

import argparse
from pathlib import Path

from conformance.core.subcommand import Command


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--target-profile", type=Path, default=None, help="seed data and keys (default: sandbox.toml)"
    )
    parser.add_argument("--clock", choices=["real", "virtual"], default="real")
    parser.add_argument("--sync-delay", type=float, default=None, help="seconds until a device's token syncs")
    parser.add_argument(
        "--rate-limit", type=int, default=None, help="requests per minute per key + path + method"
    )
    parser.add_argument(
        "--reading",
        action="append",
        default=[],
        metavar="ID=OPTION",
        help="take this option of a reading of behaviour.yaml (repeatable; the others take their default)",
    )
    parser.add_argument(
        "--other-readings",
        action="store_true",
        help="take the second option of every reading at once (--reading still chooses for its id)",
    )
    parser.add_argument(
        "--clock-offset",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="the sandbox's clock reads the real (or virtual) time plus this, which may be negative",
    )
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=0,
        metavar="MS",
        help="one-way network latency: each request and each answer waits this long",
    )
    parser.add_argument(
        "--http",
        action="append",
        default=[],
        metavar="STYLE",
        help="speak HTTP as many servers do (repeatable): gzip (when the request accepts it), chunked, "
        "close (the connection after every answer), charset (on the JSON content type), or all",
    )


def _serve(args: argparse.Namespace, contracts: Path) -> int:
    from conformance.sandbox.config import SandboxConfig
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


SANDBOX = Command(
    "sandbox",
    "run the embedded reference sandbox",
    actions=(
        Command(
            "serve",
            "serve the sandbox over HTTP (uvicorn) until Ctrl-C",
            run=_serve,
            arguments=_serve_arguments,
        ),
    ),
)
