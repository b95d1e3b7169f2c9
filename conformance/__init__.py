"""Contract-testing and conformance suite for Insider One's Live Activities API.

The public surface, grouped by layer (see ARCHITECTURE.md):
- the contract: `load_contract`, `Contract`, and the user-facing errors;
- the sandbox: `conformance.sandbox.build_sandbox` (imported on demand: it pulls in Starlette);
- the suite: `conformance run`, or `pytest --pyargs conformance.suite` with the bundled plugin.
"""

from conformance.contract import Contract, load_contract
from conformance.core.errors import (
    CassetteError,
    ConformanceError,
    ContractError,
    ProfileError,
    ResultsError,
    UsageError,
)

__all__ = [  # noqa: RUF022 - grouped by layer, as the docstring lists them
    # the contract
    "Contract",
    "load_contract",
    # errors a person can act on
    "CassetteError",
    "ConformanceError",
    "ContractError",
    "ProfileError",
    "ResultsError",
    "UsageError",
]
