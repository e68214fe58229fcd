"""A schema snapshot: what the models expect, or what a live database has. One shape for both.

Every comparable part carries a display form (what people read) and a key (what is compared):
``type``/``type_key``, ``default``/``default_key``, ``expression``/``key``. Keys come from
:mod:`harness.schema.types` and :mod:`harness.schema.sqlexpr`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

RelationKind = Literal["table", "view", "materialized view", "foreign table"]


def qualified(schema: str, name: str, default_schema: str) -> str:
    """The key of an object: bare in the default schema, ``schema.name`` elsewhere."""
    return name if schema == default_schema else f"{schema}.{name}"


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    name: str
    type: str
    type_key: str
    nullable: bool
    position: int
    default: str | None = None
    # None: no default; "*": some server-side default whose value we cannot know
    default_key: str | None = None
    generated_by_db: bool = False  # serial / identity / a sequence default
    identity: str | None = None  # "always" | "by default"
    computed: str | None = None  # a generated column's expression
    enum: str | None = None  # key of the enum type used (directly or as array element)
    collation: str | None = None  # a collation other than the type's default

    @property
    def has_default(self) -> bool:
        return self.default is not None or self.generated_by_db or self.computed is not None

    def describe(self) -> str:
        parts = [self.type, "NULL" if self.nullable else "NOT NULL"]
        if self.identity:
            parts.append(f"identity {self.identity}")
        elif self.default is not None:
            parts.append(f"default {self.default}")
        elif self.generated_by_db:
            parts.append("serial")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class PrimaryKeyInfo:
    name: str | None
    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ForeignKeyInfo:
    name: str | None
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str = "NO ACTION"
    on_update: str = "NO ACTION"
    deferrable: bool = False
    initially_deferred: bool = False

    @property
    def timing(self) -> str:
        if not self.deferrable:
            return "NOT DEFERRABLE"
        return "DEFERRABLE INITIALLY " + ("DEFERRED" if self.initially_deferred else "IMMEDIATE")

    @property
    def target(self) -> tuple[tuple[str, ...], str, tuple[str, ...]]:
        return (self.columns, self.ref_table, self.ref_columns)

    def describe(self) -> str:
        text = f"({', '.join(self.columns)}) → {self.ref_table}({', '.join(self.ref_columns)})"
        if self.on_delete != "NO ACTION":
            text += f" ON DELETE {self.on_delete}"
        if self.on_update != "NO ACTION":
            text += f" ON UPDATE {self.on_update}"
        if self.deferrable:
            text += f" {self.timing}"
        return text


@dataclass(frozen=True, slots=True)
class UniqueInfo:
    name: str | None
    columns: tuple[str, ...]
    via: Literal["constraint", "index"] = "constraint"

    def describe(self) -> str:
        return f"UNIQUE ({', '.join(self.columns)})"


@dataclass(frozen=True, slots=True)
class CheckInfo:
    name: str | None
    expression: str
    key: str | None  # None: could not be canonicalized; compared by name


@dataclass(frozen=True, slots=True)
class ExclusionInfo:
    name: str | None
    definition: str  # pg_get_constraintdef: EXCLUDE USING gist (room WITH =, during WITH &&)

    @property
    def key(self) -> str:
        return " ".join(self.definition.split()).lower()


@dataclass(frozen=True, slots=True)
class IndexInfo:
    name: str | None
    elements: tuple[str, ...]
    element_keys: tuple[str, ...] | None  # None: an element could not be canonicalized
    unique: bool = False
    predicate: str | None = None
    predicate_key: str | None = None
    method: str = "btree"
    include: tuple[str, ...] = ()

    @property
    def column_list(self) -> str | None:
        """``"a, b"`` when every element is a plain column, else ``None``."""
        keys = self.element_keys or ()
        if not keys or not all(k.startswith("('col',") for k in keys):
            return None
        return ", ".join(self.elements)

    @property
    def signature(self) -> tuple[object, ...] | None:
        if self.element_keys is None or (self.predicate and self.predicate_key is None):
            return None
        return (self.element_keys, self.unique, self.predicate_key, self.method, self.include)

    def describe(self) -> str:
        text = f"{'UNIQUE ' if self.unique else ''}INDEX ({', '.join(self.elements)})"
        if self.method != "btree":
            text += f" USING {self.method}"
        if self.include:
            text += f" INCLUDE ({', '.join(self.include)})"
        if self.predicate:
            text += f" WHERE {self.predicate}"
        return text


@dataclass(frozen=True, slots=True)
class TableInfo:
    schema: str
    name: str
    key: str
    columns: dict[str, ColumnInfo]
    primary_key: PrimaryKeyInfo | None = None
    foreign_keys: tuple[ForeignKeyInfo, ...] = ()
    uniques: tuple[UniqueInfo, ...] = ()
    checks: tuple[CheckInfo, ...] = ()
    indexes: tuple[IndexInfo, ...] = ()
    exclusions: tuple[ExclusionInfo, ...] = ()
    kind: RelationKind = "table"
    mapped_by: tuple[str, ...] = ()
    partition_of: str | None = None  # key of the partitioned table this one is a partition of
    partition_bound: str | None = None  # e.g. FOR VALUES FROM ('2025-01-01') TO (…)
    partition_key: str | None = None  # a partitioned table's PARTITION BY, e.g. RANGE (at)


@dataclass(frozen=True, slots=True)
class EnumInfo:
    schema: str
    name: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SequenceInfo:
    key: str
    data_type: str
    start: int
    increment: int
    minimum: int
    maximum: int
    cycle: bool
    owned_by: str | None = None

    def describe(self) -> str:
        text = f"{self.data_type} start {self.start} increment {self.increment}"
        text += f" min {self.minimum} max {self.maximum}{' cycle' if self.cycle else ''}"
        if self.owned_by:
            text += f" owned by {self.owned_by}"
        return text


@dataclass(frozen=True, slots=True)
class ViewInfo:
    key: str
    kind: RelationKind
    definition: str

    @property
    def definition_key(self) -> str:
        return " ".join(self.definition.split()).rstrip(";")


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    key: str  # schema-qualified signature, e.g. "touch_updated_at()"
    kind: str  # "function" | "procedure" | "aggregate" | "window"
    language: str
    result: str | None
    definition: str

    @property
    def definition_key(self) -> str:
        return " ".join(self.definition.split())


@dataclass(frozen=True, slots=True)
class ExtensionInfo:
    name: str
    version: str
    schema: str


@dataclass(frozen=True, slots=True)
class TriggerInfo:
    key: str  # "table.trigger" (schema-qualified outside the default schema)
    table: str
    name: str
    definition: str
    enabled: str  # O origin, D disabled, R replica, A always

    @property
    def definition_key(self) -> str:
        return " ".join(self.definition.split())


@dataclass(slots=True)
class LiveSchema:
    """Tables (with views mappable as tables), enums, sequences, views and functions."""

    source: str
    default_schema: str = "public"
    tables: dict[str, TableInfo] = field(default_factory=dict)
    enums: dict[str, EnumInfo] = field(default_factory=dict)
    sequences: dict[str, SequenceInfo] = field(default_factory=dict)
    views: dict[str, ViewInfo] = field(default_factory=dict)
    functions: dict[str, FunctionInfo] = field(default_factory=dict)
    extensions: dict[str, ExtensionInfo] = field(default_factory=dict)
    triggers: dict[str, TriggerInfo] = field(default_factory=dict)
    schemas: tuple[str, ...] = ()  # the schemas compared that exist here
    server_version: str | None = None
    queries: int = 0
    # Things a comparison should know: e.g. model tables defined twice under different Bases.
    notes: list[str] = field(default_factory=list)
    # model side: declared objects PostgreSQL would not build, and declarations merged as one
    skipped: list[dict[str, str]] = field(default_factory=list)
    duplicates: list[dict[str, str]] = field(default_factory=list)

    @property
    def column_count(self) -> int:
        return sum(len(t.columns) for t in self.tables.values())
