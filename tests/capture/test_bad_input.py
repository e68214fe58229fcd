"""Bad input to capture and to a captured file's replay: one line, exit 2, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from harness.capture.document import checksum_of, read_capture
from harness.db import ClonedDatabase, DatabaseFactory
from tests.capture.conftest import harness

ORDER = "ORD-4CIYNGEQK6"


def _one_line_exit_2(proc: object, *needles: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)  # type: ignore[attr-defined]
    lines = proc.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1 and lines[0].startswith("harness: error: "), lines
    assert "Traceback" not in proc.stderr  # type: ignore[attr-defined]
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--root", "invoices:id=1"], ["no table 'invoices'"]),
        (["--root", "orders:number=1"], ["has no column 'number'", "order_number"]),
        (["--root", "orders:order_number=ORD-NOSUCHORDR"], ["no row of public.orders"]),
        (["--root", "orders:id=abc"], ["is not a value of public.orders.id (bigint)"]),
        (["--root", "ordersid1"], ["expected TABLE:KEY=VALUE"]),
        (["--root", "invoice=7"], ["not a shorthand", "order"]),
        (["--order", ORDER, "--max-rows", "2"], ["more than 2 rows", "--max-rows"]),
        ([], ["at least one --root"]),
    ],
)
def test_capture_refuses_and_writes_nothing(
    production: ClonedDatabase, tmp_path: Path, args: list[str], needles: list[str]
) -> None:
    out = tmp_path / "x.capture.json"
    proc = harness("capture", "--db", production.url, *args, "--out", str(out))
    _one_line_exit_2(proc, *needles)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_capture_needs_a_reachable_url(tmp_path: Path) -> None:
    out = tmp_path / "x.capture.json"
    _one_line_exit_2(harness("capture", "--order", ORDER, "--out", str(out)), "--db URL")
    unreachable = "postgresql://nobody@127.0.0.1:1/none"
    _one_line_exit_2(
        harness("capture", "--db", unreachable, "--order", ORDER, "--out", str(out)),
        "cannot connect",
    )
    assert not out.exists()


@pytest.fixture
def captured(production: ClonedDatabase, tmp_path: Path) -> Path:
    out = tmp_path / "good.capture.json"
    proc = harness("capture", "--db", production.url, "--order", ORDER, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def _edited(path: Path, change: object, *, reseal: bool) -> Path:
    document = json.loads(path.read_text())
    change(document)  # type: ignore[operator]
    if reseal:
        document["checksum"] = checksum_of(document)
    target = path.with_name("edited.capture.json")
    target.write_text(json.dumps(document))
    return target


def _set_revision(document: dict[str, object]) -> None:
    document["source"]["revision"] = ["9f9f9f9f9f9f"]  # type: ignore[index]


def _raise_amount(document: dict[str, object]) -> None:
    for table in document["tables"]:  # type: ignore[attr-defined]
        for row in table["rows"]:
            if "amount_paise" in row:
                row["amount_paise"] += 100


def test_replay_refuses_a_bad_file(
    captured: Path, server_factory: DatabaseFactory, tmp_path: Path
) -> None:
    db = server_factory.server.admin_url
    truncated = tmp_path / "cut.capture.json"
    truncated.write_text(captured.read_text()[:-200])
    _one_line_exit_2(harness("replay", str(truncated), "--db", db), "cut short")
    tampered = _edited(captured, _raise_amount, reseal=False)
    _one_line_exit_2(harness("replay", str(tampered), "--db", db), "changed after capture")
    newer = _edited(captured, _set_revision, reseal=True)
    _one_line_exit_2(
        harness("replay", str(newer), "--db", db), "9f9f9f9f9f9f", "do not know", "newer code"
    )
    not_one = tmp_path / "other.json"
    not_one.write_text('{"hello": 1}')
    _one_line_exit_2(harness("replay", str(not_one), "--db", db), "not a capture file")
    _one_line_exit_2(
        harness("replay", str(tmp_path / "missing.json"), "--db", db), "cannot be read"
    )


def test_a_deliberate_edit_is_sealed_again(captured: Path) -> None:
    tampered = _edited(captured, _raise_amount, reseal=False)
    proc = harness("capture", "--reseal", str(tampered))
    assert proc.returncode == 0, proc.stderr
    assert read_capture(tampered).rows("payments")[0]["amount_paise"] == 3_953_600


def test_capture_never_writes_to_the_source(production: ClonedDatabase, tmp_path: Path) -> None:
    """A role that may only read captures everything; the source is unchanged."""
    role = f"capture_ro_{production.name[-6:]}"
    with psycopg.connect(production.url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
        conn.execute(f"GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
        before = conn.execute(
            "SELECT sum(n_tup_ins + n_tup_upd + n_tup_del) FROM pg_stat_user_tables"
        ).fetchone()
    try:
        url = production.url.replace("postgres@", f"{role}@", 1)
        assert role in url
        out = tmp_path / "ro.capture.json"
        proc = harness("capture", "--db", url, "--order", ORDER, "--out", str(out))
        assert proc.returncode == 0, proc.stderr
        assert len(read_capture(out).rows("payments")) == 1
        with psycopg.connect(production.url, autocommit=True) as conn:
            after = conn.execute(
                "SELECT sum(n_tup_ins + n_tup_upd + n_tup_del) FROM pg_stat_user_tables"
            ).fetchone()
        assert after == before
    finally:
        with psycopg.connect(production.url, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")
