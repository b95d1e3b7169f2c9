"""Eligibility counters of /register, /add-users, /remove-users; NO_ELIGIBLE_DEVICE; PROFILE_NOT_FOUND."""

from __future__ import annotations

from conformance.sandbox import Sandbox
from tests.self.reference import bundled_contract, sandbox_profile
from tests.self.sandbox.sandbox_support import Api, code_of, device_count, insider

E = bundled_contract().behaviour.eligibility
SYNCING = sandbox_profile().syncing_insiders()[0]
OTHER = sandbox_profile().syncing_insiders()[1]
GDPR = insider("gdpr_denied")
NO_PROFILE = insider("no_profile")
INELIGIBLE = [
    i
    for name, c in E.classes.items()
    if c.skipped and name != "no_profile"
    for i in sandbox_profile().insiders_of(name)
]


def _zero_skipped() -> dict[str, int]:
    return dict.fromkeys(E.skipped_keys, 0)


def test_register_counts_every_class(api: Api) -> None:
    """Eligible devices are added; other classes add their devices to their skipped key; unknown ids 1."""
    ids = [
        SYNCING.insider_id,
        *(i.insider_id for i in INELIGIBLE),
        NO_PROFILE.insider_id,
        "never-heard-of",
        GDPR.insider_id,
    ]
    body = api.post("register", api.register_body(ids)).json()
    skipped = _zero_skipped()
    for i in INELIGIBLE:
        skipped[E.classes[i.eligibility].skipped or ""] += len(i.devices)
    skipped[E.classes["no_profile"].skipped or ""] += 2
    assert body["skipped"] == skipped
    assert (body["matched"], body["added"], body["refreshed"], body["removed"]) == (
        1,
        len(SYNCING.devices),
        0,
        0,
    )
    assert body["gdpr_denied_details"] == [
        {"insider_id": GDPR.insider_id, "devices_count": len(GDPR.devices)}
    ]


def test_no_gdpr_details_when_none_denied(api: Api) -> None:
    """gdpr_denied_details is omitted when no insider was GDPR-filtered."""
    assert "gdpr_denied_details" not in api.post("register", api.register_body([SYNCING.insider_id])).json()


def test_register_with_no_eligible_device_is_422_and_creates_nothing(api: Api, sandbox: Sandbox) -> None:
    """Every device filtered: 422 NO_ELIGIBLE_DEVICE with skipped and gdpr details, and no activity."""
    ids = [i.insider_id for i in INELIGIBLE] + [GDPR.insider_id]
    response = api.post("register", api.register_body(ids))
    assert (response.status_code, code_of(response)) == (
        bundled_contract().status_of(E.no_eligible_code),
        E.no_eligible_code,
    )
    body = response.json()
    assert set(body["skipped"]) == set(E.skipped_keys)
    assert sum(body["skipped"].values()) == device_count(*INELIGIBLE)
    assert body["gdpr_denied_details"][0]["insider_id"] == GDPR.insider_id
    assert sandbox.control.activities() == ()


def test_single_insider_without_profile_is_404(api: Api) -> None:
    """A /register of exactly one insider without a profile (or unknown) is PROFILE_NOT_FOUND."""
    for insider_id in (NO_PROFILE.insider_id, "never-heard-of"):
        response = api.post("register", api.register_body([insider_id]))
        assert code_of(response) == E.single_without_profile_code


def test_several_unknown_insiders_are_skipped_not_404(api: Api) -> None:
    """Two unknown ids are counted in skipped.user_not_found and end in 422, not 404."""
    response = api.post("register", api.register_body(["ghost-a", "ghost-b"]))
    assert code_of(response) == E.no_eligible_code
    assert response.json()["skipped"][E.classes["no_profile"].skipped or ""] == 2


def test_add_users_adds_and_refreshes(api: Api, sandbox: Sandbox) -> None:
    """/add-users counts only this call's ids: new devices added, devices already in the segment refreshed."""
    activity_id = api.register(SYNCING)
    body = api.post(
        "add-users", api.segment_body(activity_id, [SYNCING.insider_id, OTHER.insider_id, GDPR.insider_id])
    ).json()
    assert body["activity_id"] == activity_id
    assert (body["matched"], body["added"], body["refreshed"]) == (
        2,
        len(OTHER.devices),
        len(SYNCING.devices),
    )
    assert body["skipped"] == _zero_skipped()
    assert body.get("gdpr_denied_details", []) == (
        [{"insider_id": GDPR.insider_id, "devices_count": len(GDPR.devices)}]
        if E.gdpr_details_on_add_users.sandbox_choice.get("present")
        else []
    )
    (view,) = sandbox.control.activities()
    assert len(view.devices) == device_count(SYNCING, OTHER)


def test_add_users_with_no_eligible_device_changes_nothing(api: Api, sandbox: Sandbox) -> None:
    """/add-users whose ids are all filtered is 422 and leaves the segment as it was."""
    activity_id = api.register(SYNCING)
    before = sandbox.control.activities()
    response = api.post("add-users", api.segment_body(activity_id, [i.insider_id for i in INELIGIBLE]))
    assert code_of(response) == E.no_eligible_code
    assert sandbox.control.activities() == before


def test_remove_users_counts_removed_devices(api: Api, sandbox: Sandbox) -> None:
    """/remove-users: `removed` counts devices, every other counter is 0, absent ids add nothing."""
    activity_id = api.register(SYNCING, OTHER)
    response = api.post("remove-users", api.segment_body(activity_id, [SYNCING.insider_id, "never-there"]))
    body = response.json()
    assert body == {
        "status": "success",
        "activity_id": activity_id,
        "matched": 0,
        "added": 0,
        "refreshed": 0,
        "removed": len(SYNCING.devices),
        "skipped": _zero_skipped(),
    }
    assert (
        api.post("remove-users", api.segment_body(activity_id, [SYNCING.insider_id])).json()["removed"] == 0
    )
    (view,) = sandbox.control.activities()
    assert {i for i, _ in view.devices} == {OTHER.insider_id}


def test_removed_users_get_no_push(api: Api) -> None:
    """Insiders removed before /start are not in the session count."""
    activity_id = api.register(SYNCING, OTHER)
    api.post("remove-users", api.segment_body(activity_id, [OTHER.insider_id]))
    assert api.post("start", api.push_body(activity_id)).json()["sessions_triggered"] == len(SYNCING.devices)
