"""Registration, login, tokens, and isolation between customers."""

from __future__ import annotations

import jwt

from app.main import create_app


async def test_register_login_me(client, api) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "Alice@Example.com", "password": "correct horse battery staple"},
    )
    assert response.status_code == 201
    user = response.json()
    assert set(user) == {"id", "email", "is_admin", "created_at"}
    assert user["email"] == "alice@example.com" and user["is_admin"] is False

    headers = await api.login("alice@example.com")
    me = await client.get("/api/v1/auth/me", headers=headers)
    assert me.json()["id"] == user["id"]


async def test_duplicate_email_is_409(client, api) -> None:
    await api.user("bob@example.com")
    response = await client.post(
        "/api/v1/auth/register", json={"email": "BOB@example.com", "password": "x" * 12}
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "a user with this email already exists",
        "code": "email_already_registered",
    }


async def test_wrong_password_and_unknown_email_are_the_same_401(client, api) -> None:
    await api.user("carol@example.com")
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": "carol@example.com", "password": "nope-nope"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "detail": "invalid email or password",
            "code": "invalid_credentials",
        }
    )


async def test_password_is_stored_as_argon2id(api, db) -> None:
    await api.user("dave@example.com")
    stored = await db.value("SELECT password_hash FROM users")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored


async def test_admin_emails_become_admins(client, api) -> None:
    headers = await api.admin()
    assert (await client.get("/api/v1/auth/me", headers=headers)).json()["is_admin"] is True


async def test_bad_tokens_are_401(client, settings) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer " + jwt.encode({"sub": "1", "exp": 1}, "x" * 32)},
    ):
        response = await client.get("/api/v1/auth/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["code"] == "not_authenticated"
        assert response.headers["www-authenticate"] == "Bearer"


async def test_token_of_another_secret_or_a_deleted_user_is_401(client, settings, db) -> None:
    secret = settings.jwt_secret.get_secret_value()
    forged = jwt.encode({"sub": "1", "exp": 4_102_444_800}, "another-secret-" * 3)
    ghost = jwt.encode({"sub": "999999", "exp": 4_102_444_800}, secret)
    for token in (forged, ghost):
        response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


async def test_customers_never_see_each_other(client, api, gateway) -> None:
    alice = await api.user()
    bob = await api.user()
    order, fields = await api.paid_order(alice)
    server = (await api.verify(alice, fields)).json()["server"]

    assert (await client.get("/api/v1/orders", headers=bob)).json() == []
    assert (await client.get("/api/v1/servers", headers=bob)).json() == []
    by_number = await client.get(f"/api/v1/orders/{order['order_number']}", headers=bob)
    assert by_number.status_code == 404 and by_number.json()["code"] == "order_not_found"
    by_id = await client.get(f"/api/v1/servers/{server['id']}", headers=bob)
    assert by_id.status_code == 404 and by_id.json()["code"] == "server_not_found"
    # Bob cannot verify Alice's payment either, even with a valid signature.
    stolen = await api.verify(bob, fields)
    assert stolen.status_code == 404

    assert [
        o["order_number"] for o in (await client.get("/api/v1/orders", headers=alice)).json()
    ] == [order["order_number"]]
    assert [s["id"] for s in (await client.get("/api/v1/servers", headers=alice)).json()] == [
        server["id"]
    ]


async def test_malformed_ids_are_422_not_500(client, api) -> None:
    headers = await api.user()
    for path in (
        "/api/v1/orders/ORD-lowercase1",
        "/api/v1/orders/ORD-%00AAAAAAAA",
        "/api/v1/servers/0",
        "/api/v1/servers/99999999999999999999999",
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 422, path
    big_plan = await client.post(
        "/api/v1/orders", json={"plan_id": 2**40, "billing_cycle_months": 1}, headers=headers
    )
    assert big_plan.status_code == 422
    bad_cycle = await client.post(
        "/api/v1/orders", json={"plan_id": 2, "billing_cycle_months": 2}, headers=headers
    )
    assert bad_cycle.status_code == 422


def test_registration_requires_no_database_at_import() -> None:
    # create_app does no I/O: building an app against an unreachable database is fine.
    from app.config import Settings

    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:1/none"))
    assert app.state.resources._engine is None
