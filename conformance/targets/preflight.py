"""Preflight: what a run will verify and skip, checked before any test runs.

A malformed profile, an undeclared base URL, a template's placeholders, an unreachable target, and a
key the run will use that is missing or answers as no key of its account state would
(`targets/keyproof.py`) end the run with one `ConformanceError` (what, where, the fix) instead of one
test error or false failure per test. What the target does not offer (the key of an optional account
state, unset or empty; a control API; the rate probe) is not an error: the tests needing it skip
with the reason, and the preflight says which ones in advance.

The target's clock offset is read from the `Date` header of one harmless request (an empty body to
the endpoint that creates activities: it creates nothing). A header stamped D (whole seconds) on a
response to a request sent at local time s and received at r means the target's clock read between
D and D + 1 somewhere in [s, r]: its offset from ours lies in [D - r, D + 1 - s].
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from conformance.contract import Contract
from conformance.contract.rules import contract_items, units_line
from conformance.core.errors import Place, ProfileError, TargetError
from conformance.core.exchange import Response
from conformance.core.printable import printable, redact
from conformance.profile.target_profile import Limits, TargetProfile, load_profile
from conformance.targets.bounded import Oversized, bounded_client, post
from conformance.targets.control_client import HttpControl
from conformance.targets.keyproof import KeyAnswer, judge_key, keys_to_prove
from conformance.targets.kinds import kind_named
from conformance.targets.servertime import offset_bounds

# A value of contracts/targets/insider.example.toml that a person must replace before a run.
PLACEHOLDER = "REPLACE-ME"
TIMEOUT_SECONDS = 10.0
# The second harmless request leaves this long after the first one's answer: a clock that does not
# move in that time is not running (whole-second Date headers need more than a second to show it).
CLOCK_CHECK_SECONDS = 1.1
NO_KEY_STATE = "missing_key"  # the account state whose requests carry no key (behaviour.yaml accounts)


@dataclass(frozen=True)
class Skip:
    """Something the run will not verify, and why (the same reason the skipping test gives)."""

    what: str
    why: str


@dataclass(frozen=True)
class ClockOffset:
    """The target's clock minus ours (midpoint and half-width of the bracket), and the round trip."""

    offset_seconds: float
    uncertainty_seconds: float
    round_trip_seconds: float


@dataclass(frozen=True)
class Reach:
    """The answer to the harmless request: where it went, what came back, and the clock it showed."""

    method: str
    url: str
    status: int
    code: str | None
    clock: ClockOffset


@dataclass(frozen=True)
class KeyVariable:
    state: str
    env: str | None  # None: a literal key in the profile (loopback sandboxes only)
    present: bool
    proof: KeyAnswer | None = None  # its answer to the harmless request (remote targets only)

    def text(self) -> str:
        """Where the key comes from, whether it is there and what it got; never the key itself."""
        where = "a literal key in the profile" if self.env is None else f"${self.env}"
        if self.env is not None:
            where += " set" if self.present else " unset or empty"
        return f"{self.state}: {where}" + (f" {self.proof.text()}" if self.proof else "")


@dataclass(frozen=True)
class Preflight:
    target_kind: str
    profile: TargetProfile
    base_url: str
    keys: tuple[KeyVariable, ...]
    reach: Reach | None  # None where the run needs no network (sandbox, cassettes)
    control: str  # the target's control API (faults, clock), as a sentence
    verifies: tuple[str, ...]
    skips: tuple[Skip, ...]

    def render(self) -> str:
        """The terminal text of `conformance check`: plain lines, no control characters."""
        p = self.profile
        lines = [
            f"ready for a {self.target_kind} run",
            f"  profile   {p.path} (name {p.name!r}, activity_type {p.activity_type})",
        ]
        if self.reach is None:
            lines.append(f"  target    the {self.target_kind} target needs no network: nothing was sent")
        else:
            r, c = self.reach, self.reach.clock
            # The code is the target's text: no key it echoes, no escape or workflow command it sends.
            code = printable(redact(r.code, p.secrets())) if r.code else ""
            answer = f"{r.status} {code}" if code else f"{r.status}"
            lines += [
                f"  target    {self.base_url}",
                f"  reached   {r.method} {r.url} (empty body) -> {answer}",
                f"  clock     offset {c.offset_seconds:+.1f} s \u00b1 {c.uncertainty_seconds:.1f} s "
                "(the target's clock minus ours, from its whole-second Date header)",
                f"  latency   round trip {c.round_trip_seconds * 1000:.0f} ms "
                "(one request, connecting included)",
            ]
        lines += [f"  {'keys' if n == 0 else '':<9} {k.text()}" for n, k in enumerate(self.keys)]
        lines.append(f"  control   {self.control}")
        lines.append("verifies")
        lines += [f"  - {v}" for v in self.verifies]
        lines.append(f"skips ({len(self.skips)}, not verified):" if self.skips else "skips: none")
        lines += [f"  - {s.what}\n      {s.why}" for s in self.skips]
        return "\n".join(lines)


def preflight(
    contract: Contract,
    profile: Path | TargetProfile,
    *,
    target_kind: str = "live",
    base_url: str | None = None,
    allow_rate_limit_probe: bool = False,
) -> Preflight:
    """Check everything a run needs before its first test; raise one `ConformanceError` if it cannot run."""
    remote = kind_named(target_kind).traits.remote
    loaded = profile if isinstance(profile, TargetProfile) else load_profile(profile, contract)
    refuse_placeholders(loaded)
    url = base_url or loaded.base_url
    # A replay sends no key: its answers were recorded with the keys of the recording's run.
    used = {} if kind_named(target_kind).traits.replays else keys_to_prove(contract, loaded)
    reach: Reach | None = None
    proofs: dict[str, KeyAnswer] = {}
    if remote:
        check_base_url(loaded, url)
        virtual = check_control(loaded, url)
        reach, proofs = reach_target(contract, loaded, url, used, virtual_clock=virtual)
    keys = tuple(
        KeyVariable(state, account.env, account.key() is not None, proofs.get(state))
        for state, account in loaded.accounts.items()
    )
    control = not remote or loaded.control_token() is not None
    token = f"${loaded.control_token_env}" if loaded.control_token_env else "no control.token_env"
    if not remote:
        offered = f"the {target_kind} target's own: faults are injected"
    elif control:
        offered = f"{token} set: faults ({', '.join(sorted(loaded.faults))}) are injected"
    else:
        offered = f"none ({token} {'unset' if loaded.control_token_env else 'in the profile'})"
    return Preflight(
        target_kind=target_kind,
        profile=loaded,
        base_url=url,
        keys=keys,
        reach=reach,
        control=offered,
        verifies=_verifies(contract),
        skips=tuple(_skips(contract, loaded, control=control, live=remote, probe=allow_rate_limit_probe)),
    )


def check_control(profile: TargetProfile, base_url: str) -> bool:
    """A control token that is set must open the target's control API (faults, clock); True when
    that API says the target's clock is virtual (the run moves it)."""
    token = profile.control_token()
    if token is None:
        return False
    control = HttpControl(base_url, token)  # raises a TargetError when the API refuses it
    control.close()
    return control.clock_is_virtual


def check_base_url(profile: TargetProfile, base_url: str) -> None:
    """The suite creates and ends activities: it runs only against a base URL the profile declares."""
    declared = {u.rstrip("/") for u in (profile.base_url, *profile.destructive_allowed)}
    if base_url.rstrip("/") not in declared:
        raise ProfileError(
            profile.path,
            Place(path="destructive_allowed"),
            f"--base-url {base_url} is neither the profile's base_url ({profile.base_url}) nor in its "
            "destructive_allowed; the suite creates and ends activities, so it runs only against "
            "declared targets",
            f'add "{base_url}" to destructive_allowed in {profile.path.name}, or drop --base-url',
        )


def placeholders(profile: TargetProfile) -> tuple[str, ...]:
    """The key paths of the profile that still hold a template's placeholder."""
    found = [key for key, value in _values(profile) if PLACEHOLDER in value]
    return tuple(found)


def _values(profile: TargetProfile) -> Iterator[tuple[str, str]]:
    yield "name", profile.name
    yield "activity_type", profile.activity_type
    counts: dict[str, int] = {}
    for insider in profile.insiders:
        n = counts.get(insider.eligibility, 0)
        counts[insider.eligibility] = n + 1
        where = f"insiders.{insider.eligibility}[{n}]"
        yield f"{where}.insider_id", insider.insider_id
        for m, device in enumerate(insider.devices):
            yield f"{where}.devices[{m}].udid", device.udid


def refuse_placeholders(profile: TargetProfile) -> None:
    """A template is not a target: refuse it until every placeholder is filled in."""
    left = placeholders(profile)
    if not left:
        return
    unset = [a.env for a in profile.accounts.values() if a.env and a.key() is None]
    listed = ", ".join(left[:4]) + (f" and {len(left) - 4} more" if len(left) > 4 else "")
    also = f"; key variables still unset: {', '.join(unset)}" if unset else ""
    raise ProfileError(
        profile.path,
        Place(path=left[0]),
        f"this is a template: {len(left)} value(s) still read {PLACEHOLDER} ({listed}){also}",
        f"copy the file, replace every {PLACEHOLDER} with the ids of your test account (its comments "
        "say how), export the key variables, then run `conformance check --target-profile` on the copy",
    )


def reach_target(
    contract: Contract,
    profile: TargetProfile,
    base_url: str,
    keys: Mapping[str, str],
    *,
    virtual_clock: bool = False,
) -> tuple[Reach, dict[str, KeyAnswer]]:
    """Send each key the harmless request (an empty body creates nothing) and judge its answer
    (`keyproof`); read the target's clock from the `Date` headers of the first key's answer and of a
    second one a second later: the two brackets narrow the offset, and a clock that did not move
    between them is no clock a run can aim at, unless the run moves it itself (a `virtual_clock` its
    control API offers: then one request is enough)."""
    path = contract.paths[contract.roles.creates_activity]
    url = base_url.rstrip("/") + path
    first_state = next(iter(keys))
    where = (base_url, f"POST {path}")
    answers: dict[str, KeyAnswer] = {}
    try:
        with bounded_client(timeout=TIMEOUT_SECONDS) as http:
            first = _stamped(_post(http, url, _headers(contract, keys[first_state]), profile.limits), where)
            answers[first_state] = judge_key(contract, profile, first_state, first.response)
            for state, key in list(keys.items())[1:]:
                answer = _post(http, url, _headers(contract, key), profile.limits)
                answers[state] = judge_key(contract, profile, state, answer.response)
            if virtual_clock:
                second = first
            else:
                time.sleep(max(0.0, first.received + CLOCK_CHECK_SECONDS - time.time()))
                second = _stamped(
                    _post(http, url, _headers(contract, keys[first_state]), profile.limits), where
                )
    except (httpx.HTTPError, Oversized) as exc:
        raise TargetError(
            *where,
            f"the target cannot be reached: {type(exc).__name__}: {printable(str(exc))}",
            f"check that the target is up and the URL is right (the profile's base_url, or --base-url); "
            f"the profile is {profile.path}",
        ) from None
    low, high = max(first.low, second.low), min(first.high, second.high)
    if low > high:
        raise TargetError(
            *where,
            f"the target's clock did not move with ours: its Date headers {printable(first.date)!r} and "
            f"{printable(second.date)!r} came {second.sent - first.sent:.1f} s apart",
            "a sandbox on a virtual clock needs its control token in the environment (the profile's "
            "control.token_env), so that the suite moves and reads that clock",
        )
    trip = second.received - second.sent
    offset = ClockOffset((low + high) / 2, (high - low) / 2, trip)
    return Reach("POST", url, second.status, second.code, offset), answers


def _headers(contract: Contract, key: str) -> dict[str, str]:
    return {"Content-Type": "application/json", contract.api_key_header: key}


@dataclass(frozen=True)
class _Answer:
    """One answer to the harmless request, and when it was sent and received (our clock)."""

    response: Response
    sent: float
    received: float


def _post(http: httpx.Client, url: str, headers: dict[str, str], limits: Limits) -> _Answer:
    """The harmless request, within the profile's deadline and body cap (a drip or a flood ends it)."""
    sent = time.time()
    answer = post(
        http,
        url,
        content=b"",
        headers=headers,
        seconds=limits.request_deadline_seconds,
        cap=limits.body_cap_bytes,
    )
    received = time.time()
    response = Response(answer.status, answer.headers, answer.content, received - sent, sent)
    return _Answer(response, sent, received)


@dataclass(frozen=True)
class _Stamped:
    """One answer to the harmless request, and the offset bracket its `Date` header gives."""

    status: int
    code: str | None
    date: str
    sent: float
    received: float
    low: float
    high: float
    response: Response


def _stamped(answer: _Answer, where: tuple[str, str]) -> _Stamped:
    response = answer.response
    date = response.headers.get("date")
    if date is None:
        raise TargetError(
            *where,
            f"the answer ({response.status}) has no Date header, and the suite reads the "
            "target's clock from it",
            "point the profile at the API itself, not at a proxy that strips the Date header",
        )
    bounds = offset_bounds(date, answer.sent, answer.received)
    if bounds is None:
        raise TargetError(
            *where,
            f"the answer's Date header ({printable(date)!r}) is no HTTP date, and the suite reads the "
            "clock from it",
            "point the profile at the API itself, not at a proxy that rewrites the Date header",
        )
    return _Stamped(response.status, response.code, date, answer.sent, answer.received, *bounds, response)


def _verifies(contract: Contract) -> tuple[str, ...]:
    return (
        f"{units_line(contract_items(contract))} of the contract (the units progress and the summary "
        "count), except those skipped below",
        "boundaries, the lifecycle, the retry rules and schemathesis over openapi.yaml, from the contract",
        "undocumented behaviour is recorded, never judged",
    )


def _skips(
    contract: Contract, profile: TargetProfile, *, control: bool, live: bool, probe: bool
) -> Iterator[Skip]:
    behaviour = contract.behaviour
    for state, expectation in behaviour.accounts.items():
        if state == NO_KEY_STATE:
            continue
        account = profile.accounts.get(state)
        rows = ", ".join(contract.table.row(c).describe() for c in expectation.outcome.codes)
        what = f"account state {state!r}" + (
            f" ({rows})" if rows else " (every request needing an accepted key)"
        )
        if account is None:
            yield Skip(what, f"the profile has no accounts.{state}: add it to verify these")
        elif account.key() is None:
            yield Skip(
                what, f"${account.env} is unset or empty: export the key of such an account to verify these"
            )
    for name in behaviour.eligibility.classes:
        if not profile.insiders_of(name):
            yield Skip(f"eligibility class {name!r}", f"the profile lists no insider of it (insiders.{name})")
    if not profile.syncing_insiders():
        yield Skip(
            "the lifecycle and sync-gate tests", "the profile lists no eligible insider whose devices sync"
        )
    if not profile.never_syncing_insiders():
        yield Skip(
            "'some synced' and 'none synced' on the sync gate",
            "the profile lists no eligible insider whose devices never sync (`syncs = false`)",
        )
    if live and not control:
        for fault in behaviour.fault_only:
            yield Skip(contract.table.row(fault.row).describe(), f"{fault.reason} (no control API)")
        lost = ", ".join(f"/{w.endpoint}" for w in contract.table.retry_warnings)
        yield Skip(
            f"retries after an injected transient error and after a lost answer to {lost}",
            "the target cannot inject faults (no control API in its profile)",
        )
    if live and not control and not probe:
        rate = contract.table.row(behaviour.rate_limit.row)
        yield Skip(
            f"{rate.describe()} and its backoff",
            "provoking 429 spends the target's real rate budget: pass --allow-rate-limit-probe",
        )


def check_main(
    contract: Contract,
    profile: Path,
    *,
    target_kind: str,
    base_url: str | None,
    allow_rate_limit_probe: bool,
) -> int:
    """`conformance check`: print the preflight; a failure is raised (the CLI prints it, exit 2)."""
    result = preflight(
        contract,
        profile,
        target_kind=target_kind,
        base_url=base_url,
        allow_rate_limit_probe=allow_rate_limit_probe,
    )
    print(result.render())  # noqa: T201 - the command's output
    return 0


__all__ = ["ClockOffset", "Preflight", "Reach", "Skip", "TargetError", "check_base_url", "preflight"]
