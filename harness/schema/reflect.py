"""Reflect a live PostgreSQL schema with a fixed number of bulk catalog queries.

One psycopg connection, one read-only repeatable-read transaction (a consistent snapshot),
and the queries of :mod:`harness.schema.catalog` sent together in pipeline mode: the number of
round trips does not grow with the number of tables.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import psycopg

from harness.errors import DatabaseUnavailable
from harness.logs import get_logger
from harness.schema import catalog
from harness.schema.snapshot import (
    CheckInfo,
    ColumnInfo,
    EnumInfo,
    ExclusionInfo,
    ExtensionInfo,
    ForeignKeyInfo,
    FunctionInfo,
    IndexInfo,
    LiveSchema,
    PrimaryKeyInfo,
    RelationKind,
    SequenceInfo,
    TableInfo,
    TriggerInfo,
    UniqueInfo,
    ViewInfo,
    qualified,
)
from harness.schema.sqlexpr import canonical_key, canonical_value
from harness.schema.types import normalize_type, type_family

log = get_logger(__name__)

_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
_RELKINDS: dict[str, RelationKind] = {
    "r": "table",
    "p": "table",
    "f": "foreign table",
    "v": "view",
    "m": "materialized view",
}
_IDENTITY = {"a": "always", "d": "by default"}
_FUNCTION_KINDS = {"f": "function", "p": "procedure", "a": "aggregate", "w": "window"}
_NEXTVAL = re.compile(r"^\s*nextval\(", re.IGNORECASE)


def libpq_url(url: str) -> str:
    """``postgresql+psycopg://…`` and ``postgres://…`` as a plain libpq URL."""
    return re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql://", url.strip())


def display_url(url: str) -> str:
    """``postgresql://host:port/db`` — never the user's password."""
    parts = urlsplit(libpq_url(url))
    query = parse_qs(parts.query)
    host = unquote(parts.hostname or "") or (query.get("host") or ["localhost"])[0]
    try:
        port = parts.port or int((query.get("port") or ["5432"])[0])
    except ValueError:
        port = 5432
    database = unquote(parts.path.lstrip("/")) or (query.get("dbname") or [""])[0]
    if host.startswith("/"):
        return f"postgresql:///{database}?host={host}&port={port}"
    return f"postgresql://{host}:{port}/{database}"


def _reason(exc: BaseException, url: str) -> str:
    text = " ".join(str(exc).split())
    password = urlsplit(libpq_url(url)).password
    if password:
        text = text.replace(password, "***")
    lowered = text.lower()
    for needle, reason in (
        ("connection refused", "connection refused"),
        ("timeout expired", "timed out"),
        ("no such file or directory", "no server socket there"),
        ("could not translate host name", "unknown host"),
        ("name or service not known", "unknown host"),
    ):
        if needle in lowered:
            return reason
    match = re.search(r'database "[^"]+" does not exist|password authentication failed[^:]*', text)
    if match:
        return match.group(0)
    return text.split(": ", 2)[-1] if "failed: " in text else text


def connect(url: str, *, timeout: float = 5.0) -> psycopg.Connection[tuple[Any, ...]]:
    """A psycopg connection, or :class:`DatabaseUnavailable` with one readable line."""
    try:
        return psycopg.connect(libpq_url(url), connect_timeout=max(1, round(timeout)))
    except psycopg.Error as exc:
        raise DatabaseUnavailable(
            f"cannot connect to {display_url(url)}: {_reason(exc, url)}"
        ) from None


def reflect_schema(
    url: str,
    schemas: Sequence[str] | None = ("public",),
    *,
    objects: bool = True,
    then: Callable[[psycopg.Connection[Any], LiveSchema], None] | None = None,
    exclude: Sequence[str] = (),
    default_schema: str = "public",
) -> LiveSchema:
    """Reflect tables, columns, constraints, indexes, enums (and, with ``objects``, sequences,
    views and functions) of ``schemas``. The first schema is the default one: its objects are
    keyed by bare name, others as ``schema.name``. ``schemas=None``: every schema but the
    system ones (``default_schema`` is then the default one); ``exclude`` leaves some out.
    ``then`` runs on the same connection and snapshot once the schema is assembled (for
    questions only the server can answer).
    """
    started = time.perf_counter()
    every = schemas is None
    names = [] if schemas is None else (list(dict.fromkeys(schemas)) or ["public"])
    default = default_schema if every else names[0]
    params = {"schemas": names, "all": every, "exclude": list(exclude)}
    queries: list[tuple[str, str]] = [
        ("schemas", catalog.SCHEMAS),
        ("columns", catalog.COLUMNS),
        ("constraints", catalog.CONSTRAINTS),
        ("indexes", catalog.INDEXES),
        ("enums", catalog.ENUMS),
    ]
    if objects:
        queries += [
            ("sequences", catalog.SEQUENCES),
            ("views", catalog.VIEWS),
            ("functions", catalog.FUNCTIONS),
            ("extensions", catalog.EXTENSIONS),
            ("triggers", catalog.TRIGGERS),
        ]
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with connect(url) as conn:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        version = conn.info.server_version
        try:
            with conn.pipeline():
                cursors = []
                for name, sql in queries:
                    cur = conn.cursor()
                    cur.execute(sql, params)
                    cursors.append((name, cur))
            for name, cur in cursors:
                rows[name] = cur.fetchall()
            schema = _Assembler(default).build(rows, source=display_url(url))
            if then is not None:
                then(conn, schema)
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(
                f"lost connection to {display_url(url)}: {_reason(exc, url)}"
            ) from None
        conn.rollback()
    schema.server_version = f"{version // 10000}.{version % 10000}"
    schema.queries = len(queries)
    if not every:
        known = set(schema.schemas)
        schema.notes.extend(f"schema {n} does not exist" for n in names if n not in known)
    log.debug(
        "schema.reflected",
        database=schema.source,
        tables=len(schema.tables),
        queries=len(queries),
        seconds=round(time.perf_counter() - started, 4),
    )
    return schema


@dataclass(slots=True)
class _Constraints:
    primary_key: PrimaryKeyInfo | None = None
    foreign_keys: list[ForeignKeyInfo] = field(default_factory=list)
    uniques: list[UniqueInfo] = field(default_factory=list)
    checks: list[CheckInfo] = field(default_factory=list)
    exclusions: list[ExclusionInfo] = field(default_factory=list)


class _Assembler:
    def __init__(self, default_schema: str) -> None:
        self.default_schema = default_schema
        self.attnames: dict[str, dict[int, str]] = {}
        self.where: dict[str, tuple[str, str]] = {}
        self.partitions: dict[str, dict[str, str | None]] = {}

    def key(self, schema: str, name: str) -> str:
        return qualified(schema, name, self.default_schema)

    def build(self, rows: dict[str, list[tuple[Any, ...]]], *, source: str) -> LiveSchema:
        result = LiveSchema(source=source, default_schema=self.default_schema)
        columns, kinds = self.columns(rows["columns"])
        parts = self.constraints(rows["constraints"])
        indexes, index_uniques = self.indexes(rows["indexes"])
        result.schemas = tuple(r[0] for r in rows.get("schemas", []))
        for key, cols in columns.items():
            schema, name = self.where[key]
            found = parts.get(key) or _Constraints()
            part = self.partitions.get(key, {})
            result.tables[key] = TableInfo(
                schema=schema,
                name=name,
                key=key,
                columns=cols,
                primary_key=found.primary_key,
                foreign_keys=tuple(found.foreign_keys),
                uniques=tuple(found.uniques + index_uniques.get(key, [])),
                checks=tuple(found.checks),
                indexes=tuple(indexes.get(key, [])),
                exclusions=tuple(found.exclusions),
                kind=kinds[key],
                partition_of=part.get("partition_of"),
                partition_bound=part.get("partition_bound"),
                partition_key=part.get("partition_key"),
            )
        for nsp, typname, values in rows["enums"]:
            key = self.key(nsp, typname)
            result.enums[key] = EnumInfo(nsp, typname, key, tuple(values))
        for row in rows.get("sequences", []):
            nsp, name, dtype, start, inc, minimum, maximum, cycle, owned, deptype = row
            if deptype == "i":
                continue  # an identity column's own sequence: compared as the column
            key = self.key(nsp, name)
            owner = owned
            if owned and owned.startswith(self.default_schema + "."):
                owner = owned[len(self.default_schema) + 1 :]
            result.sequences[key] = SequenceInfo(
                key, dtype, int(start), int(inc), int(minimum), int(maximum), bool(cycle), owner
            )
        for nsp, name, relkind, definition in rows.get("views", []):
            key = self.key(nsp, name)
            result.views[key] = ViewInfo(key, _RELKINDS[relkind], definition or "")
        for nsp, name, args, prokind, lang, res, definition in rows.get("functions", []):
            key = self.key(nsp, f"{name}({args})")
            kind = _FUNCTION_KINDS.get(prokind, prokind)
            result.functions[key] = FunctionInfo(key, kind, lang, res, definition or "")
        for name, version, nsp in rows.get("extensions", []):
            result.extensions[name] = ExtensionInfo(name, version, nsp)
        for nsp, rel, name, definition, enabled in rows.get("triggers", []):
            table = self.key(nsp, rel)
            key = f"{table}.{name}"
            result.triggers[key] = TriggerInfo(key, table, name, definition or "", enabled)
        return result

    def columns(
        self, rows: list[tuple[Any, ...]]
    ) -> tuple[dict[str, dict[str, ColumnInfo]], dict[str, RelationKind]]:
        tables: dict[str, dict[str, ColumnInfo]] = {}
        kinds: dict[str, RelationKind] = {}
        for row in rows:
            nsp, rel, relkind, attnum, attname, type_, notnull, default, ident, gen = row[:10]
            enum_schema, enum_name = row[10], row[11]
            parent_nsp, parent, bound, partkey, collation = row[12:17]
            key = self.key(nsp, rel)
            cols = tables.setdefault(key, {})
            kinds[key] = _RELKINDS[relkind]
            self.where[key] = (nsp, rel)
            if key not in self.partitions and (parent or partkey):
                self.partitions[key] = {
                    "partition_of": self.key(parent_nsp, parent) if parent else None,
                    "partition_bound": bound,
                    "partition_key": partkey,
                }
            if attnum is None:
                continue
            self.attnames.setdefault(key, {})[attnum] = attname
            type_key = normalize_type(type_, self.default_schema)
            nextval = default is not None and _NEXTVAL.match(default) is not None
            cols[attname] = ColumnInfo(
                name=attname,
                type=type_,
                type_key=type_key,
                nullable=not notnull,
                position=attnum,
                default=default,
                default_key=(
                    (canonical_value(default, type_family(type_key)) or default)
                    if default is not None
                    else None
                ),
                generated_by_db=nextval or bool(ident),
                identity=_IDENTITY.get(ident or ""),
                computed=gen,
                enum=self.key(enum_schema, enum_name) if enum_name else None,
                collation=collation,
            )
        return tables, kinds

    def names(self, key: str, attnums: list[int] | None) -> tuple[str, ...]:
        known = self.attnames.get(key, {})
        return tuple(known.get(n, f"#{n}") for n in attnums or [])

    def constraints(self, rows: list[tuple[Any, ...]]) -> dict[str, _Constraints]:
        out: dict[str, _Constraints] = {}
        for row in rows:
            nsp, rel, name, contype, conkey, ref_nsp, ref_rel, ref_cols, upd, dele, expr = row[:11]
            deferrable, deferred = bool(row[12]), bool(row[13])
            key = self.key(nsp, rel)
            found = out.setdefault(key, _Constraints())
            cols = self.names(key, conkey)
            if contype == "p":
                found.primary_key = PrimaryKeyInfo(name, cols)
            elif contype == "u":
                found.uniques.append(UniqueInfo(name, cols, "constraint"))
            elif contype == "f":
                found.foreign_keys.append(
                    ForeignKeyInfo(
                        name=name,
                        columns=cols,
                        ref_table=self.key(ref_nsp, ref_rel),
                        ref_columns=tuple(ref_cols or ()),
                        on_delete=_ACTIONS.get(dele, dele),
                        on_update=_ACTIONS.get(upd, upd),
                        deferrable=deferrable,
                        initially_deferred=deferred,
                    )
                )
            elif contype == "c":
                found.checks.append(CheckInfo(name, expr, canonical_key(expr)))
            elif contype == "x":
                found.exclusions.append(ExclusionInfo(name, row[11] or ""))
        return out

    def indexes(
        self, rows: list[tuple[Any, ...]]
    ) -> tuple[dict[str, list[IndexInfo]], dict[str, list[UniqueInfo]]]:
        indexes: dict[str, list[IndexInfo]] = {}
        uniques: dict[str, list[UniqueInfo]] = {}
        for row in rows:
            nsp, rel, name, unique, method, nkey, indkey, indoption, exprs, pred, backs = row
            if backs:
                continue
            key = self.key(nsp, rel)
            known = self.attnames.get(key, {})
            elements: list[str] = []
            keys: list[str] | None = []
            for pos, attnum in enumerate(indkey[:nkey]):
                if attnum:
                    text = known.get(attnum, f"#{attnum}")
                    elem_key: str | None = repr(("col", text))
                else:
                    text = exprs[pos] if exprs else "?"
                    elem_key = canonical_key(text)
                option = indoption[pos] if pos < len(indoption) else 0
                desc, nulls_first = bool(option & 1), bool(option & 2)
                suffix = " desc" if desc else ""
                if nulls_first != desc:
                    suffix += " nulls first" if nulls_first else " nulls last"
                elements.append(text + (" DESC" if desc else ""))
                if elem_key is None or keys is None:
                    keys = None
                else:
                    keys.append(elem_key + suffix)
            include = tuple(known.get(n, f"#{n}") for n in indkey[nkey:])
            plain = all(indkey[:nkey]) and not include and not any(indoption[:nkey])
            if unique and plain and pred is None and method == "btree":
                uniques.setdefault(key, []).append(UniqueInfo(name, tuple(elements), "index"))
                continue
            indexes.setdefault(key, []).append(
                IndexInfo(
                    name=name,
                    elements=tuple(elements),
                    element_keys=tuple(keys) if keys is not None else None,
                    unique=bool(unique),
                    predicate=pred,
                    predicate_key=canonical_key(pred) if pred else None,
                    method=method,
                    include=include,
                )
            )
        return indexes, uniques
