"""Probes: one request per mutant whose answer the mutant changes, sent in-process.

A probe arranges what it needs with the sandbox self-tests' `Api` (valid bodies, keys from the
profile) and returns the answer to its last request, so a test can show that a mutant is not a
silent no-op: its sandbox answers the probe otherwise than the reference sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta, timezone
from typing import TYPE_CHECKING, Any

import httpx

from conformance.profile.target_profile import Insider, TargetProfile
from tests.self.mutants.mutant_kinds import Answer, Bench, Probe
from tests.self.reference import bundled_contract

if TYPE_CHECKING:
    from tests.self.sandbox.sandbox_support import Api

ONE_HOUR = 3600
Insiders = Callable[[TargetProfile], list[Insider]]
# What stands for the activity_id of an answer (a fresh uuid on every run).
AN_ACTIVITY_ID = "<activity_id>"


def answer(response: httpx.Response) -> Answer:
    """Status and JSON body, the activity_id (a fresh uuid on every run) masked where there is one."""
    body: Any = response.json() if response.content else None
    if isinstance(body, dict) and "activity_id" in body:
        body = {**body, "activity_id": AN_ACTIVITY_ID}
    return response.status_code, body


def first_of(*classes: str) -> Insiders:
    """The profile's first insider of each eligibility class."""
    return lambda profile: [profile.insiders_of(c)[0] for c in classes]


ELIGIBLE = first_of("eligible")


def one_syncing_one_offline(profile: TargetProfile) -> list[Insider]:
    """An eligible insider whose devices sync and one whose device never does: "some synced"."""
    return [profile.syncing_insiders()[0], profile.never_syncing_insiders()[0]]


def ids(insiders: list[Insider]) -> list[str]:
    return [i.insider_id for i in insiders]


def register(
    insiders: Insiders | None = None, *, ends_in: float = ONE_HOUR, account: str | None = "good"
) -> Probe:
    """/register of `insiders`, ending `ends_in` seconds from the sandbox's now."""

    def probe(bench: Bench) -> Answer:
        api = bench.api
        body = api.register_body(ids((insiders or ELIGIBLE)(api.profile)), ends_in)
        return answer(api.post("register", body, account=account))

    return probe


def register_in_zone(ends_in: float, utc_offset: timedelta) -> Probe:
    """/register ending `ends_in` seconds from the sandbox's now, written in the zone `utc_offset`."""

    def probe(bench: Bench) -> Answer:
        api = bench.api
        body = api.register_body(ids(ELIGIBLE(api.profile)))
        moment = api.clock.now() + timedelta(seconds=ends_in)
        body["ends_at"] = moment.astimezone(timezone(utc_offset)).isoformat()
        return answer(api.post("register", body))

    return probe


def register_count(count: int) -> Probe:
    """/register of `count` insider ids: the eligible ones, then ids the sandbox does not know."""

    def probe(bench: Bench) -> Answer:
        api = bench.api
        known = ids(list(api.profile.syncing_insiders()))
        padded = (known + [f"mutant-unknown-{n}" for n in range(count)])[:count]
        return answer(api.post("register", api.register_body(padded)))

    return probe


def register_without(field: str) -> Probe:
    def probe(bench: Bench) -> Answer:
        api = bench.api
        body = api.register_body(ids(ELIGIBLE(api.profile)))
        return answer(api.post("register", {k: v for k, v in body.items() if k != field}))

    return probe


def raw(endpoint: str, content: bytes, content_type: str | None = "application/json") -> Probe:
    """A body sent as is, with this Content-Type (none when None)."""

    def probe(bench: Bench) -> Answer:
        api = bench.api
        headers = {"Content-Type": content_type} if content_type else {}
        return answer(api.post(endpoint, content=content, headers=headers))

    return probe


def after(state: str, endpoint: str, insiders: Insiders | None = None, **extra: Any) -> Probe:
    """`endpoint` on an activity of `insiders` in `state`: registered, started, synced or ended; the
    valid body with the fields `extra` gives added or replaced."""

    def probe(bench: Bench) -> Answer:
        api = bench.api
        chosen = (insiders or ELIGIBLE)(api.profile)
        activity_id = _arrange(api, state, chosen)
        return answer(api.post(endpoint, {**api.body_for(endpoint, activity_id, ids(chosen)), **extra}))

    return probe


def target_device_without(endpoint: str, element_field: str) -> Probe:
    """`endpoint` on a synced activity, its target_devices' one element without `element_field`."""

    def probe(bench: Bench) -> Answer:
        api = bench.api
        field = bundled_contract().behaviour.target_devices.field
        insider = ELIGIBLE(api.profile)[0]
        body = api.push_body(api.synced(insider), [(insider.insider_id, insider.devices[0].udid)])
        body[field] = [{k: v for k, v in e.items() if k != element_field} for e in body[field]]
        return answer(api.post(endpoint, body))

    return probe


def together(state: str, endpoint: str, copies: int = 2) -> Probe:
    """`copies` of one `endpoint` request on an activity in `state`, sent at once from as many threads.

    The answer: the highest status, and every answer in status order (which copy wins is not known).
    """

    def probe(bench: Bench) -> Answer:
        api = bench.api
        chosen = ELIGIBLE(api.profile)
        body = api.body_for(endpoint, _arrange(api, state, chosen), ids(chosen))
        with ThreadPoolExecutor(max_workers=copies) as pool:
            sent = [pool.submit(api.post, endpoint, body) for _ in range(copies)]
            answers = sorted((answer(s.result()) for s in sent), key=repr)
        return max(status for status, _ in answers), answers

    return probe


def _arrange(api: Api, state: str, insiders: list[Insider]) -> str:
    arrange = {"registered": api.register, "started": api.started, "synced": api.synced}
    activity_id = arrange.get(state, api.synced)(*insiders)
    if state == "ended":
        ended = api.post("end", api.push_body(activity_id))
        assert ended.status_code == 200, ended.text
    return activity_id


def over_the_limit(requests: int, *, lowered: bool = True) -> Probe:
    """`requests` requests with an empty body, then one more; the limit lowered to `requests` first."""

    def probe(bench: Bench) -> Answer:
        api = bench.api
        if lowered:
            bench.control.limit_rate(requests)
        for _ in range(requests):
            api.post("register", content=b"")
        return answer(api.post("register", content=b""))

    return probe


def beside_the_limit(requests: int, endpoint: str, beside: str) -> Probe:
    """`requests` requests with an empty body to `endpoint` (the limit lowered to that), then one to
    `beside`: a bucket per path leaves it room."""

    def probe(bench: Bench) -> Answer:
        api = bench.api
        bench.control.limit_rate(requests)
        for _ in range(requests):
            api.post(endpoint, content=b"")
        return answer(api.post(beside, content=b""))

    return probe
