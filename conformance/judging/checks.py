"""Checks: small named functions that compare one response with one acceptable alternative.

Each check is registered with `@check` and states a fact as its name; the judge runs all of them
against every alternative the oracle allows, and a response passes when one alternative passes
every check. A failure names the nearest alternatives and which checks they failed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from conformance.contract import Contract
from conformance.core.exchange import Exchange, Response
from conformance.generate.expected import ABSENT, Alternative, Expected, Fact
from conformance.judging.results import Verdict

Check = Callable[[Contract, Response, Alternative], "str | None"]
_CHECKS: dict[str, Check] = {}


def check(function: Check) -> Check:
    """Register a check under its own name; a second check of the same name is a bug."""
    if function.__name__ in _CHECKS:
        raise ValueError(f"check {function.__name__} is registered twice")
    _CHECKS[function.__name__] = function
    return function


def registered_checks() -> Mapping[str, Check]:
    return dict(_CHECKS)


@check
def status_matches_row(contract: Contract, response: Response, alternative: Alternative) -> str | None:
    if response.status != alternative.status:
        return f"status {response.status}, documented {alternative.status}"
    return None


@check
def code_matches_row(contract: Contract, response: Response, alternative: Alternative) -> str | None:
    codes = {c for c in (contract.body_code(code) for code in alternative.codes) if c is not None}
    if alternative.kind != "error" or not codes:
        return None
    if response.code not in codes:
        return f"code {response.code!r}, documented one of {sorted(codes)}"
    return None


@check
def error_envelope_is_documented(
    contract: Contract, response: Response, alternative: Alternative
) -> str | None:
    """A coded error carries `{"error": <string>, "code": <string>}` (RRF); wording is never judged."""
    if alternative.kind != "error" or not any(contract.body_code(c) for c in alternative.codes):
        return None
    body = response.json()
    if not isinstance(body, dict):
        return "the body is not a JSON object with `error` and `code`"
    if not isinstance(body.get("error"), str):
        return "the body has no `error` string"
    return None


@check
def no_body_where_table_says_none(
    contract: Contract, response: Response, alternative: Alternative
) -> str | None:
    """429 has no body; 401/503 only *sometimes* have none, so a body there is recorded, not failed."""
    never = [c for c in alternative.codes if c in {r.id for r in contract.table.rows if r.body == "never"}]
    if alternative.kind == "error" and never and response.content.strip():
        return f"a body on {alternative.status}, which the table documents without one"
    return None


@check
def success_envelope_is_documented(
    contract: Contract, response: Response, alternative: Alternative
) -> str | None:
    if alternative.kind != "ok":
        return None
    body = response.json()
    behaviour = contract.behaviour
    if not isinstance(body, dict) or body.get(behaviour.success_field) != behaviour.success_value:
        return f"the body has no `{behaviour.success_field}: {behaviour.success_value}`"
    return None


@check
def body_facts_hold(contract: Contract, response: Response, alternative: Alternative) -> str | None:
    """Documented counters and lists: `added+refreshed`, `skipped.*`, `skipped_not_synced`, gdpr details."""
    if not alternative.body:
        return None
    body = response.json()
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    wrong = []
    for key, expected in alternative.body.items():
        observed = total(body, key)
        if not _holds(expected, observed):
            wrong.append(f"{key}={_show(observed)} (documented {_show(expected)})")
    return "; ".join(wrong) or None


def _holds(expected: Any, observed: Any) -> bool:
    return expected.holds(observed) if isinstance(expected, Fact) else bool(observed == expected)


def total(body: Any, key: str) -> Any:
    """A dotted field, or for `a+b` the sum of the fields (ABSENT when one is not a number)."""
    values = [lookup(body, dotted) for dotted in key.split("+")]
    if len(values) == 1:
        return values[0]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return sum(values)
    return ABSENT


def lookup(body: Any, dotted: str) -> Any:
    """A dotted field of a response; over a list, the values of the field in each element."""
    node = body
    for part in dotted.split("."):
        if isinstance(node, list):
            node = [e.get(part, ABSENT) if isinstance(e, dict) else ABSENT for e in node]
            node = sorted(node, key=str)
        elif isinstance(node, dict):
            node = node.get(part, ABSENT)
        else:
            return ABSENT
    return node


def _show(value: Any) -> str:
    if isinstance(value, Fact):
        return str(value)
    return "absent" if value is ABSENT else repr(value)


# -- the judge -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    matched: Alternative | None  # the alternative the response met: which error "won"
    misses: tuple[tuple[Alternative, tuple[str, ...]], ...]  # every other alternative and its failed checks


def judge(contract: Contract, expected: Expected, exchange: Exchange) -> Judgement:
    """Pass when one acceptable alternative passes every check; record undocumented outcomes."""
    response = exchange.response
    if response is None:
        lost = tuple((a, (exchange.error or "no response",)) for a in expected.alternatives)
        return Judgement(Verdict.RECORDED if expected.recorded_only else Verdict.FAILED, None, lost)
    tried: list[tuple[Alternative, tuple[str, ...]]] = []
    for alternative in expected.alternatives:
        failed = tuple(
            f"{name}: {problem}"
            for name, run in _CHECKS.items()
            if (problem := run(contract, response, alternative)) is not None
        )
        if not failed:
            return Judgement(Verdict.RECORDED if expected.recorded_only else Verdict.PASSED, alternative, ())
        tried.append((alternative, failed))
    verdict = Verdict.RECORDED if expected.recorded_only or not expected.alternatives else Verdict.FAILED
    return Judgement(verdict, None, tuple(tried))
