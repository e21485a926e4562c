"""Open Referral HSDS 3.1: reading, validating, flattening and rebuilding records; no database here.

HSDS describes one relational model two ways: nested JSON (an organisation with its services, a service with its
organisation, ...) and a tabular data package (one CSV per table, rows linked by ``<table>_id`` columns). Both are
turned into the same thing here, rows per table keyed by id, and rebuilt from it, driven by the official schemas:
a nested property of a schema names the table of its items (``"name"``), so the schemas alone say how to flatten
and how to nest. The schemas declare no ``$schema``; HSDS 3.1's OpenAPI file sets the dialect to JSON Schema
2020-12, which is what validation uses (with format checks: uuid, email, date).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

SCHEMA_DIR = Path(__file__).parent / "data" / "hsds"
ROOT_KINDS = ("organization", "service", "service_at_location")
# Records HSDS publishes no compiled schema for; their schema is built from the table schemas.
OTHER_KINDS = ("location", "taxonomy", "taxonomy_term")
IMPORT_KINDS = ROOT_KINDS + OTHER_KINDS
# Maeul's own eligibility travels in JSON as this extension property of a service (HSDS allows extra properties).
EXTENSION = "maeul"

Row = dict[str, Any]


@dataclass(frozen=True)
class Problem:
    """One reason an import is refused: where (file or item, row, column or JSON pointer) and why."""

    source: str
    row: int
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.source} row {self.row} {self.pointer}: {self.message}"


@dataclass
class Tables:
    """HSDS rows per table, merged by id: the same record may appear nested in several places."""

    rows: dict[str, dict[str, Row]] = field(default_factory=lambda: defaultdict(dict))
    # Where each record was first read (file or item, row), so later checks can name it.
    origins: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)

    def add(self, table: str, row: Row, origin: tuple[str, int] = ("", 0)) -> None:
        ident = str(row.get("id", ""))
        existing = self.rows[table].get(ident)
        if existing is None:
            self.rows[table][ident] = dict(row)
            self.origins[(table, ident)] = origin
            return
        for key, value in row.items():
            if existing.get(key) in (None, "") and value not in (None, ""):
                existing[key] = value

    def get(self, table: str, ident: Any) -> Row | None:
        if ident in (None, ""):
            return None
        return self.rows.get(table, {}).get(str(ident))

    def count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


# --- schemas -----------------------------------------------------------------------------------------------


@cache
def compiled_schema(name: str) -> dict[str, Any]:
    """``organization``, ``service``, ``service_at_location``, their ``_list`` forms, or ``tabular``."""
    with (SCHEMA_DIR / "compiled" / f"{name}.json").open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


@cache
def table_schemas() -> dict[str, dict[str, Any]]:
    """The schema of each HSDS table, by table name (``organization``, ``phone``, ...)."""
    schemas: dict[str, dict[str, Any]] = {}
    for path in sorted((SCHEMA_DIR / "tables").glob("*.json")):
        with path.open(encoding="utf-8") as handle:
            schema = json.load(handle)
        schemas[schema["name"]] = schema
    return schemas


@cache
def record_schema(kind: str) -> dict[str, Any]:
    """The schema of a whole record of ``kind``: HSDS's compiled one, or the table schema with its ``$ref``s
    inlined the way the compiled schemas are (a table already on the path is not entered again)."""
    if kind in ROOT_KINDS or kind.endswith("_list") or kind == "tabular":
        return compiled_schema(kind)
    by_file = {f"{name}.json": schema for name, schema in table_schemas().items()}

    def inline(node: Any, path: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [inline(item, path) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        rest = {k: inline(v, path) for k, v in node.items() if k != "$ref"}
        if not isinstance(ref, str):
            return rest
        if ref in path:
            return {**rest, "type": "object"}
        return {**rest, **inline(by_file[ref], (*path, ref))}

    inlined: dict[str, Any] = inline(table_schemas()[kind], (f"{kind}.json",))
    return inlined


@cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(record_schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER)


@cache
def _row_validator(table: str) -> Draft202012Validator:
    """A table's row: its scalar columns, and in a tabular package also its ``tabular_required`` links."""
    schema = table_schemas()[table]
    row_schema = {
        "type": "object",
        "properties": {k: v for k, v in schema["properties"].items() if not _nested(v)},
        "required": [*schema.get("required", []), *schema.get("tabular_required", [])],
    }
    return Draft202012Validator(row_schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def table_by_path() -> dict[str, str]:
    return {schema["path"]: name for name, schema in table_schemas().items()}


def scalar_columns(table: str) -> list[str]:
    return [k for k, v in table_schemas()[table]["properties"].items() if not _nested(v)]


def _nested(prop: Mapping[str, Any]) -> bool:
    return prop.get("type") in ("array", "object") or "properties" in prop


def _nested_table(prop: Mapping[str, Any]) -> tuple[str, bool] | None:
    """The table a nested property holds and whether it is a list; None for a plain array of values."""
    if prop.get("type") == "array":
        items = prop.get("items")
        if isinstance(items, Mapping) and isinstance(items.get("name"), str):
            return items["name"], True
        return None
    if isinstance(prop.get("name"), str) and (prop.get("type") == "object" or "properties" in prop):
        return prop["name"], False
    return None


def _item_schema(prop: Mapping[str, Any]) -> Mapping[str, Any]:
    items = prop.get("items")
    return items if prop.get("type") == "array" and isinstance(items, Mapping) else prop


def problems_of(errors: Iterator[ValidationError], source: str, row: int, prefix: str = "") -> list[Problem]:
    found = []
    for error in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
        pointer = prefix + "".join(f"/{part}" for part in error.absolute_path)
        found.append(Problem(source, row, pointer or "/", error.message[:300]))
    return found


# --- flattening nested JSON --------------------------------------------------------------------------------


def _link_to_parent(row: Row, columns: Mapping[str, Any], parent: tuple[str, str] | None) -> None:
    if parent is None:
        return
    parent_table, parent_id = parent
    key = f"{parent_table}_id"
    if key in columns:
        row.setdefault(key, parent_id)
    elif "link_id" in columns:  # attributes link to any record
        row.setdefault("link_id", parent_id)
        row.setdefault("link_entity", parent_table)
    elif "resource_id" in columns:  # metadata too
        row.setdefault("resource_id", parent_id)
        row.setdefault("resource_type", parent_table)


def flatten(
    obj: Mapping[str, Any],
    schema: Mapping[str, Any],
    tables: Tables,
    parent: tuple[str, str] | None = None,
    origin: tuple[str, int] = ("", 0),
) -> None:
    """Add ``obj`` and everything nested in it to ``tables``, filling in the link columns nesting implies."""
    table = schema["name"]
    columns = schema.get("properties", {})
    row: Row = {}
    children: list[tuple[Any, Mapping[str, Any], bool]] = []
    for key, value in obj.items():
        prop = columns.get(key)
        nested = _nested_table(prop) if prop is not None else None
        if nested is None:
            row[key] = value
        else:
            children.append((value, _item_schema(prop), nested[1]))
    _link_to_parent(row, columns, parent)
    ident = str(row.get("id", ""))
    for value, child_schema, many in children:
        if many:
            for item in value or []:
                flatten(item, child_schema, tables, (table, ident), origin)
        elif isinstance(value, Mapping):
            # A single nested record is the one this row points at (a service's organisation, a term's taxonomy).
            reference = f"{child_schema['name']}_id"
            if reference in columns and value.get("id"):
                row.setdefault(reference, value["id"])
                flatten(value, child_schema, tables, None, origin)
            else:
                flatten(value, child_schema, tables, (table, ident), origin)
    tables.add(table, row, origin)


# --- nesting rows back into JSON ---------------------------------------------------------------------------


class Index:
    """Children of a record by table and link column, built once per export."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self._by_link: dict[tuple[str, str, str], list[Row]] = defaultdict(list)
        for table, rows in tables.rows.items():
            for row in sorted(rows.values(), key=lambda r: str(r.get("id", ""))):
                for key, value in row.items():
                    if (key.endswith("_id") or key == "link_id") and value not in (None, ""):
                        self._by_link[(table, key, str(value))].append(row)

    def children(self, table: str, parent_table: str, parent_id: str, columns: Mapping[str, Any]) -> list[Row]:
        key = f"{parent_table}_id"
        if key in columns:
            return self._by_link.get((table, key, parent_id), [])
        if "link_id" in columns:
            return self._by_link.get((table, "link_id", parent_id), [])
        if "resource_id" in columns:
            return self._by_link.get((table, "resource_id", parent_id), [])
        return []


def nest(row: Row, schema: Mapping[str, Any], index: Index) -> dict[str, Any]:
    """The JSON object for ``row`` in the shape ``schema`` describes, with the records it nests."""
    table = schema["name"]
    columns = schema.get("properties", {})
    obj: dict[str, Any] = {}
    for key, value in row.items():
        prop = columns.get(key)
        if value is None or (prop is not None and _nested_table(prop) is not None):
            continue
        obj[key] = value
    ident = str(row.get("id", ""))
    for key, prop in columns.items():
        nested = _nested_table(prop)
        if nested is None:
            continue
        child_table, many = nested
        child_schema = _item_schema(prop)
        child_columns = child_schema.get("properties", {})
        if many:
            children = index.children(child_table, table, ident, child_columns)
            if children:
                obj[key] = [nest(child, child_schema, index) for child in children]
        else:
            target = index.tables.get(child_table, row.get(f"{child_table}_id"))
            if target is not None:
                obj[key] = nest(target, child_schema, index)
    return obj


# --- reading input -----------------------------------------------------------------------------------------


@dataclass
class Parsed:
    tables: Tables
    problems: list[Problem]
    items: int


def _kind_of(item: Mapping[str, Any]) -> str:
    """Which kind of record a JSON item is, from the properties only that kind has."""
    if "location_type" in item:
        return "location"
    if {"term_uri", "taxonomy_detail", "taxonomy_id", "code", "parent_id"} & set(item):
        return "taxonomy_term"
    if "version" in item:
        return "taxonomy"
    if "service" in item or "location" in item or "service_id" in item or "location_id" in item:
        return "service_at_location"
    if "status" in item or "organization_id" in item or "organization" in item:
        return "service"
    return "organization"


def _validate_item(item: Any, kind: str, listed: bool, source: str, number: int, prefix: str) -> list[Problem]:
    if not isinstance(item, Mapping):
        return [Problem(source, number, prefix or "/", "expected an object")]
    problems = problems_of(validator(kind).iter_errors(item), source, number, prefix)
    if listed and kind in ROOT_KINDS and not problems:
        problems = problems_of(validator(f"{kind}_list").iter_errors(item), source, number, prefix)
    return problems


def read_json(data: Any, source: str, kind: str | None = None) -> Parsed:
    """A single record, a ``_list`` page (``contents``) or a ``_package`` (an array of records)."""
    tables = Tables()
    problems: list[Problem] = []
    if isinstance(data, Mapping) and data and all(str(key).endswith(".csv") for key in data):
        return _read_tabular_json(data, source)
    if isinstance(data, Mapping) and isinstance(data.get("contents"), list):
        entries = [(item, f"/contents/{i}", True) for i, item in enumerate(data["contents"])]
    elif isinstance(data, list):
        entries = [(item, f"/{i}", False) for i, item in enumerate(data)]
    elif isinstance(data, Mapping):
        entries = [(data, "", False)]
    else:
        return Parsed(tables, [Problem(source, 1, "/", "expected an HSDS object, list page or package")], 0)
    for number, (item, prefix, listed) in enumerate(entries, start=1):
        item_kind = kind or (_kind_of(item) if isinstance(item, Mapping) else "organization")
        found = _validate_item(item, item_kind, listed, source, number, prefix)
        problems.extend(found)
        if not found:
            flatten(item, record_schema(item_kind), tables, None, (source, number))
    return Parsed(tables, problems, len(entries))


def _read_tabular_json(data: Mapping[str, Any], source: str) -> Parsed:
    """The tabular package as one JSON object, rows per CSV file name. Its cells are typed by the table schemas,
    as in the CSV files (the official example writes some text columns as JSON numbers)."""
    tables = Tables()
    problems: list[Problem] = []
    by_path = table_by_path()
    for name, rows in data.items():
        table = by_path.get(name)
        where = f"{source}/{name}"
        if table is None:
            problems.append(Problem(where, 1, "/", "not an HSDS table file (expected e.g. organizations.csv)"))
            continue
        if not isinstance(rows, list):
            problems.append(Problem(where, 1, "/", "expected a list of rows"))
            continue
        for number, row in enumerate(rows, start=1):
            if not isinstance(row, Mapping):
                problems.append(Problem(where, number, "/", "expected an object"))
                continue
            problems.extend(_add_cells(table, {k: _cell(v) for k, v in row.items()}, where, number, tables))
    return Parsed(tables, problems, tables.count())


def _coerce(value: str, prop: Mapping[str, Any]) -> Any:
    kind = prop.get("type")
    if kind in ("number", "integer"):
        number = float(value)
        return int(number) if number.is_integer() else number
    if kind == "boolean":
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ValueError(value)
    return value


def _add_cells(table: str, cells: Mapping[str | None, Any], source: str, line: int, tables: Tables) -> list[Problem]:
    """One row of a table from its cells as text, typed by the table's schema, then validated."""
    columns = table_schemas()[table]["properties"]
    problems: list[Problem] = []
    row: Row = {}
    for key, value in cells.items():
        if key is None or key not in columns or value in (None, ""):
            continue
        try:
            row[key] = _coerce(value, columns[key])
        except ValueError:
            problems.append(Problem(source, line, key, f"{value!r} is not a {columns[key].get('type')}"))
    found = problems_of(_row_validator(table).iter_errors(row), source, line)
    problems.extend(Problem(p.source, p.row, p.pointer.lstrip("/") or "/", p.message) for p in found)
    if not problems:
        tables.add(table, row, (source, line))
    return problems


def read_csv_table(table: str, text: str, source: str, tables: Tables) -> list[Problem]:
    problems: list[Problem] = []
    columns = table_schemas()[table]["properties"]
    reader = csv.DictReader(io.StringIO(text))
    for unknown in [c for c in reader.fieldnames or [] if c not in columns]:
        problems.append(Problem(source, 1, unknown, f"column {unknown!r} is not in the HSDS {table} table"))
    for line, raw in enumerate(reader, start=2):
        problems.extend(_add_cells(table, raw, source, line, tables))
    return problems


def read_package(files: Mapping[str, bytes]) -> Parsed:
    """A tabular data package: CSV files named as in HSDS (``organizations.csv``, ...) and a datapackage.json."""
    tables = Tables()
    problems: list[Problem] = []
    by_path = table_by_path()
    names = {Path(name).name: content for name, content in files.items() if not name.endswith("/")}
    descriptor = names.pop("datapackage.json", None)
    if descriptor is not None:
        problems.extend(_check_descriptor(descriptor, by_path))
    if not names:
        problems.append(Problem("datapackage", 1, "/", "the package holds no CSV files"))
    rows = 0
    for name in sorted(names):
        table = by_path.get(name)
        if table is None:
            problems.append(Problem(name, 1, "/", "not an HSDS table file (expected e.g. organizations.csv)"))
            continue
        try:
            text = names[name].decode("utf-8-sig")
        except UnicodeDecodeError:
            problems.append(Problem(name, 1, "/", "the file is not UTF-8 text"))
            continue
        before = tables.count()
        problems.extend(read_csv_table(table, text, name, tables))
        rows += tables.count() - before
    return Parsed(tables, problems, rows)


def _check_descriptor(content: bytes, by_path: Mapping[str, str]) -> list[Problem]:
    try:
        descriptor = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [Problem("datapackage.json", 1, "/", f"not valid JSON: {exc}")]
    if not isinstance(descriptor, Mapping):
        # The official example ships a placeholder; a descriptor that describes nothing adds nothing to check.
        return []
    problems = []
    for i, resource in enumerate(descriptor.get("resources", [])):
        path = resource.get("path") if isinstance(resource, Mapping) else None
        if isinstance(path, str) and Path(path).name not in by_path:
            problems.append(Problem("datapackage.json", 1, f"/resources/{i}/path", f"{path} is not an HSDS table"))
    return problems


def read_upload(payload: bytes | Mapping[str, bytes], kind: str | None = None, source: str = "upload") -> Parsed:
    """JSON (record, list page or package), a zip of the tabular package, or the package's files by name."""
    if isinstance(payload, Mapping):
        if len(payload) == 1:
            ((name, content),) = payload.items()
            if name.lower().endswith(".json") and name != "datapackage.json":
                return read_upload(content, kind, name)
            if name.lower().endswith(".zip"):
                return read_upload(content, kind, name)
        return read_package(payload)
    if payload[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(payload)) as archive:
                files = {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
        except zipfile.BadZipFile as exc:
            return Parsed(Tables(), [Problem(source, 1, "/", f"not a readable zip file: {exc}")], 0)
        return read_package(files)
    try:
        data = json.loads(payload.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Parsed(Tables(), [Problem(source, 1, "/", f"neither JSON nor a zip file: {exc}")], 0)
    return read_json(data, source, kind)


# --- writing output ----------------------------------------------------------------------------------------


def page(contents: list[dict[str, Any]]) -> dict[str, Any]:
    """The paginated ``_list`` envelope of HSDS 3.1's API, as one page holding everything."""
    return {
        "total_items": len(contents),
        "total_pages": 1,
        "page_number": 1,
        "size": len(contents),
        "first_page": True,
        "last_page": True,
        "empty": not contents,
        "contents": contents,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def write_package(tables: Tables) -> bytes:
    """The tabular data package as a zip: one CSV per HSDS table and a datapackage.json describing them."""
    buffer = io.BytesIO()
    resources = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for table, schema in sorted(table_schemas().items(), key=lambda t: t[1]["datapackage_metadata"]["order"]):
            columns = scalar_columns(table)
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(columns)
            for ident in sorted(tables.rows.get(table, {})):
                row = tables.rows[table][ident]
                writer.writerow([_cell(row.get(c)) for c in columns])
            archive.writestr(schema["path"], out.getvalue())
            props = schema["properties"]
            resources.append(
                {
                    "name": table,
                    "path": schema["path"],
                    "profile": "tabular-data-resource",
                    "format": "csv",
                    "mediatype": "text/csv",
                    "encoding": "utf-8",
                    "schema": {
                        "fields": [
                            {"name": c, "type": props[c].get("type", "string")}
                            | ({"format": props[c]["format"]} if "format" in props[c] else {})
                            for c in columns
                        ],
                        "primaryKey": "id",
                    },
                }
            )
        descriptor = {"name": "maeul-directory", "profile": "tabular-data-package", "resources": resources}
        archive.writestr("datapackage.json", json.dumps(descriptor, ensure_ascii=False, indent=2))
    return buffer.getvalue()
