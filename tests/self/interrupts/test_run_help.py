"""`conformance run --help` lists the suite's options, an example each, from the table the plugin reads."""

from __future__ import annotations

import shlex
import subprocess
import sys

import pytest
from hypothesis import settings

from conformance.cli import main
from conformance.plugin import interrupts
from conformance.plugin.options import HYPOTHESIS_PROFILES, OPTIONS, PLUGIN_OPTIONS, TARGETS
from tests.self.reference import bundled_contract


def run_help(capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main(["run", "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_run_help_lists_every_option_with_its_example(capsys: pytest.CaptureFixture[str]) -> None:
    shown = run_help(capsys)
    for option in (*OPTIONS, *PLUGIN_OPTIONS):
        assert f"  {option.usage()}\n" in shown
        assert f"e.g. {option.example}\n" in shown
    assert "{" + ",".join(TARGETS) + "}" in shown
    assert "--hypothesis-profile {" + ",".join(HYPOTHESIS_PROFILES) + "}" in shown


def test_pytest_help_shows_the_same_options_from_the_same_table() -> None:
    """The plugin registers the table's options: pytest's own --help lists each with its help text."""
    shown = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = " ".join(shown.split())
    for option in OPTIONS:
        assert option.flags[0] in shown
        assert " ".join(option.help.split()) in flat


def test_the_examples_are_commands_the_suite_takes() -> None:
    """Every Hypothesis profile named is registered (tests/conftest.py registers them as a suite run
    does), and the reading example names a real reading."""
    for name in HYPOTHESIS_PROFILES:
        settings.get_profile(name)  # raises if the plugin does not register it
    reading = next(o for o in OPTIONS if o.flags == ("--sandbox-reading",))
    reading_id, _, option = shlex.split(reading.example)[-1].partition("=")
    assert option in bundled_contract().behaviour.readings[reading_id].options


def test_run_passes_every_other_argument_to_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Suite options and pytest's own go through unchanged, in order, after the suite's module."""
    ran: list[list[str]] = []

    def run_child(command: list[str]) -> int:
        ran.append(command)
        return 0

    monkeypatch.setattr(interrupts, "run_child", run_child)
    given = ["--target", "live", "-k", "sync or lifecycle", "--junitxml", "j.xml", "-n", "2", "--unknown-x"]
    assert main(["run", *given]) == 0
    [command] = ran
    assert command[:4] == [sys.executable, "-m", "pytest", "--pyargs"]
    assert command[-len(given) :] == given
