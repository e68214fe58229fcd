"""The schema the models expect, built from SQLAlchemy ``Table`` objects in the live shape.

Types and expressions are compiled with the PostgreSQL dialect (nothing is created) and keyed
the same way as reflected ones, so one comparator serves model-vs-live and live-vs-live.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Computed,
    DefaultClause,
    ForeignKeyConstraint,
    Identity,
    Index,
    Sequence,
    Table,
    UniqueConstraint,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import naming, sqltypes
from sqlalchemy.sql.base import _NONE_NAME
from sqlalchemy.sql.elements import ClauseElement, False_, TextClause, True_
from sqlalchemy.sql.functions import AnsiFunction, FunctionElement
from sqlalchemy.types import TypeDecorator, TypeEngine

from harness.logs import get_logger
from harness.schema.discovery import DiscoveredModels, DiscoveredTable
from harness.schema.snapshot import (
    CheckInfo,
    ColumnInfo,
    EnumInfo,
    ForeignKeyInfo,
    IndexInfo,
    LiveSchema,
    PrimaryKeyInfo,
    TableInfo,
    UniqueInfo,
    qualified,
)
from harness.schema.sqlexpr import canonical_key, canonical_value, split_ordering
from harness.schema.types import normalize_type, type_family

log = get_logger(__name__)

_MAX_IDENTIFIER = 63
_ANY_DEFAULT = "*"


class _Builder:
    def __init__(
        self, dialect: Dialect, default_schema: str, schema_map: Mapping[str, str] | None = None
    ) -> None:
        self.dialect = dialect
        self.default_schema = default_schema
        self.schema_map = dict(schema_map or {})
        self.ddl = dialect.ddl_compiler(dialect, None)  # type: ignore[arg-type]
        self.enums: dict[str, EnumInfo] = {}
        # objects the models declare that PostgreSQL would not build, or declare twice
        self.skipped: list[dict[str, str]] = []
        self.duplicates: list[dict[str, str]] = []

    # -- helpers -------------------------------------------------------------------------
    def sql(self, element: ClauseElement) -> str:
        if isinstance(element, TextClause):
            return element.text
        if isinstance(element, True_ | False_):
            return "true" if isinstance(element, True_) else "false"
        if (
            isinstance(element, FunctionElement)
            and not element.clauses.clauses
            and type(element).__module__ == "sqlalchemy.sql.functions"
            and not hasattr(type(element), "_compiler_dispatcher")
        ):
            # the stock server defaults (now(), gen_random_uuid(), CURRENT_TIMESTAMP) without
            # a compiler round: 25 µs each adds up over thousands of columns. A function of the
            # project's own (a ``@compiles`` rule) always goes through the compiler.
            name = getattr(element, "name", None)
            if isinstance(name, str) and name.isidentifier() and not element.packagenames:
                return name.upper() if isinstance(element, AnsiFunction) else f"{name}()"
        compiled = element.compile(
            dialect=self.dialect, compile_kwargs={"literal_binds": True, "include_table": False}
        )
        return str(compiled)

    def name_of(self, const: Any, table: Table) -> str | None:
        name = const.name
        if name is None or name is _NONE_NAME:
            try:
                name = naming._constraint_name_for_table(const, table)  # type: ignore[no-untyped-call]
            except (KeyError, sa_exc.InvalidRequestError):
                name = None
        if name is None or not isinstance(name, str):
            return None
        return name[:_MAX_IDENTIFIER]

    def schema_of(self, schema: str | None) -> str:
        """The database schema a model's ``schema`` lands in: the app's
        ``schema_translate_map`` (``[tool.harness] schema_map``; "" is the default schema)."""
        mapped = self.schema_map.get(schema or "", schema)
        return mapped or self.default_schema

    def table_key(self, schema: str | None, name: str) -> str:
        return qualified(self.schema_of(schema), name, self.default_schema)

    def impl(self, type_: TypeEngine[Any]) -> TypeEngine[Any]:
        """The type PostgreSQL gets: variants chosen, decorators and emulated types resolved
        to the dialect's implementation (``Interval`` is ``INTERVAL`` here, not a timestamp)."""
        for _ in range(10):
            variant = getattr(type_, "_variant_mapping", {}).get(self.dialect.name)
            if isinstance(variant, TypeEngine) and variant is not type_:
                type_ = variant
                continue
            if isinstance(type_, TypeDecorator):
                resolved = type_.type_engine(self.dialect)
                if resolved is type_:
                    break
                type_ = resolved
                continue
            break
        try:
            return type_.dialect_impl(self.dialect)
        except sa_exc.SQLAlchemyError:
            return type_

    def compile_type(self, column: Column[Any]) -> str:
        """The column's type exactly as ``CREATE TABLE`` would spell it on PostgreSQL."""
        compiler = self.dialect.type_compiler_instance
        try:
            return compiler.process(column.type, type_expression=column)
        except (sa_exc.SQLAlchemyError, TypeError, AttributeError, NotImplementedError) as exc:
            try:
                return compiler.process(self.impl(column.type))
            except (sa_exc.SQLAlchemyError, TypeError, AttributeError, NotImplementedError):
                log.warning(
                    "schema.model.type_not_compilable", type=repr(column.type), error=str(exc)
                )
                return repr(column.type)

    def creates(self, item: Any) -> bool:
        """Whether ``CREATE`` on PostgreSQL would build ``item`` (``ddl_if``, create rules)."""
        rule = getattr(item, "_create_rule", None)
        try:
            if rule is not None and not rule(self.ddl):
                return False
            condition = getattr(item, "_ddl_if", None)
            if condition is None:
                return True
            return bool(
                condition._should_execute(None, item, None, compiler=self.ddl, checkfirst=False)
            )
        except Exception as exc:  # noqa: BLE001 - a user's callable: assume it is built
            log.warning("schema.model.ddl_if_failed", object=repr(item), error=str(exc))
            return True

    def skip(self, table: Table, what: str, name: str | None, reason: str) -> None:
        self.skipped.append(
            {"table": table.fullname, "object": f"{what} {name or '(unnamed)'}", "reason": reason}
        )

    def enum_of(self, inner: TypeEngine[Any]) -> str | None:
        if isinstance(inner, sqltypes.ARRAY):
            inner = self.impl(inner.item_type)
        if isinstance(inner, sqltypes.Enum) and inner.native_enum and inner.name:
            schema = self.schema_of(inner.schema)
            key = qualified(schema, inner.name, self.default_schema)
            self.enums.setdefault(key, EnumInfo(schema, inner.name, key, tuple(inner.enums)))
            return key
        return None

    # -- columns -------------------------------------------------------------------------
    def column(self, col: Column[Any], position: int, serial: Column[Any] | None) -> ColumnInfo:
        impl = self.impl(col.type)
        type_text = self.compile_type(col)
        collation = getattr(impl, "collation", None)
        if " COLLATE " in type_text:
            type_text = type_text.split(" COLLATE ", 1)[0]
        type_key = normalize_type(type_text, self.default_schema)
        default: str | None = None
        default_key: str | None = None
        identity: str | None = None
        computed: str | None = None
        generated = False
        server_default = col.server_default
        if isinstance(col.identity, Identity):
            identity = "always" if col.identity.always else "by default"
            generated = True
        elif isinstance(col.computed, Computed):
            computed = self.sql(col.computed.sqltext)
        elif isinstance(server_default, DefaultClause):
            arg = server_default.arg
            default = _quote(arg) if isinstance(arg, str) else self.sql(arg)
            default_key = canonical_value(default, type_family(type_key)) or default
        elif server_default is not None:  # FetchedValue: the database fills it in somehow
            default, default_key = "(set by the database)", _ANY_DEFAULT
        elif isinstance(col.default, Sequence):
            default, default_key = f"nextval('{col.default.name}')", _ANY_DEFAULT
            generated = True
        elif col is serial and col.autoincrement in ("auto", True):
            generated = True
        return ColumnInfo(
            name=col.name,
            type=type_key,
            type_key=type_key,
            nullable=bool(col.nullable),
            position=position,
            default=default,
            default_key=default_key,
            generated_by_db=generated,
            identity=identity,
            computed=computed,
            enum=self.enum_of(impl),
            collation=collation if isinstance(collation, str) else None,
        )

    # -- constraints ---------------------------------------------------------------------
    def foreign_key(self, fk: ForeignKeyConstraint, table: Table) -> ForeignKeyInfo:
        ref_columns: list[str] = []
        ref_table = ""
        for element in fk.elements:
            try:
                target = element.column
                ref_table = self.table_key(target.table.schema, target.table.name)
                ref_columns.append(target.name)
            except sa_exc.SQLAlchemyError:
                spec = element.target_fullname.rsplit(".", 1)
                ref_table = spec[0] if len(spec) == 2 else ref_table
                ref_columns.append(spec[-1])
        if ref_table.startswith(self.default_schema + "."):
            ref_table = ref_table[len(self.default_schema) + 1 :]
        return ForeignKeyInfo(
            name=self.name_of(fk, table),
            columns=tuple(fk.column_keys if not fk.columns else [c.name for c in fk.columns]),
            ref_table=ref_table,
            ref_columns=tuple(ref_columns),
            on_delete=(fk.ondelete or "NO ACTION").upper(),
            on_update=(fk.onupdate or "NO ACTION").upper(),
            deferrable=bool(fk.deferrable),
            initially_deferred=(fk.initially or "").upper() == "DEFERRED",
        )

    def check(self, ck: CheckConstraint, table: Table) -> CheckInfo:
        text = self.sql(ck.sqltext)
        name = self.name_of(ck, table) or _default_check_name(table, text)
        return CheckInfo(name, text, canonical_key(text))

    def index(self, ix: Index, table: Table) -> IndexInfo:
        elements: list[str] = []
        keys: list[str] | None = []
        for expr in ix.expressions:
            if isinstance(expr, Column):
                text, desc, nulls = expr.name, False, None
                key: str | None = repr(("col", expr.name))
            elif isinstance(expr, str):
                text, desc, nulls = split_ordering(expr)
                key = canonical_key(text)
            else:
                text, desc, nulls = split_ordering(self.sql(expr))
                key = canonical_key(text)
            elements.append(text + (" DESC" if desc else ""))
            if key is None or keys is None:
                keys = None
            else:
                keys.append(key + (" desc" if desc else "") + _nulls(nulls))
        options = ix.dialect_options["postgresql"]
        where = options.get("where")
        predicate = self.sql(where) if isinstance(where, ClauseElement) else where
        include = tuple(
            c if isinstance(c, str) else str(getattr(c, "name", c))
            for c in (options.get("include") or ())
        )
        return IndexInfo(
            name=self.name_of(ix, table),
            elements=tuple(elements),
            element_keys=tuple(keys) if keys is not None else None,
            unique=bool(ix.unique),
            predicate=predicate,
            predicate_key=canonical_key(predicate) if predicate else None,
            method=str(options.get("using") or "btree").lower(),
            include=include,
        )

    def table(self, found: DiscoveredTable) -> TableInfo:
        table = found.table
        schema = self.schema_of(table.schema)
        serial = table.autoincrement_column
        columns = {c.name: self.column(c, i + 1, serial) for i, c in enumerate(table.columns)}
        pk = table.primary_key
        primary_key = (
            PrimaryKeyInfo(self.name_of(pk, table), tuple(c.name for c in pk.columns))
            if pk is not None and len(pk.columns)
            else None
        )
        fks: list[ForeignKeyInfo] = []
        uniques: list[UniqueInfo] = []
        checks: list[CheckInfo] = []
        for const in sorted(table.constraints, key=lambda c: c._creation_order):
            if const is pk:
                continue
            if not self.creates(const):
                name = const.name if isinstance(const.name, str) else None
                self.skip(table, type(const).__name__, name, "not created on PostgreSQL")
                continue
            if isinstance(const, ForeignKeyConstraint):
                self.once(table, fks, self.foreign_key(const, table), "foreign key", _fk_signature)
            elif isinstance(const, UniqueConstraint):
                cols = tuple(c.name for c in const.columns)
                unique = UniqueInfo(self.name_of(const, table), cols, "constraint")
                self.once(table, uniques, unique, "unique", _unique_signature)
            elif isinstance(const, CheckConstraint):
                checks.append(self.check(const, table))
        indexes: list[IndexInfo] = []
        for ix in sorted(table.indexes, key=lambda i: i.name or ""):
            if not self.creates(ix):
                self.skip(table, "index", ix.name, "not created on PostgreSQL (ddl_if)")
                continue
            info_ix = self.index(ix, table)
            plain = all(isinstance(e, Column) for e in ix.expressions)
            if info_ix.unique and plain and not info_ix.predicate and info_ix.method == "btree":
                unique = UniqueInfo(info_ix.name, info_ix.elements, "index")
                self.once(table, uniques, unique, "unique", _unique_signature)
            else:
                self.once(table, indexes, info_ix, "index", _index_signature)
        return TableInfo(
            schema=schema,
            name=table.name,
            key=qualified(schema, table.name, self.default_schema),
            columns=columns,
            primary_key=primary_key,
            foreign_keys=tuple(fks),
            uniques=tuple(uniques),
            checks=tuple(checks),
            indexes=tuple(indexes),
            mapped_by=found.classes,
        )

    def once(
        self,
        table: Table,
        into: list[Any],
        item: Any,
        what: str,
        signature: Callable[[Any], object],
    ) -> None:
        """Append ``item`` unless an object enforcing the same thing (or one of the same name,
        which PostgreSQL cannot hold twice) is already there: declared twice, built once."""
        sig = signature(item)
        for other in into:
            if signature(other) == sig or (item.name and other.name == item.name):
                self.duplicates.append(
                    {
                        "table": table.fullname,
                        "object": f"{what} {item.name or '(unnamed)'}",
                        "same_as": other.name or "(unnamed)",
                    }
                )
                return
        into.append(item)


def _default_check_name(table: Table, text: str) -> str:
    """The name PostgreSQL gives an unnamed CHECK: ``<table>_<first column>_check`` (the
    first of the table's columns the expression mentions), else ``<table>_check``: what an
    expression the parser cannot read is still matched by."""
    names = {c.name for c in table.columns}
    first = None
    for quoted, bare in re.findall(r'"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*)', text):
        word = quoted.replace('""', '"') if quoted else bare
        if word in names:
            first = word
            break
    base = f"{table.name}_{first}_check" if first else f"{table.name}_check"
    return base[:_MAX_IDENTIFIER]


def _fk_signature(fk: ForeignKeyInfo) -> object:
    return (fk.target, fk.on_delete, fk.on_update, fk.deferrable, fk.initially_deferred)


def _unique_signature(unique: UniqueInfo) -> object:
    return frozenset(unique.columns)


def _index_signature(ix: IndexInfo) -> object:
    return ix.signature if ix.signature is not None else ("name", ix.name)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _nulls(nulls_first: bool | None) -> str:
    if nulls_first is None:
        return ""
    return " nulls first" if nulls_first else " nulls last"


def model_schema(
    discovered: DiscoveredModels | Iterable[DiscoveredTable],
    dialect: Dialect | None = None,
    *,
    default_schema: str = "public",
    schema_map: Mapping[str, str] | None = None,
) -> LiveSchema:
    """The expected schema of the discovered models, in the shape of a reflected one."""
    builder = _Builder(dialect or postgresql.dialect(), default_schema, schema_map)  # type: ignore[no-untyped-call]
    found = discovered.tables if isinstance(discovered, DiscoveredModels) else tuple(discovered)
    schema = LiveSchema(source="models", default_schema=default_schema)
    for item in found:
        info = builder.table(item)
        schema.tables[info.key] = info
    schema.enums = dict(builder.enums)
    schema.skipped = list(builder.skipped)
    schema.duplicates = list(builder.duplicates)
    return schema
