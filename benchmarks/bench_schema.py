"""Benchmark: ``harness schema check`` core against alembic's compare_metadata.

Builds a synthetic schema of N tables (default 1,000: PK, indexed name, money, status with a
check, timestamps, an FK chain, a composite unique) spread over ``--schemas`` schemas (default
4), plus a partitioned table with four partitions per schema, a view per 50 tables and a
trigger per 20 tables, on a PostgreSQL server, then times, on the same database and the same
MetaData:

* alembic ``compare_metadata`` (compare_type, compare_server_default),
* bare bulk reflection with SQLAlchemy's ``Inspector.get_multi_*``,
* the harness: ``reflect_schema`` + ``model_schema`` + ``compare`` (and must find nothing),
* the whole ``harness schema check --db URL --models …`` process (start-up, model import,
  reflection, compare), which must take less than alembic's in-process compare alone.

Usage::

    .venv/bin/python benchmarks/bench_schema.py [--tables 1000] [--repeat 5]
        [--url postgresql://postgres@127.0.0.1:5432/postgres] [--keep]

Prints the figures and the two ratios the issue asks for (≥ 7x faster than alembic,
≤ 2x bare bulk reflection). The database is dropped afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from psycopg import sql
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    MetaData,
    Numeric,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    func,
    inspect,
    text,
)
from sqlalchemy.pool import NullPool

from harness.schema.compare import compare
from harness.schema.discovery import DiscoveredTable
from harness.schema.expected import model_schema
from harness.schema.reflect import reflect_schema

DEFAULT_URL = os.environ.get("HARNESS_PG15_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = "harness_bench_schema"
CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def schema_of(i: int, schemas: int) -> str | None:
    n = i % schemas
    return None if n == 0 else f"s{n}"


def build_metadata(count: int, schemas: int = 1) -> MetaData:
    metadata = MetaData(naming_convention=CONVENTION)
    for n in range(schemas):
        Table(
            "events",
            metadata,
            Column("id", BigInteger, nullable=False),
            Column("at", DateTime(timezone=True), nullable=False),
            Column("body", String(200)),
            schema=None if n == 0 else f"s{n}",
            postgresql_partition_by="RANGE (at)",
        )
    for i in range(count):
        name = f"t{i:04d}"
        schema = schema_of(i, schemas)
        columns: list[Any] = [
            Column("id", BigInteger, primary_key=True),
            Column("name", String(64), nullable=False, index=True),
            Column("amount", Numeric(12, 2), nullable=False, server_default=text("0")),
            Column("status", String(16), nullable=False, server_default=text("'pending'")),
            Column(
                "created_at", DateTime(timezone=True), nullable=False, server_default=func.now()
            ),
            Column(
                "updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()
            ),
        ]
        if i:
            parent = schema_of(i - 1, schemas)
            target = f"{parent}.t{i - 1:04d}.id" if parent else f"t{i - 1:04d}.id"
            columns.append(Column("parent_id", BigInteger, ForeignKey(target, ondelete="CASCADE")))
        Table(
            name,
            metadata,
            *columns,
            CheckConstraint("status IN ('pending', 'paid', 'failed')", name="status_valid"),
            UniqueConstraint("name", "parent_id" if i else "status"),
            schema=schema,
        )
    return metadata


def extras(count: int, schemas: int) -> list[str]:
    """What models do not hold but a real schema has: partitions, views, triggers."""
    statements = [f"CREATE SCHEMA IF NOT EXISTS s{n}" for n in range(1, schemas)]
    statements.append(
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$"
    )
    for n in range(schemas):
        where = "" if n == 0 else f"s{n}."
        for q in range(4):
            start = f"2025-{3 * q + 1:02d}-01"
            end = f"{2025 + (q == 3)}-{(3 * q + 4) % 12 or 12:02d}-01"
            statements.append(
                f"CREATE TABLE {where}events_q{q + 1} PARTITION OF {where}events FOR VALUES "
                f"FROM ('{start}') TO ('{end}')"
            )
    for i in range(0, count, 50):
        where = f"{schema_of(i, schemas)}." if schema_of(i, schemas) else ""
        statements.append(
            f"CREATE VIEW {where}v{i:04d} AS SELECT id, name, amount FROM {where}t{i:04d} "
            "WHERE status = 'paid'"
        )
    for i in range(0, count, 20):
        where = f"{schema_of(i, schemas)}." if schema_of(i, schemas) else ""
        statements.append(
            f"CREATE TRIGGER t{i:04d}_touch BEFORE UPDATE ON {where}t{i:04d} "
            "FOR EACH ROW EXECUTE FUNCTION touch()"
        )
    return statements


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def admin(url: str) -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(url, autocommit=True)


def database_url(url: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{DB_NAME}"


def whole_process(url: str, tables: int, schemas: int) -> float:
    """Wall time of the CLI in a fresh interpreter, models imported from a generated module."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "bench_models.py").write_text(
            "from benchmarks.bench_schema import build_metadata\n"
            f"metadata = build_metadata({tables}, {schemas})\n"
        )
        env = {**os.environ, "PYTHONPATH": f"{tmp}:{Path(__file__).resolve().parents[1]}"}
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "harness.cli.main",
                    "schema",
                    "check",
                    "--db",
                    url,
                    "--models",
                    "bench_models",
                    "--format",
                    "json",
                ],
                capture_output=True,
                text=True,
                env=env,
                cwd=tmp,
                check=False,
            )
            runs.append(time.perf_counter() - started)
            if proc.returncode != 0:
                say(f"  harness schema check exited {proc.returncode}: {proc.stderr[-500:]}")
        return statistics.median(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--schemas", type=int, default=4, help="spread the tables over N")
    parser.add_argument("--url", default=DEFAULT_URL, help="admin URL of the server")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    metadata = build_metadata(args.tables, args.schemas)
    schema_names = ["public", *(f"s{n}" for n in range(1, args.schemas))]
    url = database_url(args.url)
    sa_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    with admin(args.url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
    engine = create_engine(sa_url, poolclass=NullPool)
    try:
        started = time.perf_counter()
        with engine.begin() as sa_conn:
            for name in schema_names[1:]:
                sa_conn.exec_driver_sql(f"CREATE SCHEMA {name}")
        metadata.create_all(engine)
        with engine.begin() as sa_conn:
            for statement in extras(args.tables, args.schemas)[args.schemas - 1 :]:
                sa_conn.exec_driver_sql(statement)
        build_s = time.perf_counter() - started
        with engine.connect() as sa_conn:
            version = sa_conn.exec_driver_sql("SHOW server_version").scalar()

        def alembic_run() -> list[Any]:
            with engine.connect() as sa_conn:
                context = MigrationContext.configure(
                    sa_conn,
                    opts={
                        "compare_type": True,
                        "compare_server_default": True,
                        "include_schemas": True,
                    },
                )
                return list(compare_metadata(context, metadata))

        def bulk_reflection() -> int:
            with engine.connect() as sa_conn:
                insp = inspect(sa_conn)
                total = 0
                for name in schema_names:
                    kw: dict[str, Any] = {"schema": None if name == "public" else name}
                    parts: list[dict[Any, Any]] = [
                        insp.get_multi_columns(**kw),
                        insp.get_multi_pk_constraint(**kw),
                        insp.get_multi_foreign_keys(**kw),
                        insp.get_multi_indexes(**kw),
                        insp.get_multi_unique_constraints(**kw),
                        insp.get_multi_check_constraints(**kw),
                    ]
                    total += sum(len(p) for p in parts)
                return total

        found = [DiscoveredTable(t, ()) for t in metadata.sorted_tables]

        def harness_run() -> tuple[int, float, float, float]:
            t0 = time.perf_counter()
            actual = reflect_schema(url, schema_names, objects=False)
            t1 = time.perf_counter()
            expected = model_schema(found)
            t2 = time.perf_counter()
            findings = compare(expected, actual)
            t3 = time.perf_counter()
            return len(findings), t1 - t0, t2 - t1, t3 - t2

        # warm up every path once (imports, catalog caches) before timing
        diffs = alembic_run()
        bulk_reflection()
        findings = harness_run()[0]

        # interleaved rounds: a busy machine slows all three alike instead of one of them
        times: dict[str, list[float]] = {"alembic": [], "bulk": [], "harness": []}
        parts: list[tuple[int, float, float, float]] = []
        for round_ in range(args.repeat):
            for name in ("alembic", "bulk", "harness"):
                if name == "alembic" and round_ % 2:
                    continue  # alembic is slow: every other round is plenty
                started = time.perf_counter()
                if name == "alembic":
                    alembic_run()
                elif name == "bulk":
                    bulk_reflection()
                else:
                    parts.append(harness_run())
                times[name].append(time.perf_counter() - started)
        a_best, a_med = min(times["alembic"]), statistics.median(times["alembic"])
        b_best, b_med = min(times["bulk"]), statistics.median(times["bulk"])
        h_best, h_med = min(times["harness"]), statistics.median(times["harness"])
        reflect_s = statistics.median(p[1] for p in parts)
        model_s = statistics.median(p[2] for p in parts)
        compare_s = statistics.median(p[3] for p in parts)

        say(f"PostgreSQL {version}, {args.tables} tables (built in {build_s:.2f} s)")
        say(
            f"  alembic compare_metadata     best {a_best:7.3f} s  median {a_med:7.3f} s"
            f"  ({len(diffs)} diffs)"
        )
        say(f"  bare bulk reflection         best {b_best:7.3f} s  median {b_med:7.3f} s")
        say(
            f"  harness reflect+compare      best {h_best:7.3f} s  median {h_med:7.3f} s"
            f"  ({findings} findings)"
        )
        say(
            f"    reflect {reflect_s:.3f} s · model {model_s:.3f} s · compare {compare_s:.3f} s"
            "  (medians)"
        )
        say(f"  speed-up vs alembic          {a_med / h_med:6.1f}x   (goal ≥ 7x)")
        say(f"  cost vs bare bulk reflection {h_med / b_med:6.2f}x   (goal ≤ 2x)")
        say(f"  false positives              {findings}        (goal 0)")
        process_s = whole_process(url, args.tables, args.schemas)
        say(
            f"  whole `harness schema check` {process_s:7.3f} s   (goal < alembic in-process "
            f"{a_med:.3f} s)"
        )
        ok = findings == 0 and a_med / h_med >= 7 and h_med / b_med <= 2 and process_s < a_med
        return 0 if ok else 1
    finally:
        engine.dispose()
        if not args.keep:
            with admin(args.url) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(DB_NAME)
                    )
                )


if __name__ == "__main__":
    raise SystemExit(main())
