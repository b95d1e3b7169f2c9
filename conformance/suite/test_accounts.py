"""Every account state behaviour.yaml names, on every endpoint: a key in that state gets the state's
documented answer. (test_error_rows provokes each row once, with the first state that gives it; two
states that share a row, such as an unknown key and one not renewed, each get their own requests here.)"""

from __future__ import annotations

import pytest

from conformance.contract import load_contract
from conformance.core.errors import ConformanceError
from conformance.suite.provoke import provocations
from conformance.targets.arrange import Arranger
from conformance.targets.verifier import Verifier


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per account state whose documented answer is an error, read from the contract."""
    if "account_state" not in metafunc.fixturenames:
        return
    try:
        contract = load_contract(metafunc.config.getoption("contracts"))
    except ConformanceError as error:
        raise pytest.UsageError(str(error)) from None
    states = [s for s, e in contract.behaviour.accounts.items() if e.outcome.kind == "error"]
    metafunc.parametrize("account_state", states)


@pytest.mark.synced(count=2)
def test_account_state_gets_its_documented_answer(
    verifier: Verifier, arrange: Arranger, account_state: str
) -> None:
    """A valid request with a key of this state gets the state's documented code, on every endpoint."""
    contract = verifier.contract
    codes = contract.behaviour.accounts[account_state].outcome.codes
    verifier.require_account(account_state, rows=codes)
    for endpoint in contract.endpoints:
        chosen = next(
            p for code in codes for p in provocations(contract, code, endpoint) if p.account == account_state
        )
        verifier.verify(chosen.build(arrange), case=chosen.label)
