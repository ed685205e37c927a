"""The console's sessions: login, logout, CSRF, roles, the login rate limit and the audit
log, against a real SQLite file and a clock moved by hand."""

from __future__ import annotations

from pathlib import Path

import httpx
from console_fixtures import PASSWORDS, console, login

from ari_app.console.auth import COOKIE, CSRF_HEADER
from ari_app.console.server import ConsoleServer, console_app
from ari_app.console.sessions import LOCKOUT_S, MAX_FAILURES, SESSION_TTL_S
from ari_app.console.settings import ConsoleConfig
from ari_app.console.users import UserStore
from ari_app.metrics import Metrics
from ari_app.storage import CallStore


async def test_login_sets_a_strict_httponly_cookie_and_returns_the_user(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        response = await client.post("/api/login", json={"name": "rita", "password": "recept-pass"})
        assert response.status_code == 200
        body = response.json()
        assert body["user"] == {"name": "rita", "role": "receptionist"}
        assert len(body["csrf_token"]) >= 32
        cookie = response.headers["set-cookie"].lower()
        assert f"{COOKIE}=" in cookie
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
        assert "secure" not in cookie  # plain http on loopback: a Secure cookie would not come back
        me = await client.get("/api/me")
        assert me.status_code == 200
        assert me.json()["user"]["name"] == "rita"
        assert me.json()["csrf_token"] == body["csrf_token"]


async def test_over_https_the_cookie_is_secure(tmp_path: Path) -> None:
    async with console(tmp_path) as c:
        transport = httpx.ASGITransport(app=c.app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="https://console.test") as tls:
            response = await tls.post("/api/login", json={"name": "rita",
                                                          "password": PASSWORDS["rita"]})
            assert "; secure" in response.headers["set-cookie"].lower()
            assert (await tls.get("/api/me")).status_code == 200


async def test_wrong_password_and_unknown_name_are_refused_alike(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        wrong = await client.post("/api/login", json={"name": "rita", "password": "nope"})
        unknown = await client.post("/api/login", json={"name": "nobody", "password": "x"})
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json() == unknown.json()
        assert "set-cookie" not in wrong.headers
        assert (await client.get("/api/me")).status_code == 401


async def test_every_api_route_wants_a_session(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        for path in ("/api/me", "/api/calls", "/api/calls/x", "/api/messages", "/api/audit"):
            assert (await client.get(path)).status_code == 401, path
        assert (await client.post("/api/logout")).status_code == 401
        forged = {COOKIE: "made-up"}
        client.cookies.update(forged)
        assert (await client.get("/api/me")).status_code == 401


async def test_receptionist_may_not_read_the_audit_log(tmp_path: Path) -> None:
    async with console(tmp_path) as c:
        async with c.client() as rita:
            await login(rita, "rita")
            assert (await rita.get("/api/calls")).status_code == 200
            assert (await rita.get("/api/audit")).status_code == 403
        async with c.client() as root:
            await login(root, "root")
            assert (await root.get("/api/audit")).status_code == 200


async def test_state_changing_requests_need_the_sessions_csrf_token(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        csrf = await login(client, "rita")
        assert (await client.post("/api/logout")).status_code == 403
        bad = await client.post("/api/logout", headers={CSRF_HEADER: "x" + csrf})
        assert bad.status_code == 403
        assert (await client.get("/api/me")).status_code == 200  # still signed in
        ok = await client.post("/api/logout", headers={CSRF_HEADER: csrf})
        assert ok.status_code == 204


async def test_logout_ends_the_session_for_a_replayed_cookie_too(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        csrf = await login(client, "root")
        token = client.cookies[COOKIE]
        assert (await client.post("/api/logout", headers={CSRF_HEADER: csrf})).status_code == 204
        assert (await client.get("/api/me")).status_code == 401
        async with c.client() as thief:
            thief.cookies.set(COOKIE, token)
            assert (await thief.get("/api/me")).status_code == 401


async def test_a_session_expires_when_idle(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        await login(client, "rita")
        c.clock.now += SESSION_TTL_S - 1
        assert (await client.get("/api/me")).status_code == 200  # use moves the expiry on
        c.clock.now += SESSION_TTL_S - 1
        assert (await client.get("/api/me")).status_code == 200
        c.clock.now += SESSION_TTL_S
        assert (await client.get("/api/me")).status_code == 401


async def test_a_removed_user_is_signed_out(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        await login(client, "rita")
        assert await c.users.remove("rita")
        assert (await client.get("/api/me")).status_code == 401


async def test_failed_logins_per_name_lock_that_name_for_a_while(tmp_path: Path) -> None:
    async with console(tmp_path) as c:
        for i in range(MAX_FAILURES):
            async with c.client(f"10.0.1.{i}") as client:  # a new address each time
                bad = await client.post("/api/login", json={"name": "rita", "password": "no"})
                assert bad.status_code == 401
        async with c.client("10.0.2.1") as client:
            right = {"name": "rita", "password": PASSWORDS["rita"]}
            refused = await client.post("/api/login", json=right)
            assert refused.status_code == 429
            assert int(refused.headers["retry-after"]) > 0
            other = await client.post("/api/login", json={"name": "root",
                                                          "password": PASSWORDS["root"]})
            assert other.status_code == 200  # only rita's name is locked
            c.clock.now += LOCKOUT_S + 1
            assert (await client.post("/api/login", json=right)).status_code == 200


async def test_failed_logins_per_address_lock_that_address(tmp_path: Path) -> None:
    async with console(tmp_path) as c:
        async with c.client("10.9.9.9") as guesser:
            for i in range(MAX_FAILURES):
                bad = await guesser.post("/api/login", json={"name": f"u{i}", "password": "x"})
                assert bad.status_code == 401
            right = {"name": "root", "password": PASSWORDS["root"]}
            assert (await guesser.post("/api/login", json=right)).status_code == 429
        async with c.client("10.0.0.2") as elsewhere:
            assert (await elsewhere.post("/api/login", json=right)).status_code == 200


async def test_fewer_failures_than_the_limit_do_not_lock(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        for _ in range(MAX_FAILURES - 1):
            await client.post("/api/login", json={"name": "rita", "password": "no"})
        await login(client, "rita")


async def test_logins_logouts_and_failures_are_audited(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client("10.1.2.3") as client:
        await client.post("/api/login", json={"name": "root", "password": "wrong"})
        c.clock.now += 1
        csrf = await login(client, "root")
        c.clock.now += 1
        await client.post("/api/logout", headers={CSRF_HEADER: csrf})
        rows = await c.users.audit_log()
        assert [(r["who"], r["what"]) for r in rows] == [
            ("root", "logout"), ("root", "login"), ("root", "login_failed")
        ]
        assert all(r["details"] == {"address": "10.1.2.3"} for r in rows)
        assert rows[0]["at"] == c.clock.now
        csrf = await login(client, "root")
        page = (await client.get("/api/audit", params={"limit": 2})).json()["items"]
        assert [r["what"] for r in page] == ["login", "logout"]
        assert "password" not in str(page)


async def test_openapi_document_lists_the_api(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        paths = (await client.get("/api/openapi.json")).json()["paths"]
        assert {"/api/login", "/api/logout", "/api/me", "/api/calls", "/api/calls/{call_id}",
                "/api/messages", "/api/audit"} <= set(paths)
        assert "/metrics" not in paths


async def test_the_running_console_server_opens_and_closes_the_accounts(tmp_path: Path) -> None:
    db = tmp_path / "calls.sqlite3"
    async with UserStore(db) as users:
        await users.add("root", "admin", PASSWORDS["root"])
    async with CallStore(db) as store:
        accounts = UserStore(db)
        server = ConsoleServer(ConsoleConfig(listen="127.0.0.1:0"), Metrics(), store, accounts)
        await server.start()
        try:
            assert server.url is not None
            async with httpx.AsyncClient(base_url=server.url) as client:
                await login(client, "root")
                assert (await client.get("/api/calls")).json()["total"] == 0
                assert (await client.get("/metrics")).status_code == 200
                proxied = await client.post(  # nginx on loopback, TLS in front of it
                    "/api/login", json={"name": "root", "password": PASSWORDS["root"]},
                    headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
                assert "; secure" in proxied.headers["set-cookie"].lower()
                latest = (await accounts.audit_log(1))[0]
                assert latest["details"] == {"address": "203.0.113.9"}  # the client, not nginx
        finally:
            await server.close()
        assert not accounts.db.is_open


async def test_without_accounts_there_is_no_api(tmp_path: Path) -> None:
    transport = httpx.ASGITransport(app=console_app(Metrics()))
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.post("/api/login", json={"name": "a", "password": "b"})
                ).status_code == 404
