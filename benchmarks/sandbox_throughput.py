"""Throughput and latency of the embedded sandbox for a realistic mix of calls.

Each cycle is /register, /start, three /update and /end on one activity, with the sandbox's token
sync delay at 0 so the updates pass the sync gate. Measured twice:

  (a) over loopback HTTP: the sandbox served by uvicorn in a subprocess on 127.0.0.1, driven by
      load-generator processes (--workers) speaking raw HTTP/1.1 over keep-alive connections;
  (b) in-process: the same cycles through `Sandbox.client()` (httpx, no socket) from a few threads.

Bounded in time and count; stops by itself. Run: `python benchmarks/sandbox_throughput.py [--seconds 5]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from conformance.contract import load_contract  # noqa: E402
from conformance.core.clock import VirtualClock  # noqa: E402 - the checkout, not an installed copy
from conformance.profile.target_profile import TargetProfile, load_profile, sandbox_profile_path  # noqa: E402
from conformance.sandbox import SandboxConfig, build_sandbox  # noqa: E402

UPDATES_PER_CYCLE = 3
NO_LIMIT = 10**9
MAX_REQUESTS_PER_WORKER = 2_000_000  # a hard bound besides the time limit


# -- the request mix -------------------------------------------------------------------------------


class Mix:
    """The bodies of one cycle, from the contract's paths and the sandbox profile's data."""

    def __init__(self, profile: TargetProfile, paths: dict[str, str]) -> None:
        self.paths = paths
        self.key = profile.accounts["good"].key() or ""
        self.activity_type = profile.activity_type
        self.insider_ids = [i.insider_id for i in profile.syncing_insiders()]

    def register(self) -> bytes:
        ends_at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        body = {"activity_type": self.activity_type, "insider_ids": self.insider_ids, "ends_at": ends_at}
        return json.dumps(body).encode()

    def push(self, activity_id: str) -> bytes:
        content = {"title": "Order", "message": "On its way", "content_state": {"status": "in_transit"}}
        return json.dumps(
            {"activity_id": activity_id, "activity_type": self.activity_type, "content": content}
        ).encode()

    def cycle(self) -> list[str]:
        return ["register", "start", *["update"] * UPDATES_PER_CYCLE, "end"]


# -- (a) loopback HTTP -----------------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection: just enough of the protocol for the sandbox's replies."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, key: str
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.head = f"Host: {host}\r\nX-Api-Key: {key}\r\nContent-Type: application/json\r\n"

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        self.writer.write(
            f"POST {path} HTTP/1.1\r\n{self.head}Content-Length: {len(body)}\r\n\r\n".encode() + body
        )
        header = await self.reader.readuntil(b"\r\n\r\n")
        status = int(header[9:12])
        length = 0
        for line in header.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self.reader.readexactly(length) if length else b""


Figures = tuple[
    int, list[float], float, float
]  # errors, latencies, began, ended (perf_counter, machine-wide)


async def _drive(url: str, mix: Mix, connections: int, seconds: float) -> Figures:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    began = time.perf_counter()
    deadline = began + seconds
    latencies: list[float] = []
    errors = 0

    async def one() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        conn = Connection(reader, writer, f"{host}:{port}", mix.key)
        activity_id = ""
        while time.perf_counter() < deadline and len(latencies) < MAX_REQUESTS_PER_WORKER:
            for endpoint in mix.cycle():
                body = mix.register() if endpoint == "register" else mix.push(activity_id)
                sent = time.perf_counter()
                status, reply = await conn.post(mix.paths[endpoint], body)
                latencies.append(time.perf_counter() - sent)
                errors += status != 200
                if endpoint == "register":
                    activity_id = json.loads(reply)["activity_id"]
        writer.close()
        await writer.wait_closed()

    await asyncio.gather(*(one() for _ in range(connections)))
    return errors, latencies, began, time.perf_counter()


def _worker(url: str, connections: int, seconds: float, results: multiprocessing.Queue[object]) -> None:
    contract = load_contract()
    mix = Mix(load_profile(sandbox_profile_path(contract), contract), dict(contract.paths))
    _fast_event_loop()
    results.put(asyncio.run(_drive(url, mix, connections, seconds)))


def _fast_event_loop() -> None:
    try:
        import uvloop  # noqa: PLC0415 - optional: `uvicorn[standard]` brings it

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass


def bench_loopback(seconds: float, workers: int, connections: int) -> dict[str, float]:
    command = [
        sys.executable,
        "-m",
        "conformance.cli",
        "sandbox",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--clock",
        "virtual",
        "--sync-delay",
        "0",
        "--rate-limit",
        str(NO_LIMIT),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split(" on ", 1)[1].strip()
        results: multiprocessing.Queue[object] = multiprocessing.Queue()
        procs = [
            multiprocessing.Process(target=_worker, args=(url, connections, seconds, results))
            for _ in range(workers)
        ]
        for proc in procs:
            proc.start()
        collected = [results.get(timeout=seconds + 60) for _ in procs]
        for proc in procs:
            proc.join(timeout=10)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
    return _summary(collected)  # type: ignore[arg-type]


# -- (b) in-process --------------------------------------------------------------------------------


def bench_in_process(seconds: float, threads: int) -> dict[str, float]:
    contract = load_contract()
    profile = load_profile(sandbox_profile_path(contract), contract)
    sandbox = build_sandbox(
        contract,
        profile,
        clock=VirtualClock(),
        config=SandboxConfig(sync_delay_seconds=0, rate_limit_per_minute=NO_LIMIT),
    )
    mix = Mix(profile, dict(contract.paths))
    headers = {"X-Api-Key": mix.key, "Content-Type": "application/json"}
    began = time.perf_counter()
    deadline = began + seconds
    lock = threading.Lock()
    collected: list[Figures] = []

    def run(_: int) -> None:
        latencies: list[float] = []
        errors = 0
        with sandbox.client() as client:
            activity_id = ""
            while time.perf_counter() < deadline and len(latencies) < MAX_REQUESTS_PER_WORKER:
                for endpoint in mix.cycle():
                    body = mix.register() if endpoint == "register" else mix.push(activity_id)
                    sent = time.perf_counter()
                    response = client.post(mix.paths[endpoint], content=body, headers=headers)
                    latencies.append(time.perf_counter() - sent)
                    errors += response.status_code != 200
                    if endpoint == "register":
                        activity_id = response.json()["activity_id"]
        with lock:
            collected.append((errors, latencies, began, time.perf_counter()))

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, range(threads)))
    return _summary(collected)


# -- reporting -------------------------------------------------------------------------------------


def _summary(collected: list[Figures]) -> dict[str, float]:
    """Throughput over the span from the first worker's start to the last one's end."""
    latencies = sorted(value for _, chunk, _, _ in collected for value in chunk)
    count = len(latencies)
    elapsed = max(ended for *_, ended in collected) - min(began for _, _, began, _ in collected)
    return {
        "requests": count,
        "errors": sum(errors for errors, *_ in collected),
        "seconds": elapsed,
        "rps": count / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(count - 1, int(count * 0.99))] * 1000,
    }


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    cores = len(os.sched_getaffinity(0))
    extras = [name for name in ("uvloop", "httptools") if _importable(name)]
    python = platform.python_version()
    return f"{cores} cores ({model}), Python {python}, uvicorn extras: {', '.join(extras) or 'none'}"


def _importable(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


def _report(label: str, figures: dict[str, float]) -> None:
    print(
        f"{label:<34} {figures['rps']:>8,.0f} req/s"
        f"   p50 {figures['p50_ms']:6.2f} ms   p99 {figures['p99_ms']:6.2f} ms"
        f"   ({figures['requests']:,.0f} requests in {figures['seconds']:.1f} s,"
        f" {figures['errors']:.0f} non-200)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each measurement")
    # On 2 cores one generator process beside the server is the best split (measured: 2 or 3 are slower).
    parser.add_argument("--workers", type=int, default=1, help="load-generator processes for (a)")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections per process")
    parser.add_argument("--threads", type=int, default=2, help="client threads for (b)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"mix: register, start, {UPDATES_PER_CYCLE} x update, end per activity (sync delay 0)")
    benches: list[tuple[str, Callable[[], dict[str, float]]]] = [
        (
            f"(a) loopback HTTP, {args.workers}x{args.connections} conns",
            lambda: bench_loopback(args.seconds, args.workers, args.connections),
        ),
        (f"(b) in-process, {args.threads} threads", lambda: bench_in_process(args.seconds, args.threads)),
    ]
    for label, bench in benches:
        _report(label, bench())
    return 0


if __name__ == "__main__":
    sys.exit(main())
