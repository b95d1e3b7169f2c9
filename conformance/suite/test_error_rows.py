"""Every row of the error table, on every endpoint it names, as documented."""

from __future__ import annotations

from conformance.contract import ErrorRow
from conformance.core.exchange import Exchange
from conformance.suite.provoke import Provocation, provocations
from conformance.suite.rate_limit import provoke_rate_limit
from conformance.targets.arrange import Arranger
from conformance.targets.verifier import Verifier


def test_row_gives_documented_status_and_code(
    verifier: Verifier, arrange: Arranger, row_endpoint: tuple[str, str]
) -> None:
    """Provoking a row on an endpoint gives the row's status, code and envelope."""
    row_id, endpoint = row_endpoint
    row = verifier.contract.table.row(row_id)
    options = provocations(verifier.contract, row_id, endpoint)
    if not options:
        verifier.skip(
            f"the contract gives no way to provoke {row.describe()} on /{endpoint}",
            endpoint=endpoint,
            rows=(row_id,),
        )
    for chosen in options:
        verifier.require_account(chosen.account, endpoint=endpoint, rows=(row_id,))
        exchange = _provoke(arrange, chosen, endpoint, row_id)
        if _is_row(exchange, row):
            return
    answers = ", ".join(p.label for p in options)
    verifier.skip(
        f"{row.describe()} not exercised on /{endpoint}: every request the contract gives for it ({answers}) "
        "may also get another documented answer, and the target gave another each time",
        endpoint=endpoint,
        rows=(row_id,),
    )


def _is_row(exchange: Exchange, row: ErrorRow) -> bool:
    """The response is this row (status, and code where the row has one), not another acceptable one."""
    response = exchange.response
    return (
        response is not None
        and response.status == row.status
        and (row.code is None or response.code == row.code)
    )


def _provoke(arrange: Arranger, chosen: Provocation, endpoint: str, row_id: str) -> Exchange:
    verifier = arrange.verifier
    if chosen.kind == "rate_limit":
        return provoke_rate_limit(arrange, chosen, endpoint)
    if chosen.kind == "fault":
        request = chosen.build(arrange)
        status = verifier.contract.table.row(row_id).status
        with arrange.fault(endpoint, "status", status=status, row=row_id):
            return verifier.verify(request, case=chosen.label)
    return verifier.verify(chosen.build(arrange), case=chosen.label)
