"""``schema check``: the reference app's models against live (drifted) clones of its database.

Every test runs on PostgreSQL 18 (embedded) and 15 (the machine's service, ``pg15``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from harness.db import ClonedDatabase
from harness.results import Finding
from harness.schema.check import check_schema
from tests.schema.conftest import APP_MODELS, execute

MakePackage = Callable[[dict[str, str]], str]


def _only(findings: list[Finding], kind: str) -> list[Finding]:
    return [f for f in findings if f.kind == kind]


def test_reference_database_has_zero_findings(migrated_db: ClonedDatabase) -> None:
    result = check_schema(migrated_db.url, APP_MODELS)
    assert result.findings == []
    assert result.ok
    assert result.metrics["tables"] == 7
    assert result.metrics["columns"] == 65
    assert result.metrics["compared_by_name"] == 0
    for key in ("reflect_s", "compare_s"):
        assert isinstance(result.metrics[key], float)


@dataclass(frozen=True)
class Drift:
    statements: tuple[str, ...]
    kind: str
    table: str | None
    column: str | None
    severity: str


DRIFTS = {
    "missing_table": Drift(
        ("DROP TABLE recovery_audit",), "missing_table", "recovery_audit", None, "error"
    ),
    "unmapped_table": Drift(
        ("CREATE TABLE legacy_notes (id int PRIMARY KEY, body text)",),
        "unmapped_table",
        "legacy_notes",
        None,
        "warning",
    ),
    "missing_column": Drift(
        ("ALTER TABLE servers DROP COLUMN ip_address",),
        "missing_column",
        "servers",
        "ip_address",
        "error",
    ),
    "unmapped_column": Drift(
        ("ALTER TABLE users ADD COLUMN nickname text",),
        "unmapped_column",
        "users",
        "nickname",
        "warning",
    ),
    "unmapped_not_null_column": Drift(
        ("ALTER TABLE users ADD COLUMN legacy_code varchar(10) NOT NULL",),
        "unmapped_column",
        "users",
        "legacy_code",
        "error",
    ),
    "type_mismatch_varchar": Drift(
        ("ALTER TABLE servers ALTER COLUMN ip_address TYPE varchar(20)",),
        "type_mismatch",
        "servers",
        "ip_address",
        "error",
    ),
    "type_mismatch_wider": Drift(
        ("ALTER TABLE servers ALTER COLUMN plan_name TYPE varchar(128)",),
        "type_mismatch",
        "servers",
        "plan_name",
        "warning",
    ),
    "type_mismatch_numeric": Drift(
        ("ALTER TABLE orders ALTER COLUMN total_amount TYPE numeric(12, 0)",),
        "type_mismatch",
        "orders",
        "total_amount",
        "error",
    ),
    "type_mismatch_timezone": Drift(
        ("ALTER TABLE servers ALTER COLUMN expires_at TYPE timestamp without time zone",),
        "type_mismatch",
        "servers",
        "expires_at",
        "error",
    ),
    "type_mismatch_json": Drift(
        ("ALTER TABLE webhook_events ALTER COLUMN payload TYPE json",),
        "type_mismatch",
        "webhook_events",
        "payload",
        "error",
    ),
    "type_mismatch_integer_width": Drift(
        ("ALTER TABLE payments ALTER COLUMN amount_paise TYPE integer",),
        "type_mismatch",
        "payments",
        "amount_paise",
        "error",
    ),
    "nullable_mismatch_not_null": Drift(
        ("ALTER TABLE orders ALTER COLUMN failure_reason SET NOT NULL",),
        "nullable_mismatch",
        "orders",
        "failure_reason",
        "error",
    ),
    "nullable_mismatch_nullable": Drift(
        ("ALTER TABLE servers ALTER COLUMN plan_name DROP NOT NULL",),
        "nullable_mismatch",
        "servers",
        "plan_name",
        "warning",
    ),
    "default_mismatch_dropped": Drift(
        ("ALTER TABLE orders ALTER COLUMN currency DROP DEFAULT",),
        "default_mismatch",
        "orders",
        "currency",
        "error",
    ),
    "default_mismatch_changed": Drift(
        ("ALTER TABLE payments ALTER COLUMN currency SET DEFAULT 'USD'",),
        "default_mismatch",
        "payments",
        "currency",
        "warning",
    ),
    "default_mismatch_serial": Drift(
        ("ALTER TABLE users ALTER COLUMN id DROP DEFAULT",),
        "default_mismatch",
        "users",
        "id",
        "error",
    ),
    "primary_key_mismatch": Drift(
        ("ALTER TABLE webhook_events DROP CONSTRAINT pk_webhook_events",),
        "primary_key_mismatch",
        "webhook_events",
        None,
        "error",
    ),
    "foreign_key_missing": Drift(
        ("ALTER TABLE payments DROP CONSTRAINT fk_payments_order_id_orders",),
        "foreign_key_missing",
        "payments",
        "order_id",
        "error",
    ),
    "foreign_key_on_delete": Drift(
        (
            "ALTER TABLE servers DROP CONSTRAINT fk_servers_user_id_users",
            "ALTER TABLE servers ADD CONSTRAINT fk_servers_user_id_users FOREIGN KEY (user_id) "
            "REFERENCES users (id) ON DELETE CASCADE",
        ),
        "foreign_key_missing",
        "servers",
        "user_id",
        "error",
    ),
    "foreign_key_unexpected": Drift(
        (
            "ALTER TABLE payments ADD CONSTRAINT fk_payments_gateway_order FOREIGN KEY "
            "(gateway_order_id) REFERENCES orders (gateway_order_id)",
        ),
        "foreign_key_unexpected",
        "payments",
        "gateway_order_id",
        "warning",
    ),
    "index_missing": Drift(
        ("DROP INDEX ix_payments_gateway_order_id",),
        "index_missing",
        "payments",
        "gateway_order_id",
        "warning",
    ),
    "index_unexpected": Drift(
        ("CREATE INDEX ix_orders_lower_number ON orders (lower(order_number))",),
        "index_unexpected",
        "orders",
        None,
        "warning",
    ),
    "unique_missing": Drift(
        ("ALTER TABLE users DROP CONSTRAINT uq_users_email",),
        "unique_missing",
        "users",
        "email",
        "error",
    ),
    "unique_unexpected": Drift(
        ("CREATE UNIQUE INDEX ux_orders_tax ON orders (tax)",),
        "unique_unexpected",
        "orders",
        "tax",
        "warning",
    ),
    "check_missing": Drift(
        ("ALTER TABLE orders DROP CONSTRAINT ck_orders_total_amount_non_negative",),
        "check_missing",
        "orders",
        None,
        "error",
    ),
    "check_changed": Drift(
        (
            "ALTER TABLE orders DROP CONSTRAINT ck_orders_order_status_valid",
            "ALTER TABLE orders ADD CONSTRAINT ck_orders_order_status_valid "
            "CHECK (order_status IN ('pending', 'processing', 'completed'))",
        ),
        "check_missing",
        "orders",
        None,
        "error",
    ),
    "check_unexpected": Drift(
        ("ALTER TABLE hosting_plans ADD CONSTRAINT ck_vcpu_positive CHECK (vcpu > 0)",),
        "check_unexpected",
        "hosting_plans",
        None,
        "warning",
    ),
}


@pytest.mark.parametrize("case", list(DRIFTS.values()), ids=list(DRIFTS))
def test_each_drift_is_reported_as_its_kind(migrated_db: ClonedDatabase, case: Drift) -> None:
    execute(migrated_db.url, *case.statements)
    result = check_schema(migrated_db.url, APP_MODELS)
    matching = [
        f
        for f in result.findings
        if f.kind == case.kind and f.table == case.table and f.column == case.column
    ]
    assert matching, [f.to_dict() for f in result.findings]
    assert {f.severity for f in matching} == {case.severity}
    # nothing unrelated is reported: every finding concerns the drifted table
    assert {f.table for f in result.findings} <= {case.table, None}
    assert result.ok is (case.severity == "warning")


@pytest.mark.parametrize("case", list(DRIFTS.values()), ids=list(DRIFTS))
def test_the_fix_brings_the_database_back_to_the_models(
    migrated_db: ClonedDatabase, case: Drift
) -> None:
    from harness.schema.fixes import fix_script
    from tests.schema.test_diff_coverage import apply_script

    execute(migrated_db.url, *case.statements)
    result = check_schema(migrated_db.url, APP_MODELS)
    assert all(f.fix for f in result.findings), [(f.kind, f.message) for f in result.findings]
    apply_script(migrated_db.url, fix_script(result.details["fix_script"], unsafe=True))
    after = check_schema(migrated_db.url, APP_MODELS)
    assert after.findings == [], [f.message for f in after.findings]


def test_a_rename_hint_is_fixed_by_a_rename(migrated_db: ClonedDatabase) -> None:
    execute(migrated_db.url, "ALTER TABLE servers RENAME COLUMN server_status TO status")
    result = check_schema(migrated_db.url, APP_MODELS)
    fixes = {f.kind: f.fix for f in result.findings}
    assert fixes["missing_column"] == "ALTER TABLE servers RENAME COLUMN status TO server_status;"


def test_a_changed_check_shows_both_expressions(migrated_db: ClonedDatabase) -> None:
    execute(migrated_db.url, *DRIFTS["check_changed"].statements)
    [finding] = check_schema(migrated_db.url, APP_MODELS).findings
    assert finding.object == "ck_orders_order_status_valid"
    assert "'failed'" in str(finding.expected)
    assert "'failed'" not in str(finding.actual)


@pytest.mark.parametrize(
    "statements",
    [
        # a renamed check with the same meaning is the same check
        (
            "ALTER TABLE orders RENAME CONSTRAINT ck_orders_total_amount_non_negative "
            "TO ck_orders_total_ok",
        ),
        # uniqueness by a unique index instead of a constraint
        (
            "ALTER TABLE users DROP CONSTRAINT uq_users_email",
            "CREATE UNIQUE INDEX ux_users_email ON users (email)",
        ),
        # a renamed index on the same columns
        ("ALTER INDEX ix_payments_order_id RENAME TO payments_order_idx",),
        # defaults spelled differently
        (
            "ALTER TABLE users ALTER COLUMN created_at SET DEFAULT CURRENT_TIMESTAMP",
            "ALTER TABLE hosting_plans ALTER COLUMN is_active SET DEFAULT 'true'",
            "ALTER TABLE servers ALTER COLUMN provision_attempts SET DEFAULT '0'::integer",
        ),
        # a check rewritten with OR instead of IN means the same
        (
            "ALTER TABLE orders DROP CONSTRAINT ck_orders_billing_cycle_valid",
            "ALTER TABLE orders ADD CONSTRAINT ck_orders_billing_cycle_valid CHECK "
            "(billing_cycle_months = ANY (ARRAY[1, 3, 6, 12]))",
        ),
    ],
    ids=["renamed-check", "unique-index", "renamed-index", "default-spelling", "any-array"],
)
def test_equivalent_changes_are_not_findings(
    migrated_db: ClonedDatabase, statements: tuple[str, ...]
) -> None:
    execute(migrated_db.url, *statements)
    assert check_schema(migrated_db.url, APP_MODELS).findings == []


STRAY_PLAN = """
    from decimal import Decimal

    from sqlalchemy import Boolean, Integer, Numeric, String
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


    class PlanBase(DeclarativeBase):
        pass


    class Plan(PlanBase):
        __tablename__ = "plans"

        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        name: Mapped[str] = mapped_column(String(64), nullable=False)
        monthly_price: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
        is_active: Mapped[bool] = mapped_column(Boolean, nullable=False)
"""

SERVER_WITH_STATUS = """
    from datetime import datetime

    from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text, func, text
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


    class Base(DeclarativeBase):
        pass


    class Server(Base):
        __tablename__ = "servers"

        id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
        user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))
        order_id: Mapped[int] = mapped_column(BigInteger, unique=True)
        plan_id: Mapped[int] = mapped_column(Integer)
        server_name: Mapped[str] = mapped_column(String(128))
        plan_name: Mapped[str] = mapped_column(String(64))
        status: Mapped[str] = mapped_column(String(16), server_default=text("'provisioning'"))
        created_at: Mapped[datetime] = mapped_column(
            DateTime(timezone=True), server_default=func.now()
        )
"""


def test_incident_stray_plan_model_is_a_missing_table_named_hosting_plans(
    migrated_db: ClonedDatabase, models_package: MakePackage
) -> None:
    package = models_package({"plan.py": STRAY_PLAN})
    result = check_schema(migrated_db.url, [*APP_MODELS, package])
    [finding] = result.findings
    assert finding.kind == "missing_table"
    assert finding.severity == "error"
    assert finding.table == "plans"
    assert finding.hint is not None
    assert finding.hint.startswith("looks renamed: the database has `hosting_plans`")
    assert "app.models.server.HostingPlan" in finding.hint
    assert f"{package}.plan.Plan" in finding.message
    assert not result.ok


def test_incident_status_column_is_missing_with_server_status_as_hint(
    migrated_db: ClonedDatabase, models_package: MakePackage
) -> None:
    package = models_package({"server.py": SERVER_WITH_STATUS})
    result = check_schema(migrated_db.url, [package])
    missing = _only(result.findings, "missing_column")
    assert [(f.table, f.column) for f in missing] == [("servers", "status")]
    assert missing[0].severity == "error"
    assert missing[0].hint is not None
    assert "`servers.server_status`" in missing[0].hint
    assert missing[0].hint.startswith("looks renamed:")
    unmapped = {f.column: f for f in _only(result.findings, "unmapped_column")}
    assert unmapped["server_status"].hint == "probably the `status` of the models"


def test_database_side_rename_is_hinted_too(migrated_db: ClonedDatabase) -> None:
    execute(
        migrated_db.url,
        "ALTER TABLE servers RENAME COLUMN server_status TO status",
        "ALTER TABLE hosting_plans RENAME TO plans",
    )
    result = check_schema(migrated_db.url, APP_MODELS)
    hints = {(f.kind, f.table, f.column): f.hint for f in result.findings}
    assert "`servers.status`" in str(hints[("missing_column", "servers", "server_status")])
    assert "`plans`" in str(hints[("missing_table", "hosting_plans", None)])


def test_a_second_registry_mapping_the_same_table_is_one_warning_naming_both(
    migrated_db: ClonedDatabase, models_package: MakePackage
) -> None:
    package = models_package(
        {
            "old.py": """
                from sqlalchemy import BigInteger, String
                from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

                class OldBase(DeclarativeBase):
                    pass

                class OldUser(OldBase):
                    __tablename__ = "users"
                    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
                    login: Mapped[str] = mapped_column(String(32))
            """
        }
    )
    result = check_schema(migrated_db.url, [*APP_MODELS, package])
    # the main Base (seven tables) is the definition; the one-table copy is named, not compared
    [finding] = result.findings
    assert (finding.kind, finding.severity) == ("duplicate_mapping", "warning")
    assert finding.table == "users"
    assert "`app.models" in finding.message
    assert f"`{package}.old` (not compared)" in finding.message
    # …but what that second definition gets wrong is said, so a stray model still shows
    assert "users.login" in finding.message
    assert result.ok
    excluded = check_schema(
        migrated_db.url, [*APP_MODELS, package], exclude_models=[f"{package}.old"]
    )
    assert excluded.findings == []


ENUM_MODELS = """
    import enum

    from sqlalchemy import Enum, Integer
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


    class Base(DeclarativeBase):
        pass


    class WidgetState(enum.Enum):
        draft = "draft"
        live = "live"
        retired = "retired"


    class Widget(Base):
        __tablename__ = "widgets"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        state: Mapped[WidgetState] = mapped_column(
            Enum(WidgetState, name="widget_state"), nullable=False
        )
"""


@pytest.mark.parametrize(
    ("labels", "severity", "fragment"),
    [
        ("'draft', 'live', 'retired'", None, None),
        ("'draft', 'live'", "error", "lacks 'retired'"),
        ("'draft', 'live', 'retired', 'archived'", "warning", "has 'archived'"),
        ("'live', 'draft', 'retired'", "warning", "orders its values differently"),
    ],
    ids=["same", "value-missing", "value-extra", "order"],
)
def test_enum_values_are_compared(
    blank_db: ClonedDatabase,
    models_package: MakePackage,
    labels: str,
    severity: str | None,
    fragment: str | None,
) -> None:
    package = models_package({"widget.py": ENUM_MODELS})
    execute(
        blank_db.url,
        "CREATE TYPE widget_state AS ENUM ('draft', 'live', 'retired')",
        "CREATE TABLE widgets (id serial PRIMARY KEY, state widget_state NOT NULL)",
    )
    # drift the clone's enum the way production drifts: recreate the type with other labels
    execute(
        blank_db.url,
        "ALTER TYPE widget_state RENAME TO widget_state_old",
        f"CREATE TYPE widget_state AS ENUM ({labels})",
        "ALTER TABLE widgets ALTER COLUMN state TYPE widget_state USING state::text::widget_state"
        if "'retired'" in labels
        else "ALTER TABLE widgets ALTER COLUMN state TYPE widget_state USING 'draft'",
        "DROP TYPE widget_state_old",
    )
    findings = check_schema(blank_db.url, [package]).findings
    if severity is None:
        assert findings == []
        return
    [finding] = findings
    assert (finding.kind, finding.severity, finding.object) == (
        "enum_mismatch",
        severity,
        "widget_state",
    )
    assert fragment is not None and fragment in finding.message


def test_an_enum_column_that_became_varchar(
    blank_db: ClonedDatabase, models_package: MakePackage
) -> None:
    package = models_package({"widget.py": ENUM_MODELS})
    execute(blank_db.url, "CREATE TABLE widgets (id serial PRIMARY KEY, state varchar(8) NOT NULL)")
    kinds = {(f.kind, f.severity) for f in check_schema(blank_db.url, [package]).findings}
    assert kinds == {("type_mismatch", "error"), ("enum_mismatch", "error")}


BOOKINGS = """
    from datetime import date

    from sqlalchemy import CheckConstraint, Computed, Date, Integer
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


    class Base(DeclarativeBase):
        pass


    class Booking(Base):
        __tablename__ = "bookings"
        __table_args__ = (
            CheckConstraint("(starts, ends) OVERLAPS (starts, ends)", name="ck_overlaps"),
            CheckConstraint("EXTRACT(year FROM starts) >= 2000", name="ck_year"),
        )

        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        starts: Mapped[date] = mapped_column(Date, nullable=False)
        ends: Mapped[date] = mapped_column(Date, nullable=False)
        nights: Mapped[int | None] = mapped_column(Integer, Computed("ends - starts"))
"""

BOOKINGS_DDL = (
    "CREATE TABLE bookings (id serial PRIMARY KEY, starts date NOT NULL, ends date NOT NULL, "
    "nights int GENERATED ALWAYS AS ({nights}) STORED, "
    "CONSTRAINT ck_overlaps CHECK ((starts, ends) OVERLAPS (starts, ends)), "
    "CONSTRAINT ck_year CHECK (EXTRACT(year FROM starts) >= 2000))"
)


def test_checks_that_cannot_be_canonicalized_are_compared_by_name(
    blank_db: ClonedDatabase, models_package: MakePackage
) -> None:
    package = models_package({"booking.py": BOOKINGS})
    execute(blank_db.url, BOOKINGS_DDL.format(nights="ends - starts"))
    result = check_schema(blank_db.url, [package])
    assert result.findings == []
    assert result.metrics["compared_by_name"] == 1
    assert result.details["compared_by_name"] == ["check bookings.ck_overlaps"]


def test_generated_columns_compare_their_expression(
    blank_db: ClonedDatabase, models_package: MakePackage
) -> None:
    package = models_package({"booking.py": BOOKINGS})
    execute(blank_db.url, BOOKINGS_DDL.format(nights="ends - starts + 1"))
    [finding] = check_schema(blank_db.url, [package]).findings
    assert (finding.kind, finding.column, finding.severity) == (
        "default_mismatch",
        "nights",
        "warning",
    )
    assert "another expression" in finding.message


def test_tables_in_other_schemas_are_reflected_and_keyed_by_schema(
    blank_db: ClonedDatabase, models_package: MakePackage
) -> None:
    package = models_package(
        {
            "billing.py": """
                from sqlalchemy import BigInteger, ForeignKey, String
                from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

                class Base(DeclarativeBase):
                    pass

                class Customer(Base):
                    __tablename__ = "customers"
                    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)

                class Invoice(Base):
                    __tablename__ = "invoices"
                    __table_args__ = {"schema": "billing"}
                    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
                    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
                    number: Mapped[str] = mapped_column(String(20), unique=True)
            """
        }
    )
    execute(
        blank_db.url,
        "CREATE TABLE customers (id bigserial PRIMARY KEY)",
        "CREATE SCHEMA billing",
        "CREATE TABLE billing.invoices (id bigserial PRIMARY KEY, customer_id bigint NOT NULL "
        "REFERENCES customers (id), number varchar(20) NOT NULL UNIQUE)",
    )
    assert check_schema(blank_db.url, [package]).findings == []
    execute(blank_db.url, "ALTER TABLE billing.invoices DROP COLUMN number")
    [finding] = check_schema(blank_db.url, [package]).findings
    assert (finding.kind, finding.schema, finding.table, finding.column) == (
        "missing_column",
        "billing",
        "invoices",
        "number",
    )
    assert finding.table_key == "billing.invoices"
    assert "`billing.invoices.number`" in finding.message
