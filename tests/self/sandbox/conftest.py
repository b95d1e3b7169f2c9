"""Fixtures for the sandbox self-tests: a sandbox on a virtual clock and a caller bound to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.core.clock import VirtualClock
from conformance.sandbox import Sandbox
from tests.self.sandbox.sandbox_support import Api, build


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def sandbox(clock: VirtualClock) -> Sandbox:
    return build(clock)


@pytest.fixture
def api(sandbox: Sandbox, clock: VirtualClock) -> Iterator[Api]:
    with sandbox.client() as client:
        yield Api(client, clock)
