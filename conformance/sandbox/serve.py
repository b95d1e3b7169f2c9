"""Serving the sandbox over HTTP with uvicorn: `conformance sandbox serve`, and a background server."""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

import uvicorn

from conformance.contract import load_contract
from conformance.core.clock import Clock, SystemClock, VirtualClock
from conformance.core.errors import UsageError
from conformance.profile.target_profile import load_profile, sandbox_profile_path
from conformance.sandbox.assemble import Sandbox, build_sandbox
from conformance.sandbox.config import SandboxConfig
from conformance.sandbox.http_style import ALL_STYLES, HTTP_STYLES
from conformance.sandbox.readings import all_switched, switched

# Seconds a shutdown waits for open requests (a dropped one may hang) before cancelling them.
GRACEFUL_SHUTDOWN_SECONDS = 2
STARTUP_TIMEOUT_SECONDS = 10.0
# Held back from the banner until uvicorn listens for it: a Ctrl-C before then raised in the middle of
# the banner (a traceback) or was swallowed by the event loop's start (a server that never stopped).
HELD_SIGNALS = {signal.SIGINT}


def serve(
    host: str,
    port: int,
    *,
    contracts: Path,
    profile: Path | None,
    clock: Literal["real", "virtual"],
    config: SandboxConfig,
    other_readings: bool = False,
) -> None:
    """Serve until Ctrl-C; print the base URL, the control token and the seeded keys first.

    `other_readings` switches every reading to its second option, under those `config` names.
    """
    contract = load_contract(contracts)
    target = load_profile(profile or sandbox_profile_path(contract), contract)
    the_clock: Clock = VirtualClock() if clock == "virtual" else SystemClock()
    if other_readings:
        config = dataclasses.replace(config, readings={**all_switched(contract.behaviour), **config.readings})
    try:
        sandbox = build_sandbox(contract, target, clock=the_clock, config=config)
    except ValueError as exc:
        raise UsageError(
            "command line",
            "sandbox serve",
            str(exc),
            "pass a positive --rate-limit and --sync-delay, a --latency-ms of 0 or more, a finite "
            "--clock-offset, --reading ID=OPTION with a reading of behaviour.yaml and one of its options, "
            f"and --http with one of {', '.join(HTTP_STYLES)}, {ALL_STYLES}",
        ) from None
    sock = listening_socket(host, port)
    signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    try:
        _print_banner(sandbox, base_url(sock), clock)
        # uvicorn shuts down gracefully on SIGINT, then re-raises it; the re-raised one is ours to swallow.
        with contextlib.suppress(KeyboardInterrupt):
            _server(sandbox, _Foreground).run(sockets=[sock])
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD_SIGNALS)
        sock.close()


class _Foreground(uvicorn.Server):
    """The server of `conformance sandbox serve`: it lets the held-back Ctrl-C through once its own
    handler is installed (uvicorn installs it before `startup`), so a Ctrl-C is never lost."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD_SIGNALS)
        await super().startup(sockets)


@contextlib.contextmanager
def running(sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `sandbox` from a background thread for the duration of the block; yield its base URL."""
    sock = listening_socket(host, port)
    server = _server(sandbox)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="sandbox-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.005)  # uvicorn offers no startup callback; a short poll is the plain way to wait
    try:
        yield base_url(sock)
    finally:
        server.should_exit = True
        thread.join(STARTUP_TIMEOUT_SECONDS + GRACEFUL_SHUTDOWN_SECONDS)
        sock.close()


def reading_choices(given: Iterable[str]) -> dict[str, str]:
    """`--reading ID=OPTION` values as reading id -> option (a later one wins); UsageError if malformed."""
    choices: dict[str, str] = {}
    for text in given:
        reading_id, equals, option = text.partition("=")
        if not equals or not reading_id.strip() or not option.strip():
            raise UsageError(
                "command line",
                "--reading",
                f"{text!r} is not ID=OPTION",
                "write --reading ID=OPTION with a reading id of behaviour.yaml and one of its options",
            )
        choices[reading_id.strip()] = option.strip()
    return choices


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket (port 0: any free port), or a UsageError saying why not."""
    try:
        family, kind, proto, *_ = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        # An explicit protocol, inherited by accepted sockets, is what makes asyncio set TCP_NODELAY
        # on them; without it every reply waits out Nagle and delayed ACKs (40 ms a request).
        sock = socket.socket(family, kind, proto or socket.IPPROTO_TCP)
    except OSError as exc:
        raise _cannot_listen(host, port, exc) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise _cannot_listen(host, port, exc) from None
    return sock


def _cannot_listen(host: str, port: int, exc: OSError) -> UsageError:
    return UsageError(
        "command line",
        "--host/--port",
        f"cannot listen on {host}:{port}: {exc.strerror or exc}",
        "choose another --port (0 picks a free one) or stop what listens there",
    )


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _server(sandbox: Sandbox, kind: type[uvicorn.Server] = uvicorn.Server) -> uvicorn.Server:
    config = uvicorn.Config(
        sandbox.app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        date_header=False,  # the app stamps `Date` from its own clock (sandbox/app.py send_reply)
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    return kind(config)


def _print_banner(sandbox: Sandbox, url: str, clock: str) -> None:
    settings = sandbox.settings
    lines = [
        f"Live Activities sandbox on {url}",
        f"  clock {clock}, token sync after {settings.sync_delay_seconds} s, rate limit "
        f"{settings.rate_limit_requests} per {settings.rate_limit_window_seconds} s",
        f"  control API {url}/_sandbox/ with header X-Sandbox-Control: {settings.control_token}",
        *_variations(sandbox),
        "  API keys per account state (public sandbox test values):",
    ]
    for state, account in sandbox.profile.accounts.items():
        shown = f"(from ${account.env})" if account.secret else account.key()
        lines.append(f"    {state:<12} {shown}")
    lines.append("Ctrl-C stops it.")
    print("\n".join(lines), flush=True)  # noqa: T201 - the command's one way of telling a person


def _variations(sandbox: Sandbox) -> list[str]:
    """Banner lines for what differs from the reference: readings off their default, clock, latency."""
    settings = sandbox.settings
    lines = [
        f"  reading {reading_id}={option}"
        for reading_id, option in switched(settings.readings, sandbox.contract.behaviour).items()
    ]
    if settings.clock_offset_seconds:
        lines.append(f"  clock offset {settings.clock_offset_seconds:+} s")
    if settings.latency_ms:
        lines.append(f"  latency {settings.latency_ms} ms each way")
    if settings.http:
        lines.append(f"  http {', '.join(s for s in HTTP_STYLES if s in settings.http)}")
    return lines
