"""`python -m conformance.client`: run the reference flow against LA_BASE_URL, as `conformance
certify --command "python -m conformance.client"` does.

Reads LA_BASE_URL, LA_API_KEY, LA_INSIDER_IDS (comma-separated), LA_ACTIVITY_TYPE and LA_LOG_FILE.
Exit status 0 when the flow finished, 1 when a call did not succeed, 2 when the environment is
incomplete; either way one line on stderr, never a traceback and never the key.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from conformance.client.flow import run_flow
from conformance.client.settings import FlowSettings

REQUIRED = ("LA_BASE_URL", "LA_API_KEY", "LA_INSIDER_IDS", "LA_ACTIVITY_TYPE", "LA_LOG_FILE")


def settings_from_env(env: Mapping[str, str]) -> FlowSettings:
    """FlowSettings from the LA_* variables; ValueError naming the missing ones."""
    missing = [name for name in REQUIRED if not env.get(name, "").strip()]
    if missing:
        raise ValueError(f"set {', '.join(missing)} (conformance certify sets all of {', '.join(REQUIRED)})")
    if urlsplit(env["LA_BASE_URL"]).scheme not in ("http", "https"):
        raise ValueError(f"LA_BASE_URL must be an http:// or https:// URL, not {env['LA_BASE_URL']!r}")
    return FlowSettings(
        base_url=env["LA_BASE_URL"],
        api_key=env["LA_API_KEY"],
        insider_ids=tuple(i.strip() for i in env["LA_INSIDER_IDS"].split(",") if i.strip()),
        activity_type=env["LA_ACTIVITY_TYPE"],
        log_file=Path(env["LA_LOG_FILE"]),
    )


def main(env: Mapping[str, str] | None = None) -> int:
    try:
        settings = settings_from_env(os.environ if env is None else env)
    except ValueError as exc:
        _say(str(exc))
        return 2
    try:
        report = run_flow(settings)
    except OSError as exc:  # the log file cannot be written
        _say(f"cannot write the log {settings.log_file}: {exc.strerror}")
        return 2
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    _say(report.summary())
    return 0 if report.finished else 1


def _say(line: str) -> None:
    sys.stderr.write(f"conformance.client: {line}\n")


if __name__ == "__main__":
    sys.exit(main())
