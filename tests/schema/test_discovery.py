"""Discovery: every mapped class and Table under the models packages, however it was declared."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.errors import ConfigError, HarnessError
from harness.schema.discovery import discover
from harness.schema.expected import model_schema

MakePackage = Callable[[dict[str, str]], str]

STRAY_PLAN = """
    from decimal import Decimal

    from sqlalchemy import Integer, Numeric, String
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


    class LegacyBase(DeclarativeBase):
        pass


    class Plan(LegacyBase):
        __tablename__ = "plans"

        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        name: Mapped[str] = mapped_column(String(64), nullable=False)
        price: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
"""


def test_reference_app_models_are_all_found() -> None:
    found = discover(["app.models"])
    assert {t.key for t in found.tables} == {
        "hosting_plans",
        "orders",
        "payments",
        "recovery_audit",
        "servers",
        "users",
        "webhook_events",
    }
    by_table = {t.key: t.classes for t in found.tables}
    assert by_table["hosting_plans"] == ("app.models.server.HostingPlan",)
    assert by_table["servers"] == ("app.models.server.Server",)
    assert "app.models.server" in found.modules
    assert not found.duplicates


def test_a_stray_model_on_its_own_base_is_found(models_package: MakePackage) -> None:
    package = models_package({"plan.py": STRAY_PLAN})
    found = discover(["app.models", package])
    plans = next(t for t in found.tables if t.key == "plans")
    assert plans.classes == (f"{package}.plan.Plan",)
    assert len(found.metadatas) == 2


def test_every_way_of_declaring_tables_is_collected(models_package: MakePackage) -> None:
    package = models_package(
        {
            "classic.py": """
                from sqlalchemy import Column, Integer
                from sqlalchemy.orm import declarative_base

                Base = declarative_base()

                class Thing(Base):
                    __tablename__ = "things"
                    id = Column(Integer, primary_key=True)
            """,
            "imperative.py": """
                from sqlalchemy import Column, Integer, MetaData, Table
                from sqlalchemy.orm import registry

                mapper_registry = registry()
                widgets = Table(
                    "widgets", mapper_registry.metadata, Column("id", Integer, primary_key=True)
                )

                class Widget:
                    pass

                mapper_registry.map_imperatively(Widget, widgets)
            """,
            "core.py": """
                from sqlalchemy import Column, Integer, MetaData, Table

                metadata = MetaData()
                Table("audit_log", metadata, Column("id", Integer, primary_key=True))
            """,
            "sub/__init__.py": "",
            "sub/deep.py": """
                from sqlalchemy import Integer
                from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

                class OtherBase(DeclarativeBase):
                    pass

                class Deep(OtherBase):
                    __tablename__ = "deep_things"
                    id: Mapped[int] = mapped_column(Integer, primary_key=True)
            """,
        }
    )
    found = discover([package])
    classes = {t.key: t.classes for t in found.tables}
    assert set(classes) == {"things", "widgets", "audit_log", "deep_things"}
    assert classes["widgets"] == (f"{package}.imperative.Widget",)
    assert classes["audit_log"] == ()
    assert classes["deep_things"] == (f"{package}.sub.deep.Deep",)


def test_the_same_table_under_two_bases_is_kept_as_a_duplicate(
    models_package: MakePackage,
) -> None:
    package = models_package(
        {
            "again.py": """
                from sqlalchemy import Integer, String
                from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

                class SecondBase(DeclarativeBase):
                    pass

                class OldUser(SecondBase):
                    __tablename__ = "users"
                    id: Mapped[int] = mapped_column(Integer, primary_key=True)
                    login: Mapped[str] = mapped_column(String(32))
            """
        }
    )
    found = discover(["app.models", package])
    assert [d.classes for d in found.duplicates] == [(f"{package}.again.OldUser",)]


def test_models_compile_to_the_expected_shape() -> None:
    schema = model_schema(discover(["app.models"]))
    servers = schema.tables["servers"]
    assert servers.columns["server_status"].type_key == "character varying(16)"
    assert servers.columns["id"].generated_by_db
    assert servers.primary_key is not None and servers.primary_key.columns == ("id",)
    assert {fk.ref_table for fk in servers.foreign_keys} == {"users", "orders", "hosting_plans"}
    assert {u.name for u in servers.uniques} == {
        "uq_servers_order_id",
        "uq_servers_provider_instance_id",
    }
    assert all(c.key is not None for c in servers.checks)


def test_an_unimportable_package_is_one_clear_line() -> None:
    with pytest.raises(ConfigError) as info:
        discover(["no_such_models_pkg"])
    message = str(info.value)
    assert message == (
        "models package 'no_such_models_pkg' cannot be imported: "
        "ModuleNotFoundError: No module named 'no_such_models_pkg'"
    )
    assert "\n" not in message


def test_a_broken_submodule_names_itself(models_package: MakePackage) -> None:
    package = models_package({"good.py": STRAY_PLAN, "broken.py": "raise RuntimeError('boom')"})
    with pytest.raises(HarnessError) as info:
        discover([package])
    assert str(info.value) == (
        f"models module '{package}.broken' cannot be imported: RuntimeError: boom"
    )


def test_a_package_without_mapped_classes_is_refused(models_package: MakePackage) -> None:
    package = models_package({"helpers.py": "VALUE = 1\n"})
    with pytest.raises(ConfigError, match=r"^no mapped classes found under '.*' \(2 modules"):
        discover([package])


def test_no_packages_at_all_is_refused() -> None:
    with pytest.raises(ConfigError, match="no models packages configured"):
        discover([])
