"""The console's accounts page API and its health page API: admin only, CSRF, audited, the
last admin kept, a removed user signed out; the health checks as the doctor says them."""

from __future__ import annotations

from pathlib import Path

from console_fixtures import PASSWORDS, console, login

from ari_app.console.auth import CSRF_HEADER


async def test_an_admin_manages_accounts_and_each_change_is_audited(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        headers = {CSRF_HEADER: await login(client, "root")}
        names = [u["name"] for u in (await client.get("/api/users")).json()["items"]]
        assert names == ["rita", "root"]
        made = await client.post("/api/users", headers=headers,
                                 json={"name": "olga", "role": "receptionist",
                                       "password": "olga-pass-1"})
        assert made.status_code == 201, made.text
        assert made.json()["role"] == "receptionist" and "password_hash" not in made.json()
        again = await client.post("/api/users", headers=headers,
                                  json={"name": "olga", "role": "admin", "password": "x" * 9})
        assert again.status_code == 409
        for bad in ({"name": "p", "role": "boss", "password": "x" * 9},
                    {"name": "p", "role": "admin", "password": "short"},
                    {"name": "with space", "role": "admin", "password": "x" * 9}):
            assert (await client.post("/api/users", headers=headers, json=bad)
                    ).status_code == 422, bad
        assert await c.users.check_password("olga", "olga-pass-1") is not None
        promoted = await client.patch("/api/users/olga", headers=headers,
                                      json={"role": "admin", "password": "olga-pass-2"})
        assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
        assert await c.users.check_password("olga", "olga-pass-1") is None
        assert await c.users.check_password("olga", "olga-pass-2") is not None
        assert (await client.delete("/api/users/olga", headers=headers)).status_code == 204
        assert (await client.delete("/api/users/olga", headers=headers)).status_code == 404
        assert await c.users.get("olga") is None
        audit = [(a["who"], a["what"]) for a in await c.users.audit_log(10)]
        assert [w for who, w in audit if who == "root" and w.startswith("user_")] == [
            "user_remove", "user_change", "user_add"]
        assert all("olga-pass" not in str(a) for a in await c.users.audit_log(10))


async def test_the_last_admin_stays_and_nobody_removes_themselves(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        headers = {CSRF_HEADER: await login(client, "root")}
        assert (await client.delete("/api/users/root", headers=headers)).status_code == 409
        demote = await client.patch("/api/users/root", headers=headers,
                                    json={"role": "receptionist"})
        assert demote.status_code == 409
        assert (await c.users.get("root") or {}).get("role") == "admin"


async def test_a_receptionist_may_not_and_a_removed_user_is_signed_out(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as admin, c.client() as rita:
        headers = {CSRF_HEADER: await login(admin, "root")}
        rita_headers = {CSRF_HEADER: await login(rita, "rita")}
        assert (await rita.get("/api/users")).status_code == 403
        assert (await rita.get("/api/health")).status_code == 403
        assert (await rita.post("/api/users", headers=rita_headers,
                                json={"name": "x", "role": "admin", "password": "x" * 9})
                ).status_code == 403
        assert (await admin.post("/api/users", json={"name": "x", "role": "admin",
                                                     "password": "x" * 9})
                ).status_code == 403  # no CSRF header
        assert (await rita.get("/api/calls")).status_code == 200
        assert (await admin.delete("/api/users/rita", headers=headers)).status_code == 204
        assert (await rita.get("/api/calls")).status_code == 401
        relogin = await rita.post("/api/login", json={"name": "rita",
                                                      "password": PASSWORDS["rita"]})
        assert relogin.status_code == 401


async def test_health_reports_each_check_with_its_fix(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        assert (await client.get("/api/health")).status_code == 401
        await login(client, "root")
        reply = await client.get("/api/health")
        assert reply.status_code == 200
        body = reply.json()
        assert body["ok"] is False and body["summary"].startswith("1 problem")
        assert [x["status"] for x in body["checks"]] == ["ok", "fail", "warn"]
        assert body["checks"][1]["fix"] == "check the credentials"
        assert body["checked_at"] == c.clock.now

