"""The sandbox's switches: for each reading of behaviour.yaml (a point the docs leave open), the options
the sandbox implements, and which option one sandbox takes.

A reading's id and option names are the switch's identity, so the modules that implement a switch
name them through the `Switch` constants below; `IMPLEMENTED` lists them all, so a self-test can
compare it with the contract's readings. Whatever an option does is still read from the contract
(its codes, statuses and limits); only the choice between options lives here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from conformance.contract.model import Behaviour


@dataclass(frozen=True)
class Switch:
    """One reading the sandbox implements, and its options, the contract's default first."""

    id: str
    options: tuple[str, ...]


UNPARSEABLE_BODY_CODE = Switch("unparseable-body-code", ("request-invalid", "bad-request"))
MATCHED_UNIT = Switch("matched-unit", ("insiders", "devices"))
GDPR_DENIED_IN_MATCHED = Switch("gdpr-denied-in-matched", ("listed-only", "counted"))
REFRESHED_SCOPE = Switch("refreshed-scope", ("this-activity", "same-type"))
REPEATED_ID_IN_CALL = Switch("repeated-id-in-call", ("refreshed", "ignored"))
GDPR_DETAILS_ON_ADD_USERS = Switch("gdpr-details-on-add-users", ("present", "absent"))
BODIES_OF_401_AND_503 = Switch("bodies-of-401-and-503", ("empty", "json"))
END_ON_REGISTERED = Switch("end-on-registered", ("push-token-not-synced", "not-found", "ok"))
START_WITHOUT_MATCHING_TARGET = Switch("start-without-matching-target", ("ok", "no-eligible-device"))
MISMATCHED_ACTIVITY_TYPE = Switch("mismatched-activity-type", ("accepted", "rejected"))
UNKNOWN_REQUEST_FIELDS = Switch("unknown-request-fields", ("ignored", "rejected"))
TITLE_MESSAGE_ON_UPDATE_END = Switch("title-message-on-update-end", ("optional", "required"))
WHICH_ERROR_WINS = Switch("which-error-wins", ("sandbox-order", "reversed"))
SEVERAL_CODES_ACCEPTED = Switch("several-codes-accepted", ("first", "last"))
RATE_LIMIT_COUNTS = Switch("rate-limit-counts", ("every-request", "successes-only"))
RATE_LIMIT_WINDOW = Switch("rate-limit-window", ("fixed", "sliding"))
RETRY_AFTER_HEADER = Switch("retry-after-header", ("absent", "present"))
CLOCK_RESOLUTION = Switch("clock-resolution", ("real-time", "whole-seconds"))
TOKEN_SYNC = Switch("token-sync", ("at-bound", "staggered"))
WRONG_TYPE_CODE = Switch("wrong-type-code", ("field-code", "bad-request"))

SWITCHES: tuple[Switch, ...] = (
    UNPARSEABLE_BODY_CODE,
    MATCHED_UNIT,
    GDPR_DENIED_IN_MATCHED,
    REFRESHED_SCOPE,
    REPEATED_ID_IN_CALL,
    GDPR_DETAILS_ON_ADD_USERS,
    BODIES_OF_401_AND_503,
    END_ON_REGISTERED,
    START_WITHOUT_MATCHING_TARGET,
    MISMATCHED_ACTIVITY_TYPE,
    UNKNOWN_REQUEST_FIELDS,
    TITLE_MESSAGE_ON_UPDATE_END,
    WHICH_ERROR_WINS,
    SEVERAL_CODES_ACCEPTED,
    RATE_LIMIT_COUNTS,
    RATE_LIMIT_WINDOW,
    RETRY_AFTER_HEADER,
    CLOCK_RESOLUTION,
    TOKEN_SYNC,
    WRONG_TYPE_CODE,
)
# Reading id -> the option names the sandbox implements.
IMPLEMENTED: Mapping[str, tuple[str, ...]] = {switch.id: switch.options for switch in SWITCHES}


class Readings(Mapping[str, str]):
    """The option every reading of the contract takes in one sandbox (reading id -> option name)."""

    def __init__(self, options: Mapping[str, str]) -> None:
        self._options = dict(options)

    def __getitem__(self, reading_id: str) -> str:
        return self._options[reading_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._options)

    def __len__(self) -> int:
        return len(self._options)

    def takes(self, switch: Switch, option: str) -> bool:
        """Whether the reading of `switch` takes `option`; a name the switch lacks is a bug here."""
        if option not in switch.options:
            raise ValueError(f"reading {switch.id} has no option {option!r}: {list(switch.options)}")
        return self._options[switch.id] == option  # `resolve_readings` gives every reading an option


def resolve_readings(behaviour: Behaviour, chosen: Mapping[str, str] | None = None) -> Readings:
    """Every reading of the contract with its option: the chosen one, else the contract's default.

    ValueError, naming the valid choices, for an unknown reading, an option the reading lacks, or one
    the sandbox does not implement.
    """
    known = behaviour.readings
    for reading_id, option in (chosen or {}).items():
        reading = known.get(reading_id)
        if reading is None:
            raise ValueError(f"unknown reading {reading_id!r}; the readings are: {', '.join(known)}")
        if option not in reading.options:
            options = ", ".join(reading.options)
            raise ValueError(f"reading {reading_id} has no option {option!r}; its options are: {options}")
        if option not in IMPLEMENTED.get(reading_id, ()):
            raise ValueError(f"the sandbox does not implement option {option!r} of reading {reading_id}")
    return Readings({rid: (chosen or {}).get(rid, reading.default) for rid, reading in known.items()})


def all_switched(behaviour: Behaviour) -> dict[str, str]:
    """Every reading that has one switched to its second option: all the other readings at once."""
    return {rid: tuple(r.options)[1] for rid, r in behaviour.readings.items() if len(r.options) > 1}


def switched(readings: Mapping[str, str], behaviour: Behaviour) -> dict[str, str]:
    """The readings whose option is not the contract's default."""
    return {
        rid: option
        for rid, option in readings.items()
        if rid in behaviour.readings and option != behaviour.readings[rid].default
    }
