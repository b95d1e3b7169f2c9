"""Target profiles (TOML): what a target offers the suite, read and validated once.

A profile names the target's base URL, where its API keys come from per account state, the insiders
and devices it holds per eligibility class, its token sync bound, and the faults it can inject.
What a profile does not offer, the suite skips with the reason.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from conformance.contract import Contract
from conformance.contract.loader import key_path
from conformance.core.errors import Place, ProfileError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]", "sandbox.invalid")


@dataclass(frozen=True)
class Device:
    udid: str
    syncs: bool


@dataclass(frozen=True)
class Insider:
    insider_id: str
    eligibility: str
    devices: tuple[Device, ...]


@dataclass(frozen=True)
class Account:
    """Where the key of one account state comes from; `secret` keys are never printed or stored."""

    state: str
    literal: str | None
    env: str | None

    @property
    def secret(self) -> bool:
        return self.env is not None

    def key(self) -> str | None:
        """The key, or None when its environment variable is unset (the tests needing it skip)."""
        return self.literal if self.literal is not None else os.environ.get(self.env or "") or None


@dataclass(frozen=True)
class Limits:
    """How long and how much the suite waits for and reads from the target: a target that drips,
    hangs or floods costs a run bounded time and memory, and one that stops answering ends it."""

    request_deadline_seconds: float = 20.0  # one request, connecting and the whole body included
    body_cap_bytes: int = 1 << 20  # a longer body is recorded as oversized, the rest unread
    stop_after_unanswered: int = 5  # consecutive requests with no answer that stop the run


@dataclass(frozen=True)
class TargetProfile:
    path: Path
    name: str
    base_url: str
    activity_type: str
    sync_delay_seconds: float
    rate_limit_per_minute: int | None
    faults: frozenset[str]
    destructive_allowed: tuple[str, ...]
    accounts: Mapping[str, Account]
    insiders: tuple[Insider, ...]
    control_token_env: str | None = None
    limits: Limits = Limits()

    def control_token(self) -> str | None:
        """The control API's token (a served sandbox's), from its environment variable, if set."""
        return os.environ.get(self.control_token_env) or None if self.control_token_env else None

    def insiders_of(self, eligibility: str) -> tuple[Insider, ...]:
        return tuple(i for i in self.insiders if i.eligibility == eligibility)

    def syncing_insiders(self) -> tuple[Insider, ...]:
        """Eligible insiders all of whose devices sync their tokens."""
        return tuple(i for i in self.insiders_of("eligible") if i.devices and all(d.syncs for d in i.devices))

    def never_syncing_insiders(self) -> tuple[Insider, ...]:
        return tuple(
            i for i in self.insiders_of("eligible") if i.devices and not any(d.syncs for d in i.devices)
        )

    def secrets(self) -> tuple[str, ...]:
        """Every key value this profile resolves to: what redaction must hide."""
        return tuple(k for a in self.accounts.values() if (k := a.key()))

    def personal_ids(self) -> tuple[str, ...]:
        """Every insider id and udid: personal data, pseudonymised in a live recording."""
        return tuple(x for i in self.insiders for x in (i.insider_id, *(d.udid for d in i.devices)))

    def aliases(self) -> dict[str, str]:
        """A name for each insider id and udid that says which profile entry it is and nothing more
        (`<gdpr_denied 1>`, `<gdpr_denied 1 device 2>`): what a live target's failure messages show."""
        names: dict[str, str] = {}
        for eligibility in dict.fromkeys(i.eligibility for i in self.insiders):
            for n, insider in enumerate(self.insiders_of(eligibility), start=1):
                names[insider.insider_id] = f"<{eligibility} {n}>"
                names |= {d.udid: f"<{eligibility} {n} device {m}>" for m, d in enumerate(insider.devices, 1)}
        return names

    def with_ids(self, rename: Callable[[str], str]) -> TargetProfile:
        """The same profile with every insider id and udid renamed (to the pseudonyms of a recording)."""
        insiders = tuple(
            replace(
                i,
                insider_id=rename(i.insider_id),
                devices=tuple(replace(d, udid=rename(d.udid)) for d in i.devices),
            )
            for i in self.insiders
        )
        return replace(self, insiders=insiders)


def replace_ids(text: str, replacements: Mapping[str, str]) -> str:
    """`text` with every id replaced, the longest first: an id may be a piece of another."""
    for real in sorted(replacements, key=len, reverse=True):
        text = text.replace(real, replacements[real])
    return text


def sandbox_profile_path(contract: Contract) -> Path:
    return contract.directory / "targets" / "sandbox.toml"


def load_profile(path: Path, contract: Contract) -> TargetProfile:
    """Read, validate and cross-check a profile against the contract's account states and classes."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(
            path, Place(), "the file does not exist", "pass an existing --target-profile"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))  # TOMLDecodeError.lineno exists from 3.14 on
        line = int(found.group(1)) if found else None
        raise ProfileError(path, Place(line=line), f"not valid TOML: {exc}", "fix the TOML syntax") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(path, Place(), f"cannot be read: {exc}", "make it a readable UTF-8 file") from None
    schema = json.loads(
        (contract.directory / "schema" / "target-profile.schema.json").read_text(encoding="utf-8")
    )
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(data))
    if error is not None:
        raise _schema_error(path, error)
    return _build(path, data, contract)


def _schema_error(path: Path, error: jsonschema.ValidationError) -> ProfileError:
    """One message for a schema violation; a missing key is named as the place, with what it holds."""
    parts: list[str | int] = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        missing = next((k for k in schema.get("required", ()) if k not in instance), None)
        if missing is not None:
            parts.append(missing)
            schema = schema.get("properties", {}).get(missing, {})
            what = schema.get("description")
            fix = (
                f"add `{missing}`"
                + (f": {what}" if what else "")
                + " (contracts/targets/sandbox.toml has one)"
            )
            return ProfileError(path, Place(path=key_path(parts)), f"`{missing}` is missing", fix)
    fix = schema.get("description") or "see contracts/schema/target-profile.schema.json"
    return ProfileError(path, Place(path=key_path(parts)), error.message, fix)


def _build(path: Path, data: Mapping[str, Any], contract: Contract) -> TargetProfile:
    classes = contract.behaviour.eligibility.classes
    for name in data["insiders"]:
        if name not in classes:
            raise ProfileError(
                path,
                Place(path=f"insiders.{name}"),
                f"unknown eligibility class {name!r}",
                f"use one of {sorted(classes)} (contracts/behaviour.yaml eligibility.classes)",
            )
    host = urlsplit(data["base_url"]).hostname or ""
    for state, account in data["accounts"].items():
        if "key" in account and host not in LOOPBACK_HOSTS:
            raise ProfileError(
                path,
                Place(path=f"accounts.{state}"),
                "a literal key is only allowed for a loopback sandbox",
                f'give `env = "LA_KEY_{state.upper()}"` and export the key in that environment variable',
            )
    insiders = tuple(
        Insider(
            insider_id=entry["insider_id"],
            eligibility=name,
            devices=tuple(Device(udid=d["udid"], syncs=d.get("syncs", True)) for d in entry["devices"]),
        )
        for name, entries in data["insiders"].items()
        for entry in entries
    )
    seen: set[str] = set()
    for insider in insiders:
        if insider.insider_id in seen:
            raise ProfileError(
                path,
                Place(path="insiders"),
                f"insider {insider.insider_id!r} is listed twice",
                "give each insider one eligibility class",
            )
        seen.add(insider.insider_id)
    return TargetProfile(
        path=path,
        name=data["name"],
        base_url=data["base_url"],
        activity_type=data["activity_type"],
        sync_delay_seconds=float(data["sync_delay_seconds"]),
        rate_limit_per_minute=data.get("rate_limit_per_minute"),
        faults=frozenset(data.get("faults", ())),
        destructive_allowed=tuple(data.get("destructive_allowed", ())),
        accounts={
            state: Account(state=state, literal=a.get("key"), env=a.get("env"))
            for state, a in data["accounts"].items()
        },
        insiders=insiders,
        control_token_env=data.get("control", {}).get("token_env"),
        limits=Limits(**data.get("limits", {})),
    )
