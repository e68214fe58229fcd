"""Fixes of the objects around tables: enums, schemas, extensions, sequences, views,
functions and triggers."""

from __future__ import annotations

from harness.results import Finding
from harness.schema.fixes.ddl import Ddl
from harness.schema.fixes.sql import FixStep, function_ref, ident, qualified, quote
from harness.schema.snapshot import LiveSchema


class ObjectFixes(Ddl):
    def fix_enum_mismatch(self, f: Finding) -> list[FixStep]:
        key = f.object or ""
        enum = self.exp.enums.get(key)
        live = self.act.enums.get(key)
        t = qualified(key)
        if enum is None and live is not None:  # only in the actual side
            return [FixStep("drop_tables", f"DROP TYPE {t};", unsafe=True)]
        if enum is None:
            return []
        values = ", ".join(quote(v) for v in enum.values)
        if live is None:
            return [FixStep("types", f"CREATE TYPE {t} AS ENUM ({values});")]
        steps = []
        for i, value in enumerate(enum.values):
            if value in live.values:
                continue
            after = next((v for v in reversed(enum.values[:i]) if v in live.values), None)
            where = f" AFTER {quote(after)}" if after else ""
            steps.append(
                FixStep("types", f"ALTER TYPE {t} ADD VALUE IF NOT EXISTS {quote(value)}{where};")
            )
        return steps

    def fix_schema_missing(self, f: Finding) -> list[FixStep]:
        return [FixStep("schemas", f"CREATE SCHEMA IF NOT EXISTS {ident(f.object or '')};")]

    def fix_schema_unexpected(self, f: Finding) -> list[FixStep]:
        return [FixStep("drop_tables", f"DROP SCHEMA {ident(f.object or '')};", unsafe=True)]

    def fix_extension_missing(self, f: Finding) -> list[FixStep]:
        ext = self.exp.extensions.get(f.object or "")
        if ext is None:
            return []
        return [
            FixStep(
                "extensions",
                f"CREATE EXTENSION IF NOT EXISTS {ident(ext.name)} WITH SCHEMA {ident(ext.schema)} "
                f"VERSION {quote(ext.version)};",
            )
        ]

    def fix_extension_unexpected(self, f: Finding) -> list[FixStep]:
        return [FixStep("drop_tables", f"DROP EXTENSION {ident(f.object or '')};", unsafe=True)]

    def fix_extension_changed(self, f: Finding) -> list[FixStep]:
        ext, live = self.exp.extensions.get(f.object or ""), self.act.extensions.get(f.object or "")
        if ext is None or live is None:
            return []
        steps = []
        if ext.version != live.version:
            steps.append(
                FixStep(
                    "extensions",
                    f"ALTER EXTENSION {ident(ext.name)} UPDATE TO {quote(ext.version)};",
                )
            )
        if ext.schema != live.schema:
            steps.append(
                FixStep(
                    "extensions",
                    f"ALTER EXTENSION {ident(ext.name)} SET SCHEMA {ident(ext.schema)};",
                )
            )
        return steps

    def fix_sequence_missing(self, f: Finding) -> list[FixStep]:
        seq = self.exp.sequences.get(f.object or "")
        if seq is None:
            return []
        if seq.owned_by:
            owner = seq.owned_by.rsplit(".", 1)[0]
            if owner in self.created_tables or owner not in self.act.tables:
                return []  # a serial column of a table created here brings its own sequence
        steps = [
            FixStep(
                "sequences",
                f"CREATE SEQUENCE {qualified(seq.key)} AS {seq.data_type} "
                f"INCREMENT BY {seq.increment} MINVALUE {seq.minimum} MAXVALUE {seq.maximum} "
                f"START WITH {seq.start}{' CYCLE' if seq.cycle else ''};",
            )
        ]
        return steps

    def fix_sequence_unexpected(self, f: Finding) -> list[FixStep]:
        seq = self.act.sequences.get(f.object or "")
        if seq is not None and seq.owned_by:
            return []  # goes with its column
        return [
            FixStep(
                "drop_tables",
                f"DROP SEQUENCE {qualified(f.object or '')};",
                unsafe=True,
            )
        ]

    def fix_sequence_changed(self, f: Finding) -> list[FixStep]:
        seq = self.exp.sequences.get(f.object or "")
        if seq is None:
            return []
        return [
            FixStep(
                "sequences",
                f"ALTER SEQUENCE {qualified(seq.key)} AS {seq.data_type} "
                f"INCREMENT BY {seq.increment} MINVALUE {seq.minimum} MAXVALUE {seq.maximum} "
                f"START WITH {seq.start} {'CYCLE' if seq.cycle else 'NO CYCLE'};",
            )
        ]

    def _view_sql(self, key: str) -> str | None:
        view = self.exp.views.get(key)
        if view is None:
            return None
        what = "MATERIALIZED VIEW" if view.kind == "materialized view" else "VIEW"
        body = view.definition.rstrip().rstrip(";")
        return f"CREATE {what} {qualified(key)} AS\n{body};"

    def _drop_view(self, key: str, schema: LiveSchema) -> FixStep | None:
        view = schema.views.get(key)
        if view is None:
            return None
        what = "MATERIALIZED VIEW" if view.kind == "materialized view" else "VIEW"
        return FixStep("drop_dependents", f"DROP {what} IF EXISTS {qualified(key)};")

    def fix_view_missing(self, f: Finding) -> list[FixStep]:
        sql = self._view_sql(f.object or "")
        return [FixStep("views", sql)] if sql else []

    def fix_view_changed(self, f: Finding) -> list[FixStep]:
        drop = self._drop_view(f.object or "", self.act)
        sql = self._view_sql(f.object or "")
        return [s for s in (drop, FixStep("views", sql) if sql else None) if s is not None]

    def fix_view_unexpected(self, f: Finding) -> list[FixStep]:
        drop = self._drop_view(f.object or "", self.act)
        return [drop] if drop else []

    def fix_function_missing(self, f: Finding) -> list[FixStep]:
        fn = self.exp.functions.get(f.object or "")
        if fn is None or fn.kind not in ("function", "procedure"):
            return []
        return [FixStep("functions", fn.definition.rstrip().rstrip(";") + ";")]

    def fix_function_changed(self, f: Finding) -> list[FixStep]:
        fn, live = self.exp.functions.get(f.object or ""), self.act.functions.get(f.object or "")
        if fn is None or fn.kind not in ("function", "procedure"):
            return []
        steps = []
        if live is not None and (live.result != fn.result or live.kind != fn.kind):
            steps.append(
                FixStep(
                    "drop_dependents",
                    f"DROP {live.kind.upper()} IF EXISTS {function_ref(f.object or '')};",
                )
            )
        steps.append(FixStep("functions", fn.definition.rstrip().rstrip(";") + ";"))
        return steps

    def fix_function_unexpected(self, f: Finding) -> list[FixStep]:
        live = self.act.functions.get(f.object or "")
        if live is None or live.kind not in ("function", "procedure"):
            return []
        return [
            FixStep(
                "drop_dependents",
                f"DROP {live.kind.upper()} IF EXISTS {function_ref(f.object or '')};",
            )
        ]

    def fix_trigger_missing(self, f: Finding) -> list[FixStep]:
        trig = self.exp.triggers.get(f.object or "")
        if trig is None:
            return []
        steps = [FixStep("triggers", trig.definition.rstrip(";") + ";")]
        if trig.enabled != "O":
            steps.append(self._trigger_state(trig.table, trig.name, trig.enabled))
        return steps

    def _trigger_state(self, table: str, name: str, enabled: str) -> FixStep:
        word = {"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}.get(enabled, "ENABLE")
        return FixStep("triggers", f"ALTER TABLE {self.t(table)} {word} TRIGGER {ident(name)};")

    def fix_trigger_changed(self, f: Finding) -> list[FixStep]:
        trig, live = self.exp.triggers.get(f.object or ""), self.act.triggers.get(f.object or "")
        if trig is None or live is None:
            return []
        if trig.definition_key == live.definition_key:
            return [self._trigger_state(trig.table, trig.name, trig.enabled)]
        return [
            FixStep(
                "drop_dependents",
                f"DROP TRIGGER IF EXISTS {ident(live.name)} ON {self.t(live.table)};",
            ),
            *self.fix_trigger_missing(f),
        ]

    def fix_trigger_unexpected(self, f: Finding) -> list[FixStep]:
        live = self.act.triggers.get(f.object or "")
        if live is None:
            return []
        return [
            FixStep(
                "drop_dependents",
                f"DROP TRIGGER IF EXISTS {ident(live.name)} ON {self.t(live.table)};",
            )
        ]
