"""The contract: the published table and the behaviour rules as one validated, typed model.

This package imports nothing else from `conformance` but `conformance.core.errors`.
"""

from conformance.contract.loader import default_contracts_dir, load_contract
from conformance.contract.model import Contract, ErrorRow, Expectation, Outcome

__all__ = ["Contract", "ErrorRow", "Expectation", "Outcome", "default_contracts_dir", "load_contract"]
