"""The test names in results files: the same for one test in any two runs, so drift pairs their cases."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from conformance.plugin.collect import result_id


def _item(nodeid: str, name: str) -> Any:
    return SimpleNamespace(nodeid=nodeid, name=name)


@pytest.mark.parametrize(
    "nodeid",
    [
        "test_boundaries.py::test_ends_at_named_edge[5:00 (min, exactly)]",
        "conformance/suite/test_boundaries.py::test_ends_at_named_edge[5:00 (min, exactly)]",
        "main/conformance/suite/test_boundaries.py::test_ends_at_named_edge[5:00 (min, exactly)]",
    ],
    ids=["rootdir is the suite", "rootdir is the checkout", "rootdir above the checkout"],
)
def test_a_test_id_does_not_depend_on_pytests_rootdir(nodeid: str) -> None:
    """pytest's rootdir moves with the paths on the command line (`--cassette-dir`, a profile)."""
    name = nodeid.rpartition("::")[2]
    assert (
        result_id(_item(nodeid, name)) == "test_boundaries.py::test_ends_at_named_edge[5:00 (min, exactly)]"
    )


def test_a_test_id_keeps_its_class_and_its_own_parameters() -> None:
    """A class stays in the name; schemathesis' items share one node id, so the item's name wins."""
    assert result_id(_item("suite/test_x.py::TestProbe::test_y", "test_y")) == "test_x.py::TestProbe::test_y"
    schemathesis = _item(
        "suite/test_schemathesis.py::test_generated_request_gets_a_documented_answer",
        "test_generated_request_gets_a_documented_answer[POST /api/v1/live-activity/start]",
    )
    assert result_id(schemathesis) == f"test_schemathesis.py::{schemathesis.name}"
