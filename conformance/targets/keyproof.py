"""Each key a run will use, proven before its first test.

A key variable that is unset, empty (what GitHub Actions passes for a secret that does not exist) or
padded with whitespace cannot be sent; a key the API refuses makes every test of its account state
fail, blaming the API. So each key is sent once with a request that changes nothing (an empty body
to the endpoint that creates activities: refused whatever the key), and the oracle, reading the
contract, says which answers a key of each account state may get to it. The answer must be one the
profile's state for that key may get; an answer only other states get names them. Where the body's
refusal may win over the account's (the order is undocumented), the answer shows that the key got
past authentication but not which state its account is in: that is said, not failed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime

from conformance.contract import Contract
from conformance.core.clock import ServerTime
from conformance.core.errors import Place, ProfileError
from conformance.core.exchange import Exchange, Request, Response
from conformance.core.printable import printable, redact
from conformance.generate.expected import Expected
from conformance.generate.oracle import expected_outcome
from conformance.generate.request_rules import account_rule
from conformance.generate.world import World
from conformance.judging.checks import judge
from conformance.judging.results import Verdict
from conformance.profile.target_profile import Account, TargetProfile

__all__ = ["KeyAnswer", "harmless_request", "judge_key", "keys_to_prove", "required_states"]


def required_states(contract: Contract) -> tuple[str, ...]:
    """The account states every run sends: those whose requests the contract lets through (`ok`)."""
    return tuple(s for s, e in contract.behaviour.accounts.items() if e.outcome.kind == "ok")


def harmless_request(contract: Contract, state: str) -> Request:
    """The request that proves a key and changes nothing: an empty body where activities are created."""
    return Request(endpoint=contract.roles.creates_activity, raw=b"", account=state)


def keys_to_prove(contract: Contract, profile: TargetProfile) -> dict[str, str]:
    """The key of each account state the run will use, required states first.

    A required state's key must be there; another state's key is used only when set and not empty
    (its tests skip otherwise). A key that cannot be sent, or one key given for two states, is one
    `ProfileError` naming the variable and the fix.
    """
    required = required_states(contract)
    keys: dict[str, str] = {}
    for state in required:
        account = profile.accounts.get(state)
        if account is None:
            raise ProfileError(
                profile.path,
                Place(path=f"accounts.{state}"),
                f"no key for account state {state!r}, which every test uses",
                f'add `{state} = {{ env = "LA_KEY_{state.upper()}" }}` under [accounts] and export the key',
            )
        keys[state] = _sendable(profile, account, required=True)
    for state, account in profile.accounts.items():
        if state not in keys and account.key() is not None:
            keys[state] = _sendable(profile, account, required=False)
    _refuse_shared_keys(profile, keys)
    return keys


def _variable(account: Account) -> str:
    return f"${account.env}" if account.env else f"the literal key of accounts.{account.state}"


def _sendable(profile: TargetProfile, account: Account, *, required: bool) -> str:
    """The key of `account`, or a `ProfileError` saying why it cannot be sent."""
    raw = account.literal if account.literal is not None else os.environ.get(account.env or "")
    if raw is None:
        problem = f"${account.env} is unset, and every test sends the key of account state {account.state!r}"
    elif not raw:
        why = f", and every test sends the key of account state {account.state!r}" if required else ""
        problem = (
            f"${account.env} is empty (GitHub Actions passes an empty string for a secret that does not "
            f"exist){why}"
        )
    elif raw != raw.strip() or any(c in raw for c in "\r\n"):
        problem = f"{_variable(account)} begins or ends with whitespace (a newline pasted into the secret?)"
    else:
        return raw
    return _refuse(profile, account, problem)


def _refuse(profile: TargetProfile, account: Account, problem: str) -> str:
    fix = (
        f"export {account.env} with the API key of an account in state {account.state!r} (in GitHub "
        f"Actions: a repository secret {account.env}, passed in the job's env)"
        if account.env
        else f"give accounts.{account.state} the key of an account in state {account.state!r}"
    )
    raise ProfileError(profile.path, Place(path=f"accounts.{account.state}"), problem, fix)


def _refuse_shared_keys(profile: TargetProfile, keys: dict[str, str]) -> None:
    """One account is in one state: a key given for two states is a copy-paste slip."""
    seen: dict[str, str] = {}
    for state, key in keys.items():
        if key in seen:
            first, this = profile.accounts[seen[key]], profile.accounts[state]
            raise ProfileError(
                profile.path,
                Place(path=f"accounts.{state}"),
                f"{_variable(this)} holds the same key as {_variable(first)}: one account cannot be in "
                f"account states {seen[key]!r} and {state!r} at once",
                f"give {_variable(this)} the key of an account in state {state!r}, or unset it (its tests "
                "then skip)",
            )
        seen[key] = state


@dataclass(frozen=True)
class KeyAnswer:
    """What a key's harmless request got, and which account states the contract lets get it."""

    state: str
    status: int
    code: str | None
    fits: tuple[str, ...]  # the account states whose documented answers include this one
    shows_state: bool  # the answer is the state's own (its account rule), not only the body's refusal
    let_through: bool  # the state's requests pass (good): the body's refusal is the answer it should get

    def answer(self) -> str:
        return f"{self.status} {self.code}" if self.code else f"{self.status} (no code)"

    def text(self) -> str:
        """How `conformance check` shows the proof: the answer and what it proves."""
        if not self.fits:
            return f"-> {self.answer()}: documented for no account state (the tests judge it)"
        if self.shows_state:
            return f"-> {self.answer()}: the answer of its state"
        if self.let_through:
            return f"-> {self.answer()}: accepted (the empty body was refused)"
        return f"-> {self.answer()}: the empty body's refusal, documented for it too; its state is not shown"


def judge_key(contract: Contract, profile: TargetProfile, state: str, response: Response) -> KeyAnswer:
    """Judge the answer a key of `state` got to the harmless request; raise a `ProfileError` naming its
    variable when no key of `state` may get that answer but another state's key may.

    An answer no state's key may get says nothing about the key: the target breaks the empty-body
    rule, which is a test's verdict to give, not a reason to run none (so it is shown, not refused)."""
    world = World(contract, profile)
    now = datetime.now(UTC)
    fits: list[str] = []
    own = False
    for candidate in contract.behaviour.accounts:
        request = harmless_request(contract, candidate)
        expected = expected_outcome(world, request, ServerTime(now, now))
        judgement = _judge(contract, expected, Exchange(request, response))
        if judgement is None:
            continue
        fits.append(candidate)
        own |= candidate == state and judgement == account_rule(state)
    let_through = state in required_states(contract)
    # The code is the target's text: shown without a key it echoes, an escape or a workflow command.
    code = printable(redact(response.code, profile.secrets())) if response.code else None
    answer = KeyAnswer(state, response.status, code, tuple(fits), own, let_through)
    if fits and state not in fits:
        _refuse_answer(contract, profile, answer)
    return answer


def _judge(contract: Contract, expected: Expected, exchange: Exchange) -> str | None:
    """The rule whose outcome the answer met ("" where it met no rule, recorded only), or None."""
    judgement = judge(contract, expected, exchange)
    if judgement.verdict == Verdict.FAILED:
        return None
    return judgement.matched.rule if judgement.matched is not None else ""


def _refuse_answer(contract: Contract, profile: TargetProfile, answer: KeyAnswer) -> None:
    account = profile.accounts[answer.state]
    path = contract.paths[contract.roles.creates_activity]
    others = [s for s in answer.fits if s != answer.state]
    _refuse(
        profile,
        account,
        f"{_variable(account)} is not a key of state {answer.state!r}: an empty body to POST {path} "
        f"(which changes nothing) got {answer.answer()}, as a key of state {_either(others)} would",
    )


def _either(states: list[str]) -> str:
    """`'a'`, `'a' or 'b'`, `'a', 'b' or 'c'`."""
    named = [repr(s) for s in states]
    return named[0] if len(named) == 1 else f"{', '.join(named[:-1])} or {named[-1]}"
