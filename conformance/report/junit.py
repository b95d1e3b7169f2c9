"""One run as JUnit XML, one `<testcase>` per case of the results file, for CI systems that read it.

A failed case carries `<failure message=...>` (the first line of the violation) with what was
expected and what came back; an erroring one `<error>`; a skipped one `<skipped message=reason>`. A
recorded case passes (nothing was judged) and says what it saw in `<system-out>`. Each testcase has
the rows it exercised (`contract_rows`, as in the suite's own JUnit), its endpoint, level and verdict.
(`pytest --junitxml` writes one testcase per *test*; this file has one per *case*, the finer grain
the results file keeps.)
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime

from conformance.judging.results import CaseResult, Verdict
from conformance.report.run_report import RunReport, curl, received

# Characters XML 1.0 cannot carry at all, even escaped.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render_junit(report: RunReport) -> str:
    counts = report.counts
    suite = ET.Element(
        "testsuite",
        {
            "name": "conformance",
            "tests": str(len(report.results.cases)),
            "failures": str(counts[Verdict.FAILED]),
            "errors": str(counts[Verdict.ERROR]),
            "skipped": str(counts[Verdict.SKIPPED]),
            "timestamp": report.results.started_at,
            **_duration(report),
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in _run_properties(report):
        ET.SubElement(properties, "property", {"name": name, "value": _text(value)})
    seen: Counter[tuple[str, str]] = Counter()
    for case in report.results.cases:
        seen[(case.test, case.case)] += 1
        _testcase(suite, case, seen[(case.test, case.case)])
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _run_properties(report: RunReport) -> list[tuple[str, str]]:
    r = report.results
    return [
        ("target", r.target),
        ("base_url", r.base_url),
        ("contract_digest", r.contract_digest),
        ("suite_version", r.suite_version),
        ("finished_at", r.finished_at),
        ("interrupted", "true" if report.interrupted else "false"),
    ]


def _testcase(suite: ET.Element, case: CaseResult, occurrence: int) -> None:
    module, _, test = case.test.partition("::")
    name = f"{test or module} [{case.case}]" + (f" #{occurrence}" if occurrence > 1 else "")
    element = ET.SubElement(
        suite,
        "testcase",
        {
            "classname": module.removesuffix(".py").replace("/", "."),
            "name": _text(name),
            "time": f"{(case.latency_ms or 0) / 1000:.6f}",
        },
    )
    properties = ET.SubElement(element, "properties")
    for name, value in (
        ("contract_rows", ",".join(case.rows)),
        ("endpoint", case.endpoint),
        ("level", case.level),
        ("verdict", case.verdict),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": _text(value)})
    if case.verdict == Verdict.FAILED:
        failure = ET.SubElement(element, "failure", {"message": _text(case.reason or case.verdict)})
        failure.text = _text(_details(case))
    elif case.verdict == Verdict.ERROR:
        error = ET.SubElement(element, "error", {"message": _text(case.reason or case.verdict)})
        error.text = _text(case.case)
    elif case.verdict == Verdict.SKIPPED:
        ET.SubElement(element, "skipped", {"message": _text(case.reason or case.verdict)})
    elif case.verdict == Verdict.RECORDED:
        out = ET.SubElement(element, "system-out")
        out.text = _text(f"recorded, not judged: {received(case.observed)}" + _matched(case))


def _details(case: CaseResult) -> str:
    lines = [
        f"rows     {', '.join(case.rows)}  endpoint: /{case.endpoint}",
        *((f"request  {curl(case)}",) if curl(case) else ()),
        f"expected {' | '.join(case.expected)}",
        f"received {received(case.observed)}",
    ]
    return "\n".join(lines)


def _matched(case: CaseResult) -> str:
    return f" (rule met: {case.matched})" if case.matched else ""


def _duration(report: RunReport) -> dict[str, str]:
    """The run's wall time, where both of its times are readable (an interrupted run has no end)."""
    try:
        started = datetime.fromisoformat(report.results.started_at)
        finished = datetime.fromisoformat(report.results.finished_at)
    except ValueError:
        return {}
    return {"time": f"{(finished - started).total_seconds():.3f}"}


def _text(value: str) -> str:
    return NOT_XML.sub("\ufffd", value)
