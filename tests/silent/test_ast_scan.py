"""The payment path must not swallow exceptions; the scanner itself (harness.ast_scan)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.ast_scan import always_raises, scan_paths, scan_source
from harness.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
PAYMENT_PATH = [
    Path("app/services/payments.py"),
    Path("app/services/provisioning.py"),
    Path("app/api/v1/endpoints/payments.py"),
]


def test_the_payment_path_and_its_helpers_swallow_nothing() -> None:
    report = scan_paths(PAYMENT_PATH, follow=("app",), root=ROOT)
    scanned = {p.relative_to(ROOT).as_posix() for p in report.files}
    # the helpers are scanned too: repositories, the provider client, the session dependency
    assert {p.as_posix() for p in PAYMENT_PATH} <= scanned
    assert "app/repositories/orders.py" in scanned
    assert "app/api/deps.py" in scanned
    assert "app/services/gateway.py" in scanned
    assert report.findings() == [], "\n".join(f.message for f in report.findings())


def sites(code: str) -> list[tuple[int, str, str | None]]:
    found = scan_source(textwrap.dedent(code), Path("m.py"))
    return [(s.line, s.form, s.function) for s in found if s.allowed is None]


def test_the_incident_shape_is_flagged() -> None:
    code = """
        async def verify(db, plan_id):
            try:
                plan = (await db.execute(select(Plan).filter(Plan.id == plan_id))).scalar()
            except Exception as e:
                print(e)
                plan = None
            if plan:
                create_server(plan)
    """
    assert sites(code) == [(5, "'except Exception'", "verify")]


def test_forms_that_swallow() -> None:
    code = """
        import contextlib
        from contextlib import suppress as hush

        def a():
            try:
                x()
            except:
                pass

        def b():
            try:
                x()
            except (ValueError, BaseException):
                return None

        def c():
            with contextlib.suppress(Exception):
                x()
            with hush(KeyError, Exception):
                x()

        def d(flag):
            try:
                x()
            except Exception:
                if flag:
                    raise
                log("carry on")
    """
    assert sites(code) == [
        (8, "bare 'except:'", "a"),
        (14, "'except BaseException'", "b"),
        (18, "'contextlib.suppress(Exception)'", "c"),
        (20, "'contextlib.suppress(Exception)'", "c"),
        (26, "'except Exception'", "d"),
    ]


def test_forms_that_do_not_swallow() -> None:
    code = """
        import contextlib

        def a():
            try:
                x()
            except Exception:
                log("failed")
                raise

        def b():
            try:
                x()
            except Exception as exc:
                raise AppError("explicit") from exc

        def c():
            try:
                x()
            except BaseException:
                if cond:
                    raise
                else:
                    raise Other()

        def d():
            try:
                x()
            except ValueError:
                return None
            with contextlib.suppress(KeyError):
                x()

        def e():
            try:
                x()
            except Exception:  # harness: allow-swallow(shutdown must not fail the test run)
                pass
    """
    assert sites(code) == []
    [allowed] = scan_source(textwrap.dedent(code), Path("m.py"))
    assert allowed.allowed == "shutdown must not fail the test run"


def test_extra_broad_names() -> None:
    code = """
        try:
            x()
        except SQLAlchemyError:
            pass
    """
    assert scan_source(textwrap.dedent(code), Path("m.py")) == []
    [site] = scan_source(textwrap.dedent(code), Path("m.py"), extra_broad=["SQLAlchemyError"])
    assert site.form == "'except SQLAlchemyError'"
    assert site.function is None


def test_always_raises_paths() -> None:
    import ast

    def body(code: str) -> list[ast.stmt]:
        return ast.parse(textwrap.dedent(code)).body

    assert always_raises(body("log()\nraise"))
    assert not always_raises(body("return 1\nraise"))
    assert always_raises(body("try:\n    raise A\nexcept B:\n    raise C"))
    assert not always_raises(body("try:\n    raise A\nexcept B:\n    pass"))
    assert always_raises(body("try:\n    x()\nfinally:\n    raise C"))


def test_follow_resolves_imports_under_the_root(tmp_path: Path) -> None:
    pkg = tmp_path / "shop"
    (pkg / "helpers").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "helpers" / "__init__.py").write_text("")
    (pkg / "entry.py").write_text("from shop.helpers import db\nfrom .helpers.fmt import f\n")
    (pkg / "helpers" / "db.py").write_text("try:\n    x()\nexcept Exception:\n    pass\n")
    (pkg / "helpers" / "fmt.py").write_text("import os\ndef f():\n    pass\n")
    (pkg / "unrelated.py").write_text("try:\n    x()\nexcept:\n    pass\n")
    report = scan_paths([Path("shop/entry.py")], follow=("shop",), root=tmp_path)
    assert sorted(p.name for p in report.files) == ["__init__.py", "db.py", "entry.py", "fmt.py"]
    [finding] = report.findings()
    assert finding.kind == "swallowed_exception"
    assert finding.object == "shop/helpers/db.py:3"
    # without follow only the given file is read
    assert scan_paths([Path("shop/entry.py")], root=tmp_path).findings() == []
    # a directory scans every module in it
    assert len(scan_paths([pkg], root=tmp_path).findings()) == 2
    with pytest.raises(ConfigError, match="no such file"):
        scan_paths([Path("shop/missing.py")], root=tmp_path)
