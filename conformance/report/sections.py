"""The drift's sections, each a titled table, written once for the Markdown and the HTML renderings.

A column marked `brief=False` is left out of the Markdown, which must fit a pull-request comment;
the HTML page shows every column.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from conformance.judging.coverage import NOT_EXERCISED
from conformance.report.drift import Drift
from conformance.report.edges import format_edge
from conformance.report.latency import Percentiles

T = TypeVar("T")


@dataclass(frozen=True)
class Column(Generic[T]):
    header: str
    value: Callable[[T], object]
    brief: bool = True  # also in the Markdown


@dataclass(frozen=True)
class Section(Generic[T]):
    title: str
    items: Sequence[T]
    columns: Sequence[Column[T]]

    def table(self, *, brief: bool) -> tuple[tuple[str, ...], list[tuple[object, ...]]]:
        """The header and the rows, with every column or only the brief ones."""
        shown = [c for c in self.columns if c.brief or not brief]
        return tuple(c.header for c in shown), [tuple(c.value(i) for c in shown) for i in self.items]


def drift_sections(drift: Drift) -> list[Section[Any]]:
    """Every table of the drift after the summary and the matrix, in reading order."""
    endpoint: Column[Any] = Column("endpoint", lambda c: f"/{c.endpoint}")
    return [
        Section(
            "Status or code changed",
            drift.documented_outcome_changes(),
            [
                endpoint,
                Column("input class", lambda c: c.case),
                Column("rows", lambda c: ", ".join(c.rows)),
                Column("level", lambda c: c.level, brief=False),
                Column("before", lambda c: c.before),
                Column("after", lambda c: c.after),
                Column("cases", lambda c: c.count),
            ],
        ),
        Section(
            "Body fields added or removed",
            drift.documented_field_changes(),
            [
                endpoint,
                Column("answer", lambda c: c.outcome),
                Column("field", lambda c: c.field),
                Column("change", lambda c: c.change),
                Column("cases", lambda c: c.count),
                Column("e.g.", lambda c: c.example),
            ],
        ),
        Section(
            "Undocumented behaviour changed (reported, not failed)",
            drift.undocumented_changes(),
            [
                endpoint,
                Column("input class", lambda c: c.input_class),
                Column("what changed", lambda c: c.what()),
                Column("cases", lambda c: c.count),
            ],
        ),
        Section(
            "Cases newly failing",
            drift.newly_failing,
            [*_verdict_columns(), Column("reason", lambda c: c.reason)],
        ),
        Section("Cases newly passing", drift.newly_passing, _verdict_columns()),
        Section(
            "Tests newly erroring (no verdict reached; each counts as a regression: "
            "the suite could not verify what it verified before)",
            drift.newly_erroring,
            [
                *_error_columns(),
                Column("was", lambda e: e.before or "new"),
                Column("reason", lambda e: e.reason),
            ],
        ),
        Section(
            "Tests no longer erroring",
            drift.no_longer_erroring,
            [
                *_error_columns(),
                Column("now", lambda e: e.after or "gone"),
                Column("error", lambda e: e.reason),
            ],
        ),
        Section(
            "Rows no longer verified",
            drift.no_longer_verified,
            [
                Column("row", lambda c: c.row),
                endpoint,
                Column("was", lambda c: c.baseline),
                Column("now", lambda c: c.current or NOT_EXERCISED),
                Column("reason", lambda c: "; ".join(c.skip_reasons)),
            ],
        ),
        Section(
            "Edges",
            drift.edges,
            [
                Column("row", lambda e: e.row),
                Column("documented", lambda e: format_edge(e.documented, e.unit)),
                Column("baseline", lambda e: format_edge(e.baseline, e.unit)),
                Column("current", lambda e: format_edge(e.current, e.unit)),
                Column(
                    "probes",
                    lambda e: " / ".join("-" if n is None else str(n) for n in e.requests),
                    brief=False,
                ),
                Column(
                    "",
                    lambda e: (
                        e.sentence() if e.moved else ("off the documented edge" if e.off_documented else "")
                    ),
                ),
            ],
        ),
        Section(
            "Latency (ms, baseline → current)",
            drift.latency,
            [
                endpoint,
                Column(
                    "requests", lambda e: _pair(e.baseline, e.current, lambda p: str(p.count)), brief=False
                ),
                *(_percentile(name) for name in ("p50", "p95", "p99")),
            ],
        ),
    ]


def _verdict_columns() -> list[Column[Any]]:
    return [
        Column("endpoint", lambda c: f"/{c.endpoint}"),
        Column("test", lambda c: c.test),
        Column("input class", lambda c: c.case),
        Column("level", lambda c: c.level),
        Column("was", lambda c: c.before or "new"),
    ]


def _error_columns() -> list[Column[Any]]:
    return [Column("test", lambda e: e.test), Column("where", lambda e: e.case)]


def _percentile(name: str) -> Column[Any]:
    return Column(name, lambda e: _pair(e.baseline, e.current, lambda p: f"{getattr(p, name):.1f}"))


def _pair(before: Percentiles | None, after: Percentiles | None, show: Callable[[Percentiles], str]) -> str:
    return f"{'-' if before is None else show(before)} → {'-' if after is None else show(after)}"
