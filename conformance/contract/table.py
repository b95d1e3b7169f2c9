"""Parse the vendor's published error table (markdown) into the data of `contracts/errors.yaml`.

The table page is kept verbatim in `contracts/error-table.md` so that a new version of the vendor's
page can be dropped in and diffed; this module is the only code that reads it. It returns plain data
(what errors.yaml holds), never model objects: the loader builds the model from errors.yaml, so there
is exactly one path from file to model.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from conformance.core.errors import ContractError, Place

ERROR_COLUMNS = ("HTTP", "Code", "Endpoints", "Meaning", "Typical Cause", "Suggested Fix")
RETRY_COLUMNS = ("Error class", "Safe to retry?", "Strategy")
NO_BODY = "(no body)"
ALL_ENDPOINTS = "All"
CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]*$")
# Statuses an error row may carry: the client and server error classes of RFC 9110.
ERROR_STATUS_RANGE = range(400, 600)

# Numeric limits the table states in a row's Meaning; each pattern turns its wording into data, so the
# number is written once (in the table) and read everywhere else. `wording` keeps the phrase whose
# comparison word ("less than", "more than") fixes which side of the edge is rejected.
LIMIT_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"(?P<min_items>\d[\d,]*)-(?P<max_items>\d[\d,]*) range", "items"),
    (r"less than (?P<min_seconds>\d+) minutes", "minutes"),
    (r"more than (?P<max_seconds>\d+) days", "days"),
    (r"\((?P<requests>\d+)/min\)", "per-minute"),
)
UNIT_SECONDS = {"items": 1, "minutes": 60, "days": 86_400, "per-minute": 1}

# The logging recommendation is prose; each item is mapped to the structured field names it asks
# for. An item the map does not know fails the build, so a reworded vendor page is noticed.
LOGGING_PHRASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("http status code", ("status",)),
    ("code and error fields", ("code", "error")),
    ("activity_id", ("activity_id",)),
    ("request timestamp + retry counter", ("request_timestamp", "retry_counter")),
)


@dataclass(frozen=True)
class _Line:
    number: int
    text: str


def row_id(status: int, code: str | None) -> str:
    """The stable identifier of an error row: its code, or `HTTP_<status>` for body-less rows."""
    return code if code else f"HTTP_{status}"


def build_errors_document(text: str, *, source: str, endpoints: Sequence[str]) -> dict[str, Any]:
    """Turn the published table page into the errors.yaml document.

    `endpoints` are the six endpoint names (read from openapi.yaml by the caller) that "All"
    expands to and that every named endpoint must belong to.
    """
    lines = [_Line(n, raw.rstrip()) for n, raw in enumerate(text.splitlines(), start=1)]
    parser = _Parser(lines, source, tuple(endpoints))
    return parser.document(hashlib.sha256(text.encode()).hexdigest())


class _Parser:
    def __init__(self, lines: list[_Line], source: str, endpoints: tuple[str, ...]) -> None:
        self.lines = lines
        self.source = source
        self.endpoints = endpoints

    def fail(self, line: int | None, problem: str, fix: str) -> ContractError:
        return ContractError(self.source, Place(line=line), problem, fix)

    def document(self, digest: str) -> dict[str, Any]:
        rows = self.error_rows()
        retry_classes = self.retry_classes()
        self.join_retry(rows, retry_classes)
        return {
            "format": 1,
            "source": {"file": self.source, "sha256": digest},
            "endpoints": list(self.endpoints),
            "notes": self.preamble_notes(),
            "rows": rows,
            "retry_warnings": self.retry_warnings(rows),
            "error_logging": self.error_logging(),
        }

    # -- tables ---------------------------------------------------------------------------------

    def table(self, columns: tuple[str, ...], name: str) -> list[tuple[int, list[str]]]:
        """Find the pipe table whose header has `columns`; return (line, cells) per body row."""
        for index, line in enumerate(self.lines):
            cells = _cells(line.text)
            # A header is recognised by most of its column names, so one renamed column is reported
            # as such (with its line) rather than as a missing table.
            if sum(c in cells for c in columns) * 2 <= len(columns):
                continue
            if tuple(cells) != columns:
                missing = [c for c in columns if c not in cells]
                extra = [c for c in cells if c not in columns]
                raise self.fail(
                    line.number,
                    f"the {name} table header is {cells}; expected columns {list(columns)}"
                    + (f" (missing {missing})" if missing else "")
                    + (f" (unexpected {extra})" if extra else ""),
                    "restore the published column names and order, or teach conformance.contract.table "
                    "the new layout",
                )
            return self._body(index, columns, name)
        # Name the section heading where the table should start (`Retry strategies`), if it is there.
        stem = name.rsplit(maxsplit=1)[-1][:-1].lower()
        heading = next(
            (ln.number for ln in self.lines if "|" not in ln.text and stem in ln.text.lower()), None
        )
        raise self.fail(
            heading,
            f"no {name} table found (a header line `{' | '.join(columns)} |`)",
            "check that the file is the vendor's error-code page, transcribed as published",
        )

    def _body(self, header_index: int, columns: tuple[str, ...], name: str) -> list[tuple[int, list[str]]]:
        rows: list[tuple[int, list[str]]] = []
        for line in self.lines[header_index + 1 :]:
            if "|" not in line.text:
                break
            cells = _cells(line.text)
            if all(set(c) <= set("-: ") for c in cells):
                continue  # the |---|---| separator
            if len(cells) != len(columns):
                raise self.fail(
                    line.number,
                    f"a {name} row has {len(cells)} cells, the header has {len(columns)}",
                    "give every row one cell per column (an empty cell still needs its `|`)",
                )
            rows.append((line.number, cells))
        if not rows:
            raise self.fail(self.lines[header_index].number, f"the {name} table has no rows", "add the rows")
        return rows

    # -- the error table ------------------------------------------------------------------------

    def error_rows(self) -> list[dict[str, Any]]:
        sometimes_bodyless = self.sometimes_bodyless_statuses()
        rows: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        for number, (status_text, code_text, endpoints_text, meaning, cause, fix) in self.table(
            ERROR_COLUMNS, "error"
        ):
            status = self.status(number, status_text)
            code = None if code_text == NO_BODY else code_text
            if code is not None and not CODE_PATTERN.match(code):
                raise self.fail(
                    number,
                    f"code {code_text!r} is neither an UPPER_SNAKE_CASE code nor {NO_BODY!r}",
                    "write the code as published, or `(no body)` for a status-only row",
                )
            rid = row_id(status, code)
            if rid in seen:
                raise self.fail(
                    number,
                    f"row {rid} is listed twice (first on line {seen[rid]})",
                    "keep one row per code (and one per status for body-less rows)",
                )
            seen[rid] = number
            endpoints, qualifiers = self.endpoint_list(number, endpoints_text)
            if code is not None:
                body = "always"
            elif status in sometimes_bodyless:
                body = "sometimes"
            else:
                body = "never"
            limit = _limit(meaning)
            rows.append(
                {
                    "id": rid,
                    "status": status,
                    "code": code,
                    "endpoints": endpoints,
                    "endpoint_qualifiers": qualifiers,
                    "meaning": meaning,
                    "cause": cause,
                    "fix": fix,
                    "body": body,
                    **({"limit": limit} if limit else {}),
                    "line": number,
                }
            )
        return rows

    def status(self, line: int, text: str) -> int:
        if not text.isdigit() or int(text) not in ERROR_STATUS_RANGE:
            raise self.fail(
                line,
                f"HTTP status {text!r} is not an error status (400-599)",
                "write the numeric status as published, e.g. `404`",
            )
        return int(text)

    def endpoint_list(self, line: int, text: str) -> tuple[list[str], dict[str, str]]:
        if text == ALL_ENDPOINTS:
            return list(self.endpoints), {}
        names: list[str] = []
        qualifiers: dict[str, str] = {}
        for part in (p.strip() for p in text.split("/")):
            match = re.fullmatch(r"([a-z][a-z-]*)(?:\s*\(([^)]*)\))?", part)
            if not match or match.group(1) not in self.endpoints:
                raise self.fail(
                    line,
                    f"unknown endpoint {part!r} in {text!r}",
                    f"use `All` or names from {list(self.endpoints)} separated by ` / `",
                )
            names.append(match.group(1))
            if match.group(2):
                qualifiers[match.group(1)] = match.group(2).strip()
        return names, qualifiers

    def sometimes_bodyless_statuses(self) -> set[int]:
        """Statuses the page's preamble says only *some* responses of carry no body."""
        for line in self.lines:
            match = re.search(r"Some ([\d ,and]+) responses have no body", line.text)
            if match:
                return {int(s) for s in re.findall(r"\d{3}", match.group(1))}
        return set()

    def preamble_notes(self) -> list[dict[str, Any]]:
        notes = []
        for line in self.lines:
            if _cells(line.text):
                break
            if line.text.strip():
                notes.append({"line": line.number, "text": line.text.strip()})
        return notes

    # -- the retry table ------------------------------------------------------------------------

    def retry_classes(self) -> list[dict[str, Any]]:
        classes: list[dict[str, Any]] = []
        for number, (error_class, safe_text, strategy) in self.table(RETRY_COLUMNS, "retry strategy"):
            match = re.fullmatch(r"(\d{3})\s+(.+)", error_class)
            if not match:
                raise self.fail(
                    number,
                    f"error class {error_class!r} does not start with an HTTP status",
                    "write the class as `<status> <CODE or (label)>`, e.g. `412 APNS_CERT_*`",
                )
            status, selector = int(match.group(1)), match.group(2).strip()
            label = selector.startswith("(") and selector.endswith(")")
            safe_match = re.fullmatch(r"(Yes|No)(?:\s*\((.+)\))?", safe_text)
            if not safe_match:
                raise self.fail(
                    number,
                    f"'Safe to retry?' is {safe_text!r}; expected `Yes`, `No` or `Yes (<condition>)`",
                    "write the cell as published",
                )
            backoff = re.search(r"e\.g\.\s*((?:\d+s,?\s*)+)", strategy)
            classes.append(
                {
                    "error_class": error_class,
                    "status": status,
                    "label": selector[1:-1] if label else None,
                    "code_pattern": None if label else selector,
                    "safe": safe_match.group(1) == "Yes",
                    "conditions": [safe_match.group(2)] if safe_match.group(2) else [],
                    "strategy": strategy,
                    "backoff_example_seconds": (
                        [int(s) for s in re.findall(r"(\d+)s", backoff.group(1))] if backoff else []
                    ),
                    "_line": number,
                }
            )
        return classes

    def join_retry(self, rows: list[dict[str, Any]], classes: list[dict[str, Any]]) -> None:
        """Give each row the retry class that names its code, else the one labelling its whole status."""
        used: set[str] = set()
        for row in rows:
            specific = [
                c
                for c in classes
                if c["status"] == row["status"]
                and c["code_pattern"]
                and row["code"]
                and fnmatch.fnmatchcase(row["code"], c["code_pattern"])
            ]
            general = [c for c in classes if c["status"] == row["status"] and c["label"] is not None]
            candidates = specific or general
            if len(candidates) > 1:
                raise self.fail(
                    row["line"],
                    f"row {row['id']} matches several retry classes: "
                    + ", ".join(c["error_class"] for c in candidates),
                    "make the retry classes name disjoint codes",
                )
            if candidates:
                row["retry"] = {k: v for k, v in candidates[0].items() if k not in {"_line", "status"}}
                used.add(candidates[0]["error_class"])
            else:
                row["retry"] = None  # the retry table says nothing of this row: undocumented
        for c in classes:
            if c["error_class"] not in used:
                raise self.fail(
                    c["_line"],
                    f"retry class {c['error_class']!r} matches no row of the error table",
                    "check the status and code of the class against the error table",
                )
        for row in rows:
            del row["line"]

    # -- prose rules ----------------------------------------------------------------------------

    def retry_warnings(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The /start warning and the 'same warning applies to /end' sentence, as structured rules."""
        warnings: list[dict[str, Any]] = []
        for line in self.lines:
            first = re.match(r"/([a-z-]+) retry warning:\s*(.+)", line.text)
            same = re.match(r"The same warning applies to /([a-z-]+)\.\s*(.+)", line.text)
            match = first or same
            if not match:
                continue
            endpoint, text = match.group(1), match.group(2)
            if endpoint not in self.endpoints:
                raise self.fail(
                    line.number, f"retry warning names unknown endpoint /{endpoint}", "fix the name"
                )
            repeat = re.search(r"(?:return|returns)\s+(\d{3})(?:\s+([A-Z][A-Z0-9_]+))?", text)
            if not repeat:
                raise self.fail(
                    line.number,
                    "retry warning does not say what a repeated call returns",
                    "teach conformance.contract.table the new wording",
                )
            status, code = int(repeat.group(1)), repeat.group(2)
            if code and not any(r["code"] == code and r["status"] == status for r in rows):
                raise self.fail(
                    line.number, f"retry warning names {status} {code}, no row of the table", "fix it"
                )
            warnings.append(
                {
                    "endpoint": endpoint,
                    "inherits_from": warnings[-1]["endpoint"] if same and warnings else None,
                    "text": text,
                    "repeat_status": status,
                    "repeat_code": code,
                    "check_status_before_retry": bool(
                        re.search(r"status check", text) or (same and warnings)
                    ),
                }
            )
        if not warnings:
            raise self.fail(None, "no retry warnings found (`/start retry warning: …`)", "restore them")
        return warnings

    def error_logging(self) -> dict[str, Any]:
        start = next(
            (i for i, ln in enumerate(self.lines) if ln.text.strip() == "Error logging recommendation"), None
        )
        if start is None:
            raise self.fail(None, "no 'Error logging recommendation' section", "restore the section")
        items: list[dict[str, Any]] = []
        for line in self.lines[start + 1 :]:
            text = line.text.strip()
            if not text or text.lower().startswith("in your integration"):
                continue
            fields = next((f for phrase, f in LOGGING_PHRASES if phrase in text.lower()), None)
            if fields is None:
                raise self.fail(
                    line.number,
                    f"logging item {text!r} is not one the parser knows",
                    "add its phrase and field names to LOGGING_PHRASES in conformance/contract/table.py",
                )
            items.append({"text": text, "fields": list(fields)})
        return {"items": items, "fields": [f for item in items for f in item["fields"]]}


def _limit(meaning: str) -> dict[str, Any] | None:
    """The numeric limit a row's Meaning states, in seconds or items, with the words that state it."""
    for pattern, unit in LIMIT_PATTERNS:
        match = re.search(pattern, meaning)
        if match:
            values = {k: int(v.replace(",", "")) * UNIT_SECONDS[unit] for k, v in match.groupdict().items()}
            if unit == "per-minute":
                values["per_seconds"] = 60
            return {**values, "wording": match.group(0)}
    return None


def _cells(text: str) -> list[str]:
    """Cells of a pipe-table line; a line without a pipe has none."""
    if "|" not in text:
        return []
    cells = [c.strip() for c in text.strip().split("|")]
    if cells and cells[0] == "":
        cells = cells[1:]
    if cells and cells[-1] == "":
        cells = cells[:-1]
    return cells
