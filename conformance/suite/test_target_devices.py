"""target_devices elements without one of their fields, where only TARGET_DEVICES_INVALID is documented.

test_boundaries blanks a field of an element; here the field is absent. The activity is in the state
whose answer to the endpoint is a success (synced, on the endpoints behind the sync gate), so that no
other documented answer (412 not synced) can stand in for the subject's.
"""

from __future__ import annotations

import pytest

from conformance.core.exchange import Request
from conformance.generate.bodies import push_body
from conformance.suite.valid import activity_for
from conformance.targets.arrange import Arranger
from conformance.targets.verifier import Verifier


@pytest.mark.synced(count=2)
def test_target_device_without_a_field(verifier: Verifier, arrange: Arranger) -> None:
    """An element without its insider_id or udid is TARGET_DEVICES_INVALID, on every endpoint."""
    rule = verifier.contract.behaviour.target_devices
    devices = [
        {"insider_id": i.insider_id, "udid": d.udid}
        for i in verifier.profile.syncing_insiders()
        for d in i.devices
    ]
    if not devices:
        verifier.skip("the profile lists no eligible insider whose devices sync", rows=(rule.row,))
    for endpoint in rule.endpoints:
        activity = activity_for(arrange, endpoint)
        assert activity is not None  # target_devices is a field of endpoints that name an activity
        for name in rule.element_fields:
            without = [{k: v for k, v in devices[0].items() if k != name}, *devices[1:]]
            body = push_body(activity, **{rule.field: without})
            verifier.verify(Request(endpoint, body), case=f"target_devices[0] without {name}")
