"""`load_contract` on malformed copies of contracts/: one ContractError naming file, place and fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from conformance.contract import load_contract
from conformance.contract.rules import ProbeId
from conformance.core.errors import ContractError
from tests.self.contract.contract_cases import CONTRACTS, case_params, replace_once

CASES = case_params("malformed")


def _break(directory: Path, case: dict[str, Any]) -> int | None:
    """Apply the case's edit to the copy; return the line the edit starts on, when it is a replacement."""
    path = directory / case["file"]
    if case.get("delete"):
        path.unlink()
        return None
    if "content" in case:
        path.write_text(case["content"], encoding="utf-8")
        return None
    text, line = replace_once(path.read_text(encoding="utf-8"), case["old"], case["new"])
    path.write_text(text, encoding="utf-8")
    return line


def _place(case: dict[str, Any], edit_line: int | None) -> str:
    """How the message should name the place: `line N`, a key path, or `(whole file)`."""
    return f"line {edit_line}" if case.get("line") == "edit" else str(case["place"])


def test_real_contract_loads() -> None:
    """The repository's contracts/ loads: 23 rows, six endpoints."""
    contract = load_contract(CONTRACTS)
    assert len(contract.table.rows) == 23
    assert contract.endpoints == ("register", "add-users", "remove-users", "start", "update", "end")


def test_every_probe_the_code_asks_is_in_the_contract() -> None:
    """Each probe id the code names (`ProbeId`) is a probe of the bundled behaviour.yaml."""
    probes = {p.id for p in load_contract(CONTRACTS).behaviour.probes}
    assert set(ProbeId) <= probes


@pytest.mark.parametrize("case", CASES)
def test_malformed_contract_is_one_clear_error(contracts_copy: Path, case: dict[str, Any]) -> None:
    """A malformed file gives one ContractError naming file, place, problem and fix; nothing half-loaded."""
    edit_line = _break(contracts_copy, case)
    with pytest.raises(ContractError) as caught:
        load_contract(contracts_copy)
    error = caught.value
    assert Path(error.file).resolve() == (contracts_copy / case["file"]).resolve()
    assert str(error).startswith(f"contract error in {error.file} at {_place(case, edit_line)}: "), str(error)
    assert case["problem"] in error.problem
    assert case["fix"] in error.fix
    with pytest.raises(ContractError) as again:  # a failed load leaves nothing cached
        load_contract(contracts_copy)
    assert str(again.value) == str(error)


@pytest.mark.parametrize("case", CASES)
def test_cli_prints_one_message_and_exits_2(
    contracts_copy: Path, case: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """`conformance --contracts DIR contracts lint` on a malformed copy: exit 2, one message, no traceback."""
    _break(contracts_copy, case)
    assert main(["--contracts", str(contracts_copy), "contracts", "lint"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("contract error in ") == 1
    assert err.count("\n  fix: ") == 1
    assert "Traceback" not in err


def test_a_synonym_is_accepted_wherever_its_other_name_is() -> None:
    """BAD_REQUEST (RRF) and REQUEST_INVALID (the table) name one meaning: every expectation that
    accepts one accepts both, but for the rules the synonym is not for (a body with no field)."""
    behaviour = load_contract(CONTRACTS).behaviour
    expectations = [(rule.id, e) for rule in behaviour.field_rules for e in rule.cases.values()] + [
        (rule.id, rule.expectation) for rule in behaviour.body_rules
    ]
    not_for = {"body-empty", "body-empty-object"}
    for rule, expectation in expectations:
        codes = set(expectation.outcome.codes)
        if rule not in not_for and codes & {"REQUEST_INVALID", "BAD_REQUEST"}:
            assert {"REQUEST_INVALID", "BAD_REQUEST"} <= codes, rule
    assert behaviour.body_rule("empty").expectation.outcome.codes == ("REQUEST_INVALID",)
    sides = [s.outcome.codes for s in behaviour.body_rule("unparseable").expectation.conflict if s.outcome]
    assert sides == [("REQUEST_INVALID",), ("BAD_REQUEST",)]  # each source keeps its own name
