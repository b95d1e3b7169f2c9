"""The drift as JSON, between two runs or over a directory of them: everything found, uncapped, for tools."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from conformance.report.drift import Drift
from conformance.report.history import Broken, History, Tracked
from conformance.report.matrix import Cell

FORMAT = 1


def render_json(drift: Drift) -> str:
    data: dict[str, Any] = {
        "format": FORMAT,
        "regressed": drift.regressed,
        "baseline": asdict(drift.baseline),
        "current": asdict(drift.current),
        "summary": drift.summary(),
        "regressions": [asdict(r) for r in drift.regressions],
        "outcome_changes": [asdict(c) for c in drift.outcome_changes],
        "field_changes": [asdict(c) for c in drift.field_changes],
        "newly_failing": [asdict(c) for c in drift.newly_failing],
        "newly_passing": [asdict(c) for c in drift.newly_passing],
        "newly_erroring": [asdict(e) for e in drift.newly_erroring],
        "no_longer_erroring": [asdict(e) for e in drift.no_longer_erroring],
        "no_longer_verified": [_cell(c) for c in drift.no_longer_verified],
        "edges": [
            {
                "row": e.row,
                "unit": e.unit,
                "documented": e.documented,
                "baseline": e.baseline,
                "current": e.current,
                "moved": e.moved,
                "off_documented": e.off_documented,
                "requests": {"baseline": e.requests[0], "current": e.requests[1]},
            }
            for e in drift.edges
        ],
        "latency": [asdict(e) for e in drift.latency],
        "matrix": [_cell(c) for c in drift.cells],
        "cases_only_in_baseline": drift.cases_only_in_baseline,
        "cases_only_in_current": drift.cases_only_in_current,
    }
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def _cell(cell: Cell) -> dict[str, Any]:
    return {
        "row": cell.row,
        "endpoint": cell.endpoint,
        "baseline": cell.baseline,
        "current": cell.current,
        "level": cell.level,
        "change": cell.change,
        "skip_reasons": list(cell.skip_reasons),
        "cases": [
            {"test": p.test, "case": p.case, "occurrence": p.occurrence, "verdicts": list(p.verdicts())}
            for p in cell.pairs
        ],
    }


def render_history_json(history: History) -> str:
    """The history over a directory of runs: every cell and its states per run, for tools."""
    data: dict[str, Any] = {
        "format": FORMAT,
        "regressed": history.regressed,
        "runs": [asdict(r) for r in history.runs],
        "summary": history.summary(),
        "regressions": [_broken(b) for b in history.regressions],
        "newly_erroring": [_broken(b) for b in history.newly_erroring],
        "cells": [_tracked(t) for t in history.cells],
        "outside_the_table": [_tracked(t) for t in history.outside],
    }
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def _broken(broken: Broken) -> dict[str, Any]:
    return {**asdict(broken), "message": broken.message()}


def _tracked(tracked: Tracked) -> dict[str, Any]:
    series = tracked.states
    return {
        "name": tracked.name,
        "endpoint": tracked.endpoint,
        "level": tracked.level,
        "status": series.status,
        "verdicts": list(tracked.verdicts),
        "states": [None if state is None else str(state) for state in series.states],
        "since_run": series.since() + 1,
        "first_seen_run": series.first_seen() + 1,
        "changes": [
            {
                "run": c.run + 1,
                "before": str(c.before),
                "after": str(c.after),
                "until_run": None if c.until is None else c.until + 1,
            }
            for c in series.changes()
        ],
    }
