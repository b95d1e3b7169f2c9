"""What one key's answer to the harmless request proves, judged from the contract alone."""

from __future__ import annotations

import json

import pytest

from conformance.contract import load_contract
from conformance.core.errors import ProfileError
from conformance.core.exchange import Response
from conformance.profile.target_profile import load_profile, sandbox_profile_path
from conformance.targets.keyproof import judge_key, required_states

CONTRACT = load_contract()
PROFILE = load_profile(sandbox_profile_path(CONTRACT), CONTRACT)


def _answer(status: int, code: str | None) -> Response:
    body = json.dumps({"error": "refused", "code": code}).encode() if code else b""
    return Response(status, {"content-type": "application/json"}, body, 0.01, 0.0)


def _row_code(state: str) -> str:
    """The body code the contract documents for a key of `state`."""
    (row,) = CONTRACT.behaviour.accounts[state].outcome.codes
    code = CONTRACT.body_code(row)
    assert code is not None
    return code


def test_the_states_every_run_uses_come_from_the_contract() -> None:
    """The required state is the one whose requests the contract lets through: `good`."""
    assert required_states(CONTRACT) == ("good",)


def test_a_state_shown_by_its_own_code() -> None:
    """A disabled key answered with its own row's code: the answer of its state, only that state fits."""
    answer = judge_key(CONTRACT, PROFILE, "disabled", _answer(403, _row_code("disabled")))
    assert answer.shows_state
    assert answer.fits == ("disabled",)
    assert answer.text().endswith("the answer of its state")


def test_the_body_refusal_proves_a_good_key_but_not_another_state() -> None:
    """REQUEST_INVALID accepts a good key; for a disabled key it fits (which error wins is undocumented)
    but shows nothing of its state, and says so."""
    refused = _answer(400, "REQUEST_INVALID")
    good = judge_key(CONTRACT, PROFILE, "good", refused)
    assert good.text().endswith("accepted (the empty body was refused)")
    disabled = judge_key(CONTRACT, PROFILE, "disabled", refused)
    assert not disabled.shows_state
    assert "good" in disabled.fits
    assert "disabled" in disabled.fits
    assert disabled.text().endswith("its state is not shown")


def test_a_good_key_answered_as_another_state_names_that_state() -> None:
    """The good key answered with the disabled state's code: refused at accounts.good, naming the state."""
    with pytest.raises(ProfileError, match="as a key of state 'disabled' would") as raised:
        judge_key(CONTRACT, PROFILE, "good", _answer(403, _row_code("disabled")))
    assert raised.value.place.path == "accounts.good"


def test_an_answer_no_state_gets_is_shown_not_refused() -> None:
    """A good key whose empty body got a code no row gives it (the target breaks the empty-body rule):
    no state fits, the key is not blamed, and the answer is shown for the tests to judge."""
    answer = judge_key(CONTRACT, PROFILE, "good", _answer(400, "SOMETHING_ELSE"))
    assert answer.fits == ()
    assert answer.text().endswith("documented for no account state (the tests judge it)")
