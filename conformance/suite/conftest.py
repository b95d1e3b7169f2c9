"""Parameters of the suite's tests, read from the contract at collection time.

Also pytest-recording's two fixtures, overridden here (a conftest wins over a plugin): cassettes
live in `<cassette dir>/<test module>/`, recorded with the suite's matching, scrubbing and tags.

Each named edge and each (row, endpoint) pair becomes its own test id, so a report names exactly
which edge or row failed, and the named edges always run whatever Hypothesis explores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.cassettes.messages import default_cassette_dir
from conformance.cassettes.vcr import vcr_config as configuration
from conformance.contract import load_contract
from conformance.core.errors import ConformanceError
from conformance.generate.strategies import ends_at_edges, field_breaks, insider_id_counts, malformed_bodies
from conformance.targets.syncpool import SYNCED_MARKER


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    try:
        contract = load_contract(metafunc.config.getoption("contracts"))
    except ConformanceError as error:
        raise pytest.UsageError(str(error)) from None
    names = metafunc.fixturenames
    if "row_endpoint" in names:
        rate, gated = contract.behaviour.rate_limit.row, contract.behaviour.sync_gate.endpoints
        pairs = [
            pytest.param(
                (row.id, endpoint),
                id=f"{row.id}-{endpoint}",
                marks=[*_spends(row.id == rate), *_synced(endpoint in gated)],
            )
            for row in contract.table.rows
            for endpoint in row.endpoints
        ]
        metafunc.parametrize("row_endpoint", pairs)
    if "ends_at_edge" in names:
        edges = ends_at_edges(contract)
        metafunc.parametrize("ends_at_edge", edges, ids=[e.label for e in edges])
    if "insider_id_count" in names:
        counts = insider_id_counts(contract)
        metafunc.parametrize("insider_id_count", counts, ids=[c.label for c in counts])
    if "field_break" in names:
        cases = [(e, b) for e in contract.endpoints for b in field_breaks(contract, e)]
        metafunc.parametrize("field_break", cases, ids=[f"{e}-{b.label}" for e, b in cases])
    if "malformed_body" in names:
        bodies = [(e, label, raw) for e in contract.endpoints for label, raw in malformed_bodies()]
        metafunc.parametrize("malformed_body", bodies, ids=[f"{e}-{label}" for e, label, _ in bodies])
    if "endpoint" in names:
        metafunc.parametrize("endpoint", contract.endpoints)
    if "devices_endpoint" in names:
        metafunc.parametrize("devices_endpoint", contract.behaviour.target_devices.endpoints)


SPENDS_RATE_BUDGET = "spends_rate_budget"


def _spends(provokes_429: bool) -> list[pytest.MarkDecorator]:
    return [getattr(pytest.mark, SPENDS_RATE_BUDGET)] if provokes_429 else []


def _synced(sync_gated: bool) -> list[pytest.MarkDecorator]:
    """A row is provoked on a valid request's activity: a synced one where the sync gate stands
    before the row (see `activity_for`), so only those pairs tell the sync pool they may take one."""
    return [getattr(pytest.mark, SYNCED_MARKER)] if sync_gated else []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{SPENDS_RATE_BUDGET}: provokes 429, which exhausts a bucket for up to a window: runs last",
    )
    config.addinivalue_line(
        "markers",
        f"{SYNCED_MARKER}(syncing=None, offline=0, count=1): may ask `arrange` for up to `count` synced "
        "activities of these insiders (see insiders_of_kind): the sync pool starts them ahead",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that exhaust a rate bucket run after every other test, so none meets their 429; before
    them, the tests that may ask for synced activities run after those that need none, whose time
    then covers the sync waits of the activities a live run's sync pool starts ahead.

    Among them, those that leave their bucket clear (they wait the window out or back off until it
    clears) go first; then one probe per endpoint, in the reverse of the flow order the table lists
    the endpoints in (/end first, /register last), so that no probe's arrangement (a /register, a
    /start) needs a bucket an earlier probe exhausted.
    """
    flow = load_contract(config.getoption("contracts")).endpoints

    def order(item: pytest.Item) -> tuple[bool, bool, int]:
        if item.get_closest_marker(SPENDS_RATE_BUDGET) is None:
            return (False, item.get_closest_marker(SYNCED_MARKER) is not None, 0)
        params = getattr(getattr(item, "callspec", None), "params", {})
        endpoint = params["row_endpoint"][1] if "row_endpoint" in params else None
        return (True, False, -1 if endpoint is None else len(flow) - flow.index(endpoint))

    items.sort(key=order)


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    root: Path = request.config.getoption("cassette_dir") or default_cassette_dir()
    return str(root / request.path.stem)


@pytest.fixture
def vcr_config(conformance_target: Any) -> dict[str, Any]:
    return configuration(conformance_target.pseudonyms, conformance_target.secrets())
