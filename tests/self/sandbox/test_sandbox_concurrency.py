"""Concurrency: parallel clients on shared activities; /start is an atomic lock and state stays consistent."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from conformance.core.clock import VirtualClock
from conformance.sandbox import Sandbox
from tests.self.reference import sandbox_profile
from tests.self.sandbox.sandbox_support import Api, code_of

THREADS = 8
ACTIVITIES = 12
SYNCING = sandbox_profile().syncing_insiders()


def _in_threads(
    sandbox: Sandbox, clock: VirtualClock, work: Callable[[Api, int], list[tuple[str, int, str | None]]]
) -> list[tuple[str, int, str | None]]:
    """Run `work(api, n)` in THREADS threads, each with its own client (its own event loop), all at once."""
    barrier = threading.Barrier(THREADS)

    def run(n: int) -> list[tuple[str, int, str | None]]:
        with sandbox.client() as client:
            barrier.wait()
            return work(Api(client, clock), n)

    with ThreadPoolExecutor(THREADS) as pool:
        return [result for chunk in pool.map(run, range(THREADS)) for result in chunk]


def test_concurrent_start_gives_exactly_one_200(api: Api, sandbox: Sandbox, clock: VirtualClock) -> None:
    """N parallel /start on each activity: exactly one 200 and N-1 409 ALREADY_STARTED per activity."""
    ids = [api.register(*SYNCING) for _ in range(ACTIVITIES)]

    def work(worker: Api, n: int) -> list[tuple[str, int, str | None]]:
        order = ids if n % 2 else ids[::-1]  # half the threads from each end, so they collide
        return [
            (a, r.status_code, code_of(r)) for a in order for r in [worker.post("start", worker.push_body(a))]
        ]

    results = _in_threads(sandbox, clock, work)
    per_activity = Counter((activity, status, code) for activity, status, code in results)
    for activity in ids:
        starts = [n for (a, status, _), n in per_activity.items() if a == activity and status == 200]
        assert starts == [1], f"{activity}: {per_activity}"
    assert {(status, code) for _, status, code in results} == {(200, None), (409, "ALREADY_STARTED")}
    assert {a.state for a in sandbox.control.activities()} == {"STARTED"}


def test_parallel_cycles_keep_state_consistent(api: Api, sandbox: Sandbox, clock: VirtualClock) -> None:
    """Threads racing add/remove/start/update/end on shared activities leave state matching the answers."""
    ids = [api.register(SYNCING[0]) for _ in range(ACTIVITIES)]
    clock.advance(sandbox_profile().sync_delay_seconds)
    steps = ("add-users", "remove-users", "start", "update", "update", "end", "end")

    def work(worker: Api, n: int) -> list[tuple[str, int, str | None]]:
        results = []
        for i, activity in enumerate(ids):
            step = steps[(n + i) % len(steps)]
            body = worker.body_for(step, activity, [SYNCING[1].insider_id])
            response = worker.post(step, body)
            results.append((f"{activity}/{step}", response.status_code, code_of(response)))
            clock.advance(0.05)  # tokens of activities started meanwhile sync as the threads go on
        return results

    results = _in_threads(sandbox, clock, work)
    assert all(status < 500 for _, status, _ in results)
    ended = Counter(key.split("/")[0] for key, status, _ in results if key.endswith("/end") and status == 200)
    started = Counter(
        key.split("/")[0] for key, status, _ in results if key.endswith("/start") and status == 200
    )
    alive = {a.activity_id: a for a in sandbox.control.activities()}
    for activity in ids:
        assert ended[activity] <= 1
        assert started[activity] <= 1
        assert (activity not in alive) == (ended[activity] == 1)
        if activity in alive:
            assert alive[activity].state == ("STARTED" if started[activity] else "REGISTERED")
