"""A certification as text for a terminal, as JUnit XML, and as one self-contained HTML page."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

from conformance.certify.findings import Certification, RuleVerdict
from conformance.certify.verdict import NOT_A_CERTIFICATE, CertificateVerdict, Ruling

NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MARK = {
    Ruling.PASSED: "PASS",
    Ruling.FAILED: "FAIL",
    Ruling.NOT_EXERCISED: "n/a ",
    Ruling.ADVICE_NOT_FOLLOWED: "NOTE",
}
# The HTML page's verdict line takes the colour of a rule that passed, failed, or is only advice.
VERDICT_CLASS = {
    CertificateVerdict.CERTIFIED: "v-pass",
    CertificateVerdict.NOT_CERTIFIED: "v-fail",
    CertificateVerdict.INCOMPLETE: "v-advice",
}


def verdict_line(c: Certification) -> str:
    """`CERTIFIED for core`, `NOT CERTIFIED for core: <why>`, or the incomplete run's warning."""
    decision = c.decision
    profiles = ", ".join(c.profiles)
    if decision.verdict == CertificateVerdict.INCOMPLETE:
        return f"{NOT_A_CERTIFICATE} ({profiles}): {'; '.join(decision.reasons)}"
    if decision.verdict == CertificateVerdict.CERTIFIED:
        return f"CERTIFIED for {profiles}: every scenario of the plan ran and every documented rule passed"
    return f"NOT CERTIFIED for {profiles}: {'; '.join(decision.reasons)}"


def render_text(c: Certification) -> str:
    counts = c.counts()
    lines = [
        f"Certification of {c.subject} ({c.mode}, profiles {', '.join(c.profiles)}, "
        f"{len(c.runs)} scenarios, {c.wall_seconds:.1f} s)",
        *(f"  {MARK[v.verdict]} {v.rule.id:<32} [{v.rule.level}] {_short(v)}" for v in c.verdicts.values()),
        f"{counts[Ruling.PASSED]} passed, {counts[Ruling.FAILED]} failed, "
        f"{counts[Ruling.NOT_EXERCISED]} not exercised, {counts[Ruling.ADVICE_NOT_FOLLOWED]} advice not "
        "followed (inferred rules and advice do not decide the verdict)",
    ]
    for verdict in c.verdicts.values():
        if verdict.verdict != Ruling.FAILED:
            continue
        lines.append(f"\n{verdict.rule.id} failed: {verdict.rule.title}")
        for outcome in verdict.outcomes:
            if outcome.verdict == Ruling.FAILED:
                lines.append(f"  scenario {outcome.scenario}: {outcome.reason}")
                lines += [f"    {e}" for e in outcome.evidence[:12]]
    lines.append(f"\n{verdict_line(c)}")
    return "\n".join(lines) + "\n"


def _short(verdict: RuleVerdict) -> str:
    if verdict.verdict == Ruling.PASSED:
        return verdict.rule.title
    first = next((o for o in verdict.outcomes if o.verdict == verdict.verdict), None)
    return (
        f"{verdict.rule.title}: {first.scenario}: {first.reason}"
        if first
        else f"{verdict.rule.title}: {verdict.reason}"
    )


def render_junit(c: Certification, meta: dict[str, str]) -> str:
    counts = c.counts()
    suite = ET.Element(
        "testsuite",
        {
            "name": "certification",
            "tests": str(len(c.verdicts)),
            "failures": str(counts[Ruling.FAILED]),
            "errors": "0",
            "skipped": str(counts[Ruling.NOT_EXERCISED]),
            "time": f"{c.wall_seconds:.3f}",
        },
    )
    properties = ET.SubElement(suite, "properties")
    summary = {
        "verdict": c.decision.verdict,
        "verdict_line": verdict_line(c),
        "profiles": ",".join(c.profiles),
    }
    for name, value in {**summary, **meta}.items():
        ET.SubElement(properties, "property", {"name": name, "value": _xml(value)})
    for verdict in c.verdicts.values():
        case = ET.SubElement(
            suite, "testcase", {"classname": f"certification.{verdict.rule.level}", "name": verdict.rule.id}
        )
        if verdict.verdict == Ruling.FAILED:
            failure = ET.SubElement(case, "failure", {"message": _xml(verdict.reason[:500])})
            failure.text = _xml(_details(verdict))
        elif verdict.verdict == Ruling.NOT_EXERCISED:
            ET.SubElement(case, "skipped", {"message": _xml(verdict.reason[:500])})
        else:
            ET.SubElement(case, "system-out").text = _xml(_details(verdict))
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _details(verdict: RuleVerdict) -> str:
    lines = []
    for outcome in verdict.outcomes:
        lines.append(f"{outcome.scenario}: {outcome.verdict}: {outcome.reason}")
        lines += [f"  {e}" for e in outcome.evidence]
    return "\n".join(lines)


def _xml(text: str) -> str:
    return NOT_XML.sub("\N{REPLACEMENT CHARACTER}", text)


STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1b1b1b;max-width:1200px}
h1{font-size:1.5em;margin:0 0 .2em} .meta{color:#555;margin-bottom:1em}
.summary span{display:inline-block;padding:.25em .7em;margin-right:.5em;border-radius:4px;font-weight:600}
table{border-collapse:collapse;width:100%;margin:1em 0}
th,td{border:1px solid #ccc;padding:.35em .5em;vertical-align:top;text-align:left}
th{background:#f2f2f2} .v-pass{background:#dff3e0} .v-fail{background:#fbdcdc}
.v-not-exercised{background:#eee} .v-advice{background:#fff4d6}
.verdict-line{font-size:1.2em;font-weight:700;padding:.5em;border-radius:4px;margin:.5em 0}
td.verdict{font-weight:700;white-space:nowrap} code,pre{font:12px ui-monospace,monospace}
pre{background:#f7f7f7;padding:.5em;overflow-x:auto;margin:.3em 0} details{margin:.2em 0}
.sources a{margin-right:.4em}
"""


def render_html(c: Certification, meta: dict[str, str]) -> str:
    counts = c.counts()
    e = html.escape
    head = (
        f"<h1>Certification: {e(c.subject)}</h1>"
        f"<div class='verdict-line {_verdict_class(c)}' id=verdict>{e(verdict_line(c))}</div>"
        f"<div class=meta>{' · '.join(f'{e(k)} <code>{e(v)}</code>' for k, v in meta.items())}</div>"
        "<div class=summary>"
        f"<span class=v-pass id=count-pass>{counts[Ruling.PASSED]} passed</span>"
        f"<span class=v-fail id=count-fail>{counts[Ruling.FAILED]} failed</span>"
        "<span class=v-not-exercised id=count-not-exercised>"
        f"{counts[Ruling.NOT_EXERCISED]} not exercised</span></div>"
    )
    rows = "".join(_row(v) for v in c.verdicts.values())
    table = (
        "<table class=rules><thead><tr><th>verdict</th><th>rule</th><th>level</th><th>sources</th>"
        f"<th>what was seen</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    scenarios = "".join(
        f"<tr id='scenario-{e(r.scenario.name)}'><td><code>{e(r.scenario.name)}</code></td>"
        f"<td>{e(r.scenario.description)}</td>"
        f"<td>{len(r.attempts)}</td><td>{e(r.ended)}</td><td>{r.wall_seconds:.2f} s</td></tr>"
        for r in c.runs
    )
    runs = (
        "<h2>Scenarios</h2><table class=scenarios><thead><tr><th>scenario</th><th>what it plays</th>"
        "<th>attempts</th><th>how the flow ended</th><th>wall time</th></tr></thead>"
        f"<tbody>{scenarios}</tbody></table>"
    )
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>Certification: {e(c.subject)}</title><style>{STYLE}</style></head>"
        f"<body>{head}{table}{runs}</body></html>\n"
    )


def _verdict_class(c: Certification) -> str:
    return VERDICT_CLASS[c.decision.verdict]


def _row(v: RuleVerdict) -> str:
    e = html.escape
    cls = "v-" + v.verdict.replace(" ", "-")
    sources = "".join(f"<a href='{e(s.url)}'>{e(s.key)}</a>" for s in v.rule.sources)
    details = "".join(
        f"<details{' open' if o.verdict == Ruling.FAILED else ''}>"
        f"<summary>{e(o.scenario)}: {e(o.verdict)}: {e(o.reason)}</summary>"
        + (f"<pre>{e(chr(10).join(o.evidence))}</pre>" if o.evidence else "")
        + "</details>"
        for o in v.outcomes
    ) or e(v.reason)
    note = f"<div><small>{e(v.rule.note)}</small></div>" if v.rule.note else ""
    return (
        f"<tr id='rule-{e(v.rule.id)}' class='{cls}'><td class=verdict>{e(v.verdict)}</td>"
        f"<td><code>{e(v.rule.id)}</code><br>{e(v.rule.title)}{note}</td><td>{e(v.rule.level)}</td>"
        f"<td class=sources>{sources}</td><td>{details}</td></tr>"
    )
