"""Load `contracts/` into a `Contract`: parse, validate against the bundled JSON Schemas, cross-check.

Every failure is a `ContractError` naming the file, the key path inside it and the fix; a contract is
either loaded whole or not at all.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, cast

import jsonschema
import referencing.exceptions
import yaml

from conformance.contract import model as m
from conformance.core.errors import ContractError, Place

API_PREFIX = "/api/v1/live-activity/"
CONTRACT_FILES = ("errors.yaml", "behaviour.yaml", "openapi.yaml")


def default_contracts_dir() -> Path:
    """`contracts/` of a source checkout, else the copy packaged inside the wheel."""
    package = Path(__file__).resolve().parents[1]
    checkout = package.parent / "contracts"
    return checkout if (checkout / "behaviour.yaml").exists() else package / "_contracts"


def load_contract(directory: Path | None = None) -> m.Contract:
    """Load and validate the contract directory (default: `default_contracts_dir()`)."""
    return _load_cached((directory or default_contracts_dir()).resolve())


@cache
def _load_cached(directory: Path) -> m.Contract:
    texts = {name: _read(directory / name) for name in CONTRACT_FILES}
    openapi = read_yaml(directory / "openapi.yaml", texts["openapi.yaml"])
    paths = endpoint_paths(openapi, directory / "openapi.yaml")
    errors_doc = read_yaml(directory / "errors.yaml", texts["errors.yaml"])
    validate(errors_doc, "errors.schema.json", directory / "errors.yaml", directory)
    table = _table(errors_doc, directory / "errors.yaml", tuple(paths))
    behaviour_doc = read_yaml(directory / "behaviour.yaml", texts["behaviour.yaml"])
    validate(behaviour_doc, "behaviour.schema.json", directory / "behaviour.yaml", directory)
    behaviour = _BehaviourBuilder(behaviour_doc, table, directory / "behaviour.yaml").build()
    digest = hashlib.sha256("".join(texts[n] for n in CONTRACT_FILES).encode()).hexdigest()
    return m.Contract(
        directory=directory,
        digest=digest,
        table=table,
        behaviour=behaviour,
        openapi=openapi,
        paths=paths,
        api_key_header=api_key_header(openapi, directory / "openapi.yaml"),
    )


# -- files ---------------------------------------------------------------------------------------


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        hint = "run `conformance contracts build`" if path.name == "errors.yaml" else "restore it from git"
        raise ContractError(path, Place(), "the file does not exist", hint) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(
            path, Place(), f"cannot be read: {exc}", "make it a readable UTF-8 file"
        ) from None


def read_yaml(path: Path, text: str) -> dict[str, Any]:
    """Parse YAML text whose top level must be a mapping."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise ContractError(
            path, Place(line=line), f"not valid YAML: {exc.problem}", "fix the YAML syntax at that line"
        ) from None
    except yaml.YAMLError as exc:
        raise ContractError(path, Place(), f"not valid YAML: {exc}", "fix the YAML syntax") from None
    if not isinstance(data, dict):
        raise ContractError(
            path, Place(), "the top level is not a mapping", "start the file with `key: value` lines"
        )
    return data


def _transition(endpoint: str, state: str) -> str:
    """How an expectation id names a lifecycle transition (`update@STARTED`)."""
    return f"{endpoint}@{state}"


def key_path(parts: Sequence[str | int]) -> str:
    """`rows[3].code` from ("rows", 3, "code")."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@cache
def _schema(directory: Path, name: str) -> dict[str, Any]:
    """A bundled JSON Schema, itself checked: a broken schema is a contract error, not a traceback."""
    path = directory / "schema" / name
    try:
        schema = json.loads(_read(path))
    except json.JSONDecodeError as exc:
        raise ContractError(
            path, Place(line=exc.lineno), f"not valid JSON: {exc.msg}", "fix the JSON"
        ) from None
    if not isinstance(schema, dict):
        raise ContractError(
            path, Place(), "the top level is not a JSON object", "restore the schema from git"
        )
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = key_path(list(exc.absolute_path))
        raise ContractError(
            path, Place(path=where), f"not a valid JSON Schema: {exc.message}", "fix the schema"
        ) from None
    return cast(dict[str, Any], schema)


def validate(document: Mapping[str, Any], schema_name: str, path: Path, directory: Path) -> None:
    """Validate against a bundled JSON Schema; report the most relevant error for people."""
    validator = jsonschema.Draft202012Validator(_schema(directory, schema_name))
    try:
        error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    except referencing.exceptions.Unresolvable as exc:
        raise ContractError(
            directory / "schema" / schema_name, Place(), f"a $ref cannot be resolved: {exc}", "fix the schema"
        ) from None
    if error is None:
        return
    where = key_path(list(error.absolute_path))
    described = error.schema.get("description") if isinstance(error.schema, dict) else None
    fix = described or f"see contracts/schema/{schema_name} for what is valid at `{where or '(top)'}`"
    raise ContractError(path, Place(path=where), _plain(error), fix)


def _plain(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        return error.message.replace("is a required property", "is missing")
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown key(s)")
    return error.message


def endpoint_paths(openapi: Mapping[str, Any], path: Path) -> dict[str, str]:
    """Endpoint name -> request path, from openapi.yaml's paths: the one list of endpoints."""
    paths = openapi.get("paths")
    if not isinstance(paths, dict):
        raise ContractError(path, Place(path="paths"), "no `paths` mapping", "restore the OpenAPI paths")
    found = {p.removeprefix(API_PREFIX): p for p in paths if isinstance(p, str) and p.startswith(API_PREFIX)}
    if not found:
        raise ContractError(
            path, Place(path="paths"), f"no path starts with {API_PREFIX}", "list the six operations under it"
        )
    return found


def api_key_header(openapi: Mapping[str, Any], path: Path) -> str:
    """The header the API key goes in: the apiKey security scheme in a header (X-Api-Key)."""
    schemes = openapi.get("components", {}).get("securitySchemes", {})
    for scheme in schemes.values() if isinstance(schemes, dict) else ():
        if isinstance(scheme, dict) and scheme.get("type") == "apiKey" and scheme.get("in") == "header":
            return str(scheme["name"])
    raise ContractError(
        path,
        Place(path="components.securitySchemes"),
        "no apiKey security scheme in a header: the suite does not know which header carries the key",
        "restore the scheme: {type: apiKey, in: header, name: X-Api-Key}",
    )


# -- errors.yaml -> ErrorTable -------------------------------------------------------------------


def _table(doc: Mapping[str, Any], path: Path, endpoints: tuple[str, ...]) -> m.ErrorTable:
    if tuple(doc["endpoints"]) != endpoints:
        raise ContractError(
            path,
            Place(path="endpoints"),
            f"lists {doc['endpoints']} but openapi.yaml defines {list(endpoints)}",
            "run `conformance contracts build` after changing openapi.yaml paths",
        )
    rows = []
    for index, row in enumerate(doc["rows"]):
        for endpoint in row["endpoints"]:
            if endpoint not in endpoints:
                raise ContractError(
                    path,
                    Place(path=key_path(["rows", index, "endpoints"])),
                    f"unknown endpoint {endpoint!r}",
                    f"use one of {list(endpoints)}",
                )
        retry = row["retry"]
        rows.append(
            m.ErrorRow(
                id=row["id"],
                status=row["status"],
                code=row["code"],
                endpoints=tuple(row["endpoints"]),
                endpoint_qualifiers=dict(row["endpoint_qualifiers"]),
                meaning=row["meaning"],
                cause=row["cause"],
                fix=row["fix"],
                body=row["body"],
                retry=None
                if retry is None
                else m.RetryRule(
                    error_class=retry["error_class"],
                    safe=retry["safe"],
                    conditions=tuple(retry["conditions"]),
                    strategy=retry["strategy"],
                    backoff_example_seconds=tuple(retry["backoff_example_seconds"]),
                ),
                limit={k: v for k, v in row.get("limit", {}).items() if isinstance(v, int)},
            )
        )
    warnings = tuple(
        m.RetryWarning(
            endpoint=w["endpoint"],
            text=w["text"],
            repeat_status=w["repeat_status"],
            repeat_code=w["repeat_code"],
            check_status_before_retry=w["check_status_before_retry"],
        )
        for w in doc["retry_warnings"]
    )
    return m.ErrorTable(
        endpoints=endpoints,
        rows=tuple(rows),
        retry_warnings=warnings,
        logging_fields=tuple(doc["error_logging"]["fields"]),
        source_sha256=doc["source"]["sha256"],
    )


# -- behaviour.yaml -> Behaviour -----------------------------------------------------------------


class _BehaviourBuilder:
    """Turns the schema-valid behaviour document into the model, checking every name it refers to."""

    def __init__(self, doc: Mapping[str, Any], table: m.ErrorTable, path: Path) -> None:
        self.doc = doc
        self.table = table
        self.path = path
        self.extra_codes = {e["code"]: e["status"] for e in doc["extra_codes"]}
        # code -> its other names (both ways), and the rules none applies to (see extra_codes).
        self.synonyms: dict[str, tuple[str, ...]] = {}
        self.not_for: dict[str, frozenset[str]] = {}
        for e in doc["extra_codes"]:
            if "synonym_of" in e:
                pair = (e["code"], e["synonym_of"])
                for one, other in (pair, pair[::-1]):
                    self.synonyms[one] = (*self.synonyms.get(one, ()), other)
                    self.not_for[one] = self.not_for.get(one, frozenset()) | set(e.get("not_for", ()))
        self.sources = {
            key: m.Source(key=key, title=value["title"], url=value["url"])
            for key, value in doc["sources"].items()
        }
        self.ids: set[str] = set()  # of every expectation built so far: what a reading may govern

    def fail(self, where: Sequence[str | int], problem: str, fix: str) -> ContractError:
        return ContractError(self.path, Place(path=key_path(where)), problem, fix)

    def code(self, code: str, where: Sequence[str | int]) -> str:
        if code in self.extra_codes or any(r.id == code for r in self.table.rows):
            return code
        raise self.fail(
            where,
            f"code {code!r} is no row of the error table and not in extra_codes",
            "use a row id from errors.yaml (the code, or HTTP_<status>) or declare it under extra_codes",
        )

    def row(self, code: str, where: Sequence[str | int]) -> str:
        """A row id of the error table (not an extra code): for rules that read the row's limit."""
        if any(r.id == code for r in self.table.rows):
            return code
        raise self.fail(
            where,
            f"{code!r} is no row of the error table",
            "use a row id from errors.yaml (the code, or HTTP_<status>); extra codes have no row to read",
        )

    def endpoints(self, names: Sequence[str], where: Sequence[str | int]) -> tuple[str, ...]:
        for index, name in enumerate(names):
            if name not in self.table.endpoints:
                raise self.fail(
                    [*where, index], f"unknown endpoint {name!r}", f"use one of {list(self.table.endpoints)}"
                )
        return tuple(names)

    def expectation(
        self,
        data: Mapping[str, Any],
        where: Sequence[str | int],
        *,
        states_outcome: bool = True,
        rule: str = "",
    ) -> m.Expectation:
        """Build an expectation; `states_outcome=False` for facts (a delay, idempotency), not responses.

        The codes it accepts take in their synonyms (extra_codes `synonym_of`), unless its `rule` is
        one a synonym is `not_for`; a conflict's sides keep the names their sources give.
        """
        self.known_sources(data["sources"], [*where, "sources"])
        for i, side in enumerate(data.get("conflict", ())):
            self.known_sources(side["sources"], [*where, "conflict", i, "sources"])
        outcome = self.with_synonyms(self.outcome(data, where), rule)
        if states_outcome and outcome.kind == "unknown" and data["level"] != "undocumented":
            raise self.fail(
                where,
                f"a {data['level']} expectation states no outcome",
                "add `expect: {codes: [...]}` or `outcome: ok`, or make the level `undocumented`",
            )
        conflict = tuple(
            m.ConflictSide(
                sources=tuple(side["sources"]),
                says=side["says"],
                outcome=self.outcome(side, [*where, "conflict", i])
                if ("codes" in side or "outcome" in side)
                else None,
                value={k: v for k, v in side.items() if k not in {"sources", "says", "codes", "outcome"}}
                or None,
            )
            for i, side in enumerate(data.get("conflict", ()))
        )
        return m.Expectation(
            outcome=outcome,
            level=data["level"],
            sources=tuple(data["sources"]),
            note=data.get("note", ""),
            conflict=conflict,
            sandbox_choice=dict(data.get("sandbox_choice", {})),
            id=self.remember(self.expectation_id(where)),
        )

    def governed_id(self, governed: str | Mapping[str, str]) -> str:
        """A `governs` entry as an expectation id: a transition is named by its endpoint and state."""
        if isinstance(governed, str):
            return governed
        return ".".join(("lifecycle", "transitions", _transition(governed["endpoint"], governed["from"])))

    def remember(self, expectation_id: str) -> str:
        self.ids.add(expectation_id)
        return expectation_id

    def expectation_id(self, where: Sequence[str | int]) -> str:
        """`where` as a dotted path, each list item named by its `id` (or `row`, or a transition's
        `endpoint@from`) rather than its index, so that an id survives reordering the file."""
        node: Any = self.doc
        names = []
        for part in where:
            node = node[part]
            if isinstance(part, int):
                names.append(node.get("id") or node.get("row") or _transition(node["endpoint"], node["from"]))
            else:
                names.append(part)
        return ".".join(names)

    def known_sources(self, keys: Sequence[str], where: Sequence[str | int]) -> None:
        for index, key in enumerate(keys):
            if key not in self.sources:
                raise self.fail([*where, index], f"unknown source {key!r}", "add it under `sources`")

    def outcome(self, data: Mapping[str, Any], where: Sequence[str | int]) -> m.Outcome:
        expect = data.get("expect") or ({"codes": data["codes"]} if "codes" in data else None)
        if expect is not None:
            codes = tuple(self.code(c, [*where, "expect", "codes", i]) for i, c in enumerate(expect["codes"]))
            statuses = {self.status(c) for c in codes}
            if "status" in expect:
                statuses.add(expect["status"])
            if len(statuses) != 1:
                raise self.fail(
                    [*where, "expect"],
                    f"the codes {list(codes)} have different statuses {sorted(statuses)}",
                    "an expectation may accept several codes of one status only",
                )
            return m.Outcome(kind="error", codes=codes, status=statuses.pop())
        kind = data.get("outcome", "unknown")
        return m.Outcome(kind=cast(m.OutcomeKind, kind))

    def with_synonyms(self, outcome: m.Outcome, rule: str) -> m.Outcome:
        """The outcome accepting every other name of each code it accepts, in the order written."""
        named = [
            other
            for code in outcome.codes
            if rule not in self.not_for.get(code, frozenset())
            for other in self.synonyms.get(code, ())
        ]
        codes = tuple(dict.fromkeys((*outcome.codes, *named)))
        return outcome if codes == outcome.codes else dataclasses.replace(outcome, codes=codes)

    def known_rules(self, rules: set[str]) -> None:
        """Every rule a synonym is `not_for` is a body or field rule of this file."""
        for i, e in enumerate(self.doc["extra_codes"]):
            for j, rule in enumerate(e.get("not_for", ())):
                if rule not in rules:
                    raise self.fail(
                        ["extra_codes", i, "not_for", j],
                        f"no body or field rule has the id {rule!r}",
                        f"use one of {sorted(rules)}",
                    )

    def status(self, code: str) -> int:
        return self.extra_codes.get(code) or self.table.row(code).status

    def limit(self, code: str, key: str, where: Sequence[str | int]) -> int:
        value = self.table.row(code).limit.get(key)
        if value is None:
            raise self.fail(
                where,
                f"row {code} states no `{key}` limit (its Meaning holds no number the parser reads)",
                "check the row's wording in contracts/error-table.md, or the table parser's LIMIT_PATTERNS",
            )
        return value

    def mapping(self, section: str, build: Callable[[str, Mapping[str, Any]], Any]) -> dict[str, Any]:
        return {key: build(key, value) for key, value in self.doc[section].items()}

    def build(self) -> m.Behaviour:
        d = self.doc
        self.known_rules({r["id"] for r in (*d["body"], *d["fields"])})
        behaviour = m.Behaviour(
            sources=self.sources,
            extra_codes=self.extra_codes,
            success_status=d["success"]["status"],
            success_field=d["success"]["body_field"],
            success_value=d["success"]["body_value"],
            sandbox_fallback_code=self.code(
                d["sandbox_fallback_code"]["code"], ["sandbox_fallback_code", "code"]
            ),
            body_rules=tuple(
                m.BodyRule(
                    id=r["id"], case=r["case"], expectation=self.expectation(r, ["body", i], rule=r["id"])
                )
                for i, r in enumerate(d["body"])
            ),
            field_rules=tuple(
                m.FieldRule(
                    id=r["id"],
                    field=r["field"],
                    endpoints=self.endpoints(r["endpoints"], ["fields", i, "endpoints"]),
                    cases={
                        case: self.expectation(
                            {**e, "conflict": r.get("conflict", e.get("conflict", []))}
                            if "conflict" in r
                            else e,
                            ["fields", i, "cases", case],
                            rule=r["id"],
                        )
                        for case, e in r["cases"].items()
                    },
                )
                for i, r in enumerate(d["fields"])
            ),
            ends_at=self.ends_at(d["ends_at_window"]),
            insider_ids=self.insider_ids(d["insider_ids"]),
            target_devices=self.target_devices(d["target_devices"]),
            accounts=self.mapping("accounts", lambda k, v: self.expectation(v, ["accounts", k])),
            eligibility=self.eligibility(d["eligibility"]),
            roles=self.roles(d["roles"]),
            lifecycle=self.lifecycle(d["lifecycle"], d["roles"]["creates_activity"]),
            sync_gate=self.sync_gate(d["sync_gate"]),
            rate_limit=self.rate_limit(d["rate_limit"]),
            idempotent={k: v["idempotent"] for k, v in d["idempotency"].items()},
            idempotency=self.mapping(
                "idempotency", lambda k, v: self.expectation(v, ["idempotency", k], states_outcome=False)
            ),
            precedence=self.expectation(d["precedence"], ["precedence"]),
            probes=tuple(
                m.Probe(
                    id=p["id"],
                    endpoints=self.endpoints(p["endpoints"], ["probes", i, "endpoints"]),
                    description=p["description"],
                    expectation=self.expectation(p, ["probes", i]),
                )
                for i, p in enumerate(d["probes"])
            ),
            fault_only=tuple(
                m.FaultOnlyRow(
                    row=self.row(f["row"], ["fault_only", i, "row"]),
                    reason=f["reason"],
                    expectation=self.expectation({**f, "expect": {"codes": [f["row"]]}}, ["fault_only", i]),
                )
                for i, f in enumerate(d["fault_only"])
            ),
            readings=self.readings(d["readings"]),
        )
        self.check_governs(d["readings"])  # once every expectation is built
        return behaviour

    def check_governs(self, items: Sequence[Mapping[str, Any]]) -> None:
        for i, r in enumerate(items):
            for j, governed in enumerate(map(self.governed_id, r["governs"])):
                if governed not in self.ids:
                    raise self.fail(
                        ["readings", i, "governs", j],
                        f"{governed!r} names no expectation of behaviour.yaml",
                        "use the key path of one, list items named by their id (e.g. body.body-empty)",
                    )

    def readings(self, items: Sequence[Mapping[str, Any]]) -> dict[str, m.Reading]:
        readings: dict[str, m.Reading] = {}
        for i, r in enumerate(items):
            if r["id"] in readings:
                raise self.fail(["readings", i, "id"], f"reading {r['id']!r} is listed twice", "merge them")
            self.known_sources(r["sources"], ["readings", i, "sources"])
            readings[r["id"]] = m.Reading(
                id=r["id"],
                question=r["question"],
                facts=r["facts"],
                sources=tuple(r["sources"]),
                options=dict(r["options"]),
                asserted=r["asserted"],
                governs=tuple(map(self.governed_id, r["governs"])),
            )
        return readings

    def edge(self, data: Mapping[str, Any], where: list[str | int]) -> m.Edge:
        code = self.row(data["code"], [*where, "code"])
        return m.Edge(
            code=code,
            value=self.limit(code, data["limit"], [*where, "limit"]),
            accepted_at_edge=data["accepted_at_edge"],
            expectation=self.expectation({**data, "expect": {"codes": [code]}}, where),
        )

    def ends_at(self, d: Mapping[str, Any]) -> m.EndsAtWindow:
        w: list[str | int] = ["ends_at_window"]
        past_code = self.code(d["past"]["code"], [*w, "past", "code"])
        return m.EndsAtWindow(
            endpoint=self.endpoints([d["endpoint"]], [*w, "endpoint"])[0],
            field=d["field"],
            past=self.expectation({**d["past"], "expect": {"codes": [past_code]}}, [*w, "past"]),
            past_code=past_code,
            minimum=self.edge(d["minimum"], [*w, "minimum"]),
            maximum=self.edge(d["maximum"], [*w, "maximum"]),
            at_now=self.expectation(d["at_now"], [*w, "at_now"]),
        )

    def insider_ids(self, d: Mapping[str, Any]) -> m.InsiderIdsRange:
        w: list[str | int] = ["insider_ids"]
        row = self.row(d["row"], [*w, "row"])
        with_code = {"expect": {"codes": [row]}}
        return m.InsiderIdsRange(
            row=row,
            field=d["field"],
            endpoints=self.table.row(row).endpoints,
            min_items=self.limit(row, "min_items", [*w, "row"]),
            max_items=self.limit(row, "max_items", [*w, "row"]),
            below_minimum=self.expectation({**d["below_minimum"], **with_code}, [*w, "below_minimum"]),
            above_maximum=self.expectation({**d["above_maximum"], **with_code}, [*w, "above_maximum"]),
            blank_element=self.expectation(d["blank_element"], [*w, "blank_element"]),
            duplicates=self.expectation(d["duplicates"], [*w, "duplicates"], states_outcome=False),
        )

    def target_devices(self, d: Mapping[str, Any]) -> m.TargetDevicesRule:
        w: list[str | int] = ["target_devices"]
        row = self.row(d["row"], [*w, "row"])
        return m.TargetDevicesRule(
            row=row,
            field=d["field"],
            endpoints=self.table.row(row).endpoints,
            element_fields=tuple(d["element_fields"]),
            cases={
                case: self.expectation({**e, "expect": {"codes": [row]}}, [*w, "cases", case])
                for case, e in d["cases"].items()
            },
            empty_list=self.expectation(d["empty_list"], [*w, "empty_list"]),
        )

    def eligibility(self, d: Mapping[str, Any]) -> m.Eligibility:
        w: list[str | int] = ["eligibility"]
        classes = {}
        for name, c in d["classes"].items():
            if c.get("skipped") is not None and c["skipped"] not in d["skipped_keys"]:
                raise self.fail(
                    [*w, "classes", name, "skipped"],
                    f"{c['skipped']!r} is not one of skipped_keys",
                    f"use one of {d['skipped_keys']}",
                )
            classes[name] = m.EligibilityClass(
                name=name,
                counter=c.get("counter"),
                skipped=c.get("skipped"),
                gdpr_denied=c.get("gdpr_denied", False),
                expectation=self.expectation({"outcome": "ok", **c}, [*w, "classes", name]),
            )
        none = d["no_eligible_device"]
        single = d["single_insider_without_profile"]
        return m.Eligibility(
            skipped_keys=tuple(d["skipped_keys"]),
            classes=classes,
            no_eligible_code=self.code(none["code"], [*w, "no_eligible_device", "code"]),
            no_eligible_endpoints=self.endpoints(none["endpoints"], [*w, "no_eligible_device", "endpoints"]),
            no_eligible=self.expectation(
                {**none, "expect": {"codes": [none["code"]]}}, [*w, "no_eligible_device"]
            ),
            single_without_profile_code=self.code(
                single["code"], [*w, "single_insider_without_profile", "code"]
            ),
            single_without_profile_endpoint=self.endpoints(
                [single["endpoint"]], [*w, "single_insider_without_profile", "endpoint"]
            )[0],
            single_without_profile=self.expectation(
                {**single, "expect": {"codes": [single["code"]]}}, [*w, "single_insider_without_profile"]
            ),
            gdpr_details_on_add_users=self.expectation(
                d["gdpr_denied_details_on_add_users"],
                [*w, "gdpr_denied_details_on_add_users"],
                states_outcome=False,
            ),
        )

    def roles(self, d: Mapping[str, Any]) -> m.Roles:
        return m.Roles(**{role: self.endpoints([name], ["roles", role])[0] for role, name in d.items()})

    def lifecycle(self, d: Mapping[str, Any], creates_activity: str) -> m.Lifecycle:
        transitions: dict[tuple[str, m.State], m.Transition] = {}
        for i, t in enumerate(d["transitions"]):
            where: list[str | int] = ["lifecycle", "transitions", i]
            endpoint = self.endpoints([t["endpoint"]], [*where, "endpoint"])[0]
            key = (endpoint, cast(m.State, t["from"]))
            if key in transitions:
                raise self.fail(
                    where, f"a second transition for {endpoint} from {t['from']}", "keep one per pair"
                )
            transitions[key] = m.Transition(
                endpoint=endpoint, state=key[1], expectation=self.expectation(t, where), to=t.get("to")
            )
        for endpoint in self.table.endpoints:
            if endpoint == creates_activity:
                continue  # it creates activities: it has no state to be in
            for state in d["states"]:
                if (endpoint, state) not in transitions:
                    raise self.fail(
                        ["lifecycle", "transitions"],
                        f"no transition for {endpoint} in state {state}",
                        "add one (level `undocumented` with a sandbox_choice if no source says)",
                    )
        return m.Lifecycle(
            states=tuple(d["states"]),
            after_register=d["after_register"],
            transitions=transitions,
            expiry=self.expectation(d["expiry"], ["lifecycle", "expiry"], states_outcome=False),
        )

    def sync_gate(self, d: Mapping[str, Any]) -> m.SyncGate:
        w: list[str | int] = ["sync_gate"]
        delay = d["delay_seconds"]
        if delay["min"] > delay["max"]:
            raise self.fail([*w, "delay_seconds"], "min is above max", "swap them")
        return m.SyncGate(
            endpoints=self.endpoints(d["endpoints"], [*w, "endpoints"]),
            delay_min_seconds=delay["min"],
            delay_max_seconds=delay["max"],
            delay=self.expectation(delay, [*w, "delay_seconds"], states_outcome=False),
            all_synced=self.expectation(d["all_synced"], [*w, "all_synced"]),
            some_synced=self.expectation(d["some_synced"], [*w, "some_synced"]),
            count_field=d["some_synced"]["count_field"],
            none_synced=self.expectation(d["none_synced"], [*w, "none_synced"]),
            end_keeps_activity=self.expectation(
                d["end_when_none_synced_keeps_activity"],
                [*w, "end_when_none_synced_keeps_activity"],
                states_outcome=False,
            ),
        )

    def rate_limit(self, d: Mapping[str, Any]) -> m.RateLimit:
        w: list[str | int] = ["rate_limit"]
        row = self.row(d["row"], [*w, "row"])
        return m.RateLimit(
            row=row,
            requests=self.limit(row, "requests", [*w, "row"]),
            per_seconds=self.limit(row, "per_seconds", [*w, "row"]),
            bucket=tuple(d["bucket"]),
            expectation=self.expectation({**d, "expect": {"codes": [row]}}, w),
        )
