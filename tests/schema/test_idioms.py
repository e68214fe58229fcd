"""Real-world model idioms against databases built the way hand-written migrations build them
(plain DDL, never ``create_all`` from the same models): the clean case has zero findings, and a
real drift next to it is still found. Each case is one idiom seen in open-source projects.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from harness.db import ClonedDatabase
from harness.schema.check import check_schema
from tests.schema.conftest import execute

MakePackage = Callable[[dict[str, str]], str]

HEADER = """
import datetime as dt
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy import (
    JSON, BigInteger, Boolean, CheckConstraint, Column, Computed, DateTime, Enum, FetchedValue,
    ForeignKey, ForeignKeyConstraint, Identity, Index, Integer, Interval, MetaData, Numeric,
    String, Text, UniqueConstraint, Uuid, func, text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })
"""


@dataclass(frozen=True)
class Idiom:
    models: str
    ddl: str
    drift: tuple[str, ...]
    kind: str  # the finding the drift must produce
    column: str | None = None
    # findings the clean case may have (kind, severity): the real difference named at its level
    clean: tuple[tuple[str, str], ...] = ()


IDIOMS: dict[str, Idiom] = {
    "compiles_rule_server_default": Idiom(
        """
        class uuid_default(FunctionElement):
            type = Uuid()
            inherit_cache = True
            name = "uuid_default"

        @compiles(uuid_default, "postgresql")
        def _pg(element, compiler, **kw):
            return "gen_random_uuid()"

        class Thing(Base):
            __tablename__ = "thing"
            id: Mapped[uuid.UUID] = mapped_column(primary_key=True, server_default=uuid_default())
        """,
        "CREATE TABLE thing (id uuid DEFAULT gen_random_uuid() NOT NULL, "
        "CONSTRAINT pk_thing PRIMARY KEY (id))",
        ("ALTER TABLE thing ALTER COLUMN id DROP DEFAULT",),
        "default_mismatch",
        "id",
    ),
    "constant_default_in_another_spelling": Idiom(
        """
        class Thing(Base):
            __tablename__ = "thing"
            id: Mapped[int] = mapped_column(primary_key=True)
            timeout: Mapped[dt.timedelta] = mapped_column(server_default="0")
            config = mapped_column(postgresql.JSONB, server_default="{}", nullable=False)
            loose = mapped_column(JSON, server_default="[]", nullable=False)
            price = mapped_column(Numeric(10, 2), server_default="0", nullable=False)
            big = mapped_column(BigInteger, server_default="1e3", nullable=False)
            label = mapped_column(String(20), server_default="", nullable=False)
            on = mapped_column(Boolean, server_default="0", nullable=False)
            tags = mapped_column(postgresql.ARRAY(Text), server_default="{}", nullable=False)
        """,
        "CREATE TABLE thing (id serial NOT NULL, "
        "timeout interval DEFAULT '00:00:00'::interval NOT NULL, "
        "config jsonb DEFAULT '{}'::jsonb NOT NULL, loose json DEFAULT '[]'::json NOT NULL, "
        "price numeric(10,2) DEFAULT 0.00 NOT NULL, big bigint DEFAULT 1000 NOT NULL, "
        "label varchar(20) DEFAULT ''::character varying NOT NULL, "
        "\"on\" boolean DEFAULT false NOT NULL, tags text[] DEFAULT '{}'::text[] NOT NULL, "
        "CONSTRAINT pk_thing PRIMARY KEY (id))",
        ("ALTER TABLE thing ALTER COLUMN timeout SET DEFAULT '1 day'",),
        "default_mismatch",
        "timeout",
    ),
    "interval_type": Idiom(
        """
        class Thing(Base):
            __tablename__ = "thing"
            id: Mapped[int] = mapped_column(primary_key=True)
            every = mapped_column(Interval, nullable=True)
            uid = mapped_column(Uuid, nullable=True)
            ts = mapped_column(DateTime(timezone=True), nullable=True)
        """,
        "CREATE TABLE thing (id serial CONSTRAINT pk_thing PRIMARY KEY, every interval, "
        "uid uuid, ts timestamptz)",
        ("ALTER TABLE thing ALTER COLUMN ts TYPE timestamp",),
        "type_mismatch",
        "ts",
    ),
    "type_decorator_and_variants": Idiom(
        """
        class JSONish(TypeDecorator):
            impl = Text
            cache_ok = True
            def load_dialect_impl(self, dialect):
                if dialect.name == "postgresql":
                    return dialect.type_descriptor(postgresql.JSONB())
                return dialect.type_descriptor(Text())

        class UtcDateTime(TypeDecorator):
            impl = DateTime(timezone=True)
            cache_ok = True

        class Color(enum.Enum):
            red = "red"
            blue = "blue"

        class Thing(Base):
            __tablename__ = "thing"
            id: Mapped[int] = mapped_column(primary_key=True)
            meta = mapped_column(JSONish, nullable=True)
            data = mapped_column(JSON().with_variant(postgresql.JSONB(), "postgresql"))
            big = mapped_column(Text().with_variant(String(10), "mysql"), nullable=True)
            when = mapped_column(UtcDateTime, nullable=True)
            color = mapped_column(Enum(Color, native_enum=False, length=10), nullable=True)
            pickled = mapped_column(sa.PickleType, nullable=True)
        """,
        "CREATE TABLE thing (id serial CONSTRAINT pk_thing PRIMARY KEY, meta jsonb, data jsonb, "
        'big text, "when" timestamp with time zone, color varchar(10), pickled bytea)',
        ("ALTER TABLE thing ALTER COLUMN meta TYPE text",),
        "type_mismatch",
        "meta",
    ),
    "ddl_if_other_dialect": Idiom(
        """
        class Thing(Base):
            __tablename__ = "thing"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(String(40))
            __table_args__ = (
                Index("ix_sqlite_name", "name").ddl_if(dialect="sqlite"),
                Index("ix_pg_name", "name").ddl_if(dialect="postgresql"),
                CheckConstraint("length(name) < 30", name="mysql_only").ddl_if(dialect="mysql"),
            )
        """,
        "CREATE TABLE thing (id serial CONSTRAINT pk_thing PRIMARY KEY, name varchar(40) NOT NULL);"
        "CREATE INDEX ix_pg_name ON thing (name)",
        ("DROP INDEX ix_pg_name",),
        "index_missing",
    ),
    "foreign_key_declared_twice": Idiom(
        """
        class Parent(Base):
            __tablename__ = "parent"
            id: Mapped[int] = mapped_column(primary_key=True)

        class Child(Base):
            __tablename__ = "child"
            id: Mapped[int] = mapped_column(primary_key=True)
            parent_id: Mapped[int] = mapped_column(ForeignKey("parent.id", ondelete="CASCADE"))
            __table_args__ = (
                ForeignKeyConstraint(
                    ["parent_id"], ["parent.id"], name="fk_child_parent", ondelete="CASCADE"
                ),
            )
        """,
        "CREATE TABLE parent (id serial CONSTRAINT pk_parent PRIMARY KEY);"
        "CREATE TABLE child (id serial CONSTRAINT pk_child PRIMARY KEY, parent_id int NOT NULL "
        "CONSTRAINT fk_child_parent REFERENCES parent (id) ON DELETE CASCADE)",
        ("ALTER TABLE child DROP CONSTRAINT fk_child_parent",),
        "foreign_key_missing",
    ),
    "index_declared_twice_under_one_name": Idiom(
        """
        class Thing(Base):
            __tablename__ = "thing"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(String(40), index=True)
            __table_args__ = (Index("ix_thing_name", "name"),)
        """,
        "CREATE TABLE thing (id serial CONSTRAINT pk_thing PRIMARY KEY, name varchar(40) NOT NULL);"
        "CREATE INDEX ix_thing_name ON thing (name)",
        ("DROP INDEX ix_thing_name",),
        "index_missing",
    ),
    "partial_unique_index_equivalent_to_constraint": Idiom(
        """
        class Flow(Base):
            __tablename__ = "flow"
            id: Mapped[int] = mapped_column(primary_key=True)
            deployment_id: Mapped[int] = mapped_column()
            slug: Mapped[str | None] = mapped_column(String(40))
            __table_args__ = (UniqueConstraint("deployment_id", "slug"),)
        """,
        "CREATE TABLE flow (id serial CONSTRAINT pk_flow PRIMARY KEY, deployment_id int NOT NULL, "
        "slug varchar(40));"
        "CREATE UNIQUE INDEX uq_flow_deployment_id ON flow (deployment_id, slug) "
        "WHERE slug IS NOT NULL",
        (
            "DROP INDEX uq_flow_deployment_id",
            "ALTER TABLE flow ADD COLUMN deleted boolean",
            "CREATE UNIQUE INDEX uq_flow_live ON flow (deployment_id, slug) WHERE deleted IS NULL",
        ),
        "unique_missing",
        clean=(("unique_predicate_mismatch", "warning"),),
    ),
    "mixins_computed_identity_fetched": Idiom(
        """
        class Stamped:
            @declared_attr
            def created(cls) -> Mapped[dt.datetime]:
                return mapped_column(DateTime(timezone=True), server_default=func.now())

        class Thing(Stamped, Base):
            __tablename__ = "thing"
            id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
            price = mapped_column(Numeric(10, 2), nullable=False)
            doubled = mapped_column(Numeric(12, 2), Computed("price * 2"))
            touched = mapped_column(DateTime, server_default=FetchedValue(), nullable=True)
            seq = mapped_column(Integer, Identity(), nullable=False)
        """,
        "CREATE TABLE thing (id bigint GENERATED ALWAYS AS IDENTITY, price numeric(10,2) NOT NULL, "
        "doubled numeric(12,2) GENERATED ALWAYS AS (price * 2::numeric) STORED, "
        "touched timestamp DEFAULT clock_timestamp(), "
        "seq integer GENERATED BY DEFAULT AS IDENTITY, "
        "created timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL, "
        "CONSTRAINT pk_thing PRIMARY KEY (id))",
        ("ALTER TABLE thing DROP COLUMN created",),
        "missing_column",
        "created",
    ),
    "server_default_text_and_arrays": Idiom(
        """
        class Thing(Base):
            __tablename__ = "thing"
            id: Mapped[int] = mapped_column(primary_key=True)
            tags = mapped_column(
                postgresql.ARRAY(String(20)), server_default=text("'{}'::varchar[]"),
                nullable=False,
            )
            blob = mapped_column(
                JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
                server_default=text("'{}'::jsonb"), nullable=False,
            )
            at = mapped_column(
                DateTime(timezone=True), server_default=text("timezone('utc', now())"),
                nullable=False,
            )
        """,
        "CREATE TABLE thing (id serial CONSTRAINT pk_thing PRIMARY KEY, "
        "tags varchar(20)[] DEFAULT '{}'::character varying[] NOT NULL, "
        "blob jsonb DEFAULT '{}'::jsonb NOT NULL, "
        "at timestamptz DEFAULT timezone('utc'::text, now()) NOT NULL)",
        ("ALTER TABLE thing ALTER COLUMN tags TYPE text[]",),
        "type_mismatch",
        "tags",
    ),
    "native_enum_and_boolean_constraints": Idiom(
        """
        class State(enum.Enum):
            draft = "draft"
            live = "live"

        class Thing(Base):
            __tablename__ = "thing"
            id: Mapped[int] = mapped_column(primary_key=True)
            state = mapped_column(Enum(State, name="thing_state"), nullable=False)
            flag = mapped_column(Boolean(create_constraint=True, name="flag_bool"), nullable=True)
            kind = mapped_column(
                Enum("a", "b", name="kind", native_enum=False, create_constraint=False,
                     length=5),
                nullable=True,
            )
        """,
        "CREATE TYPE thing_state AS ENUM ('draft', 'live');"
        "CREATE TABLE thing (id serial CONSTRAINT pk_thing PRIMARY KEY, "
        "state thing_state NOT NULL, flag boolean, kind varchar(5))",
        ("ALTER TYPE thing_state RENAME VALUE 'live' TO 'published'",),
        "enum_mismatch",
    ),
}


@pytest.mark.parametrize("name", sorted(IDIOMS))
def test_idiom_is_clean_and_its_drift_is_found(
    name: str, blank_db: ClonedDatabase, models_package: MakePackage
) -> None:
    idiom = IDIOMS[name]
    package = models_package({"models.py": HEADER + textwrap.dedent(idiom.models)})
    execute(blank_db.url, *[s for s in idiom.ddl.split(";") if s.strip()])
    clean = check_schema(blank_db.url, [package])
    assert [(f.kind, f.severity) for f in clean.findings] == list(idiom.clean), [
        f.message for f in clean.findings
    ]
    assert clean.ok
    execute(blank_db.url, *idiom.drift)
    drifted = check_schema(blank_db.url, [package])
    found = [f for f in drifted.findings if f.kind == idiom.kind]
    assert found, [f.message for f in drifted.findings]
    if idiom.column is not None:
        assert idiom.column in {f.column for f in found}


def test_schema_translate_map_is_honoured(
    blank_db: ClonedDatabase, models_package: MakePackage
) -> None:
    """Models written for a placeholder schema the app maps at run time
    (``execution_options(schema_translate_map={"tenant": "public"})``)."""
    package = models_package(
        {
            "models.py": HEADER
            + textwrap.dedent(
                """
                class Thing(Base):
                    __tablename__ = "thing"
                    __table_args__ = {"schema": "tenant"}
                    id: Mapped[int] = mapped_column(primary_key=True)
                """
            )
        }
    )
    execute(blank_db.url, "CREATE TABLE thing (id serial CONSTRAINT pk_thing PRIMARY KEY)")
    assert check_schema(blank_db.url, [package], schema_map={"tenant": "public"}).findings == []
    unmapped = check_schema(blank_db.url, [package]).findings
    assert "missing_table" in {f.kind for f in unmapped}
    execute(blank_db.url, "DROP TABLE thing")
    drifted = check_schema(blank_db.url, [package], schema_map={"tenant": "public"}).findings
    assert [(f.kind, f.table) for f in drifted] == [("missing_table", "thing")]


def test_an_unnamed_check_the_parser_cannot_read_is_matched_by_postgresql_s_name(
    blank_db: ClonedDatabase, models_package: MakePackage
) -> None:
    package = models_package(
        {
            "models.py": """
                from sqlalchemy import CheckConstraint, Integer, Text
                from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

                class Base(DeclarativeBase):
                    pass

                class Note(Base):
                    __tablename__ = "note"
                    id: Mapped[int] = mapped_column(Integer, primary_key=True)
                    body: Mapped[str] = mapped_column(Text)
                    __table_args__ = (CheckConstraint("position('@' in body) = 0"),)
            """
        }
    )
    execute(
        blank_db.url,
        "CREATE TABLE note (id serial PRIMARY KEY, body text NOT NULL, "
        "CHECK (position('@' in body) = 0))",
    )
    result = check_schema(blank_db.url, [package])
    assert result.findings == [], [f.message for f in result.findings]
    assert result.metrics["compared_by_name"] == 1
    execute(blank_db.url, "ALTER TABLE note DROP CONSTRAINT note_body_check")
    assert "check_missing" in {f.kind for f in check_schema(blank_db.url, [package]).findings}
