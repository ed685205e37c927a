"""storage.url and storage.node: a server URL checked at start, the stores and the doctor
pointed at the real PostgreSQL the tests start, and a dead server named plainly."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from ari_app.config import Config, parse_config
from ari_app.doctor.run import database_check
from ari_app.errors import ConfigError
from ari_app.storage import CallStore, StorageError
from testkit.postgres import PostgresServer

ARI = {"url": "http://127.0.0.1:8088", "username": "u", "password": "p"}


def _config(storage: dict[str, object]) -> Config:
    return Config.model_validate({"ari": ARI, "storage": storage})


@pytest.mark.parametrize("url", ["mysql://db/calls", "calls.sqlite3", "http://db:5432/x"])
def test_a_url_that_is_not_postgresql_is_refused_naming_the_key(url: str) -> None:
    with pytest.raises(ConfigError, match=r"storage\.url.*postgresql://"):
        parse_config({"ari": ARI, "storage": {"url": url}}, "test.yaml", {})


def test_the_node_is_this_host_unless_named(tmp_path: Path) -> None:
    assert _config({}).storage.node == socket.gethostname()
    named = _config({"node": "box-b", "url": "postgres://s@db/calls"})
    assert named.storage.node == "box-b"
    assert named.storage.target == "postgresql://s@db/calls"
    assert _config({"database": str(tmp_path / "c.db")}).storage.target == tmp_path / "c.db"


async def test_the_doctor_reads_the_server_and_names_a_dead_one(
    postgres_server: PostgresServer,
) -> None:
    url = await postgres_server.database()
    cfg = _config({"url": url, "node": "box-a"})
    fresh = await database_check(cfg)
    assert fresh.ok and "no tables yet" in fresh.detail
    async with CallStore(cfg.storage.target, node=cfg.storage.node) as store:
        await store.start_call("c1", "ch", "ru", None, None, "ru")
    counted = await database_check(cfg)
    assert counted.ok and "1 calls recorded" in counted.detail

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    dead = _config({"url": f"postgresql://secretary:hunter2@127.0.0.1:{dead_port}/calls"})
    check = await database_check(dead)
    assert check.status == "fail" and "storage.url" in check.fix
    assert "hunter2" not in check.detail and str(dead_port) in check.detail
    with pytest.raises(StorageError, match=str(dead_port)) as refused:
        await CallStore(dead.storage.target).open()
    assert "hunter2" not in str(refused.value)


async def test_a_server_gone_mid_run_is_a_storage_error_and_back_it_takes_writes() -> None:
    """The database server dies during calls: each write fails within seconds as a
    StorageError naming the server (the call's record spool keeps it), and once the server
    is back the same store writes again without being reopened."""
    server = PostgresServer(durable=True).start()
    try:
        url = await server.database()
        async with CallStore(url, node="box-a") as store:
            await store.start_call("c1", "ch", "ru", None, None, "ru")
            server.kill()
            with pytest.raises(StorageError, match=f"127.0.0.1:{server.port}"):
                await asyncio.wait_for(store.add_turn("c1", "caller", "алло", 1.0, 2.0), 30)
            server.start()
            assert await store.add_turn("c1", "caller", "алло", 1.0, 2.0) == 0
            assert await store.end_call("c1", "caller_hangup")
    finally:
        server.stop()
