"""From the database as production stood after the incident to a regression test: capture the
order, replay the file on today's code (the server is created), and with the incident's bug
injected (the gates name the order)."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from harness.db import ClonedDatabase, DatabaseFactory
from tests.capture.conftest import harness

ORDER = "ORD-4CIYNGEQK6"


def _capture(production: ClonedDatabase, out: Path, *extra: str) -> dict[str, object]:
    proc = harness(
        "capture", "--db", production.url, "--order", ORDER, "--out", str(out), *extra,
        "--format", "json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary: dict[str, object] = json.loads(proc.stdout)
    return summary


def test_capture_then_replay_the_incident(
    production: ClonedDatabase, server_factory: DatabaseFactory, tmp_path: Path
) -> None:
    out = tmp_path / "incident.capture.json"
    summary = _capture(production, out)
    assert summary["tables"] == {
        "public.hosting_plans": 1,
        "public.users": 1,
        "public.orders": 1,
        "public.payments": 1,
    }
    text = out.read_text()
    document = json.loads(text)
    (order,) = next(t["rows"] for t in document["tables"] if t["table"] == "public.orders")
    assert (order["order_number"], order["total_amount"], order["plan_id"]) == (
        ORDER,
        "39535.00",
        3,
    )
    assert (order["payment_status"], order["order_status"]) == ("paid", "completed")
    (plan,) = next(t["rows"] for t in document["tables"] if t["table"] == "public.hosting_plans")
    assert (plan["id"], plan["name"]) == (3, "G.16GB")
    (payment,) = next(t["rows"] for t in document["tables"] if t["table"] == "public.payments")
    assert (payment["order_id"], payment["amount_paise"]) == (order["id"], 3_953_500)
    # scrubbed: nothing personal, and the file says what it replaced
    assert "user1234@test.com" not in text
    with psycopg.connect(production.url) as conn:
        originals = conn.execute(
            "SELECT u.email, u.password_hash, p.signature FROM users u "
            "JOIN orders o ON o.user_id = u.id JOIN payments p ON p.order_id = o.id "
            "WHERE o.order_number = %s",
            (ORDER,),
        ).fetchone()
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert originals is not None and all(str(v) not in text for v in originals)
    assert document["scrub"]["columns"]["public.users.email"] == "email"
    assert document["source"]["revision"] == [revision[0] if revision else None]
    assert document["sequences"] and document["command"].startswith("harness capture")

    admin = server_factory.server.admin_url
    replayed = harness("replay", str(out), "--db", admin, "--format", "json")
    assert replayed.returncode == 0, replayed.stdout[-3000:] + replayed.stderr
    doc = json.loads(replayed.stdout)
    (scenario,) = doc["scenarios"]
    before = [e["data"]["invariant"] for e in scenario["before"] if e["data"].get("invariant")]
    assert "paid_order_has_one_server" in before  # production's damage, shown, not failed
    assert scenario["ok"] and all(c["ok"] for c in scenario["checks"])
    verify = next(s for s in scenario["steps"] if s["name"].startswith(f"verify {ORDER}"))
    assert verify["ok"] and verify["detail"]["server"]["plan_name"] == "G.16GB"

    injected = harness(
        "replay", str(out), "--inject", "wrong-plan-model", "--db", admin, "--format", "json"
    )
    assert injected.returncode == 1, injected.stderr
    caught = json.loads(injected.stdout)["caught_by"]
    assert {"silent", "invariants", "scenarios"} <= set(caught)
    assert any(ORDER in message for message in caught["invariants"])


def test_no_scrub_is_explicit_and_recorded(production: ClonedDatabase, tmp_path: Path) -> None:
    out = tmp_path / "raw.capture.json"
    _capture(production, out, "--no-scrub")
    document = json.loads(out.read_text())
    assert document["scrub"]["enabled"] is False
    assert "user1234@test.com" in out.read_text()
    assert "--no-scrub" in document["command"]


def test_a_fixed_key_gives_the_same_pseudonyms(production: ClonedDatabase, tmp_path: Path) -> None:
    first, second, third = (tmp_path / f"{n}.capture.json" for n in "abc")
    _capture(production, first, "--scrub-key", "k1")
    _capture(production, second, "--scrub-key", "k1")
    _capture(production, third, "--scrub-key", "k2")

    def email(path: Path) -> str:
        document = json.loads(path.read_text())
        (user,) = next(t["rows"] for t in document["tables"] if t["table"] == "public.users")
        return str(user["email"])

    assert email(first) == email(second) != email(third)
    assert "k1" not in first.read_text().replace(email(first), "")  # the key is not stored
