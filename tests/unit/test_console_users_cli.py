"""`secretary user add|list|remove`: the password from stdin, clear errors, the audit log."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
import yaml

from ari_app.cli.main import main
from ari_app.console.users import UserStore


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "secretary.yaml"
    db = tmp_path / "var" / "calls.sqlite3"
    path.write_text(yaml.safe_dump({"ari": {"password": "pw"}, "storage": {"database": str(db)}}))
    monkeypatch.setenv("SECRETARY_CONFIG", str(path))
    return db


def run(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(argv)


async def _check(db: Path, name: str, password: str) -> dict[str, object] | None:
    async with UserStore(db) as users:
        return await users.check_password(name, password)


async def _audit(db: Path) -> list[tuple[object, object]]:
    async with UserStore(db) as users:
        return [(r["what"], r["details"]["name"]) for r in await users.audit_log()]


def test_add_list_remove(config: Path, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    assert run(monkeypatch, ["user", "add", "anna", "--role", "admin"], "горячий чай 7\n") == 0
    assert "added anna (admin)" in capsys.readouterr().out
    user = asyncio.run(_check(config, "anna", "горячий чай 7"))
    assert user is not None and user["role"] == "admin"
    assert run(monkeypatch, ["user", "add", "rita", "--role", "receptionist", "-c",
                             str(config.parent.parent / "secretary.yaml")], "pw\n") == 0
    capsys.readouterr()
    assert run(monkeypatch, ["user", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == ["anna\tadmin", "rita\treceptionist"]
    assert run(monkeypatch, ["user", "remove", "rita"]) == 0
    assert run(monkeypatch, ["user", "remove", "rita"]) == 1
    assert "no user named 'rita'" in capsys.readouterr().err
    assert asyncio.run(_audit(config)) == [
        ("user_remove", "rita"), ("user_add", "rita"), ("user_add", "anna")
    ]


@pytest.mark.parametrize(
    ("argv", "stdin", "error"),
    [
        (["user", "add", "anna", "--role", "admin"], "other\n", "already exists"),
        (["user", "add", "bob", "--role", "boss"], "pw\n", "unknown role 'boss'"),
        (["user", "add", "bob", "--role", "admin"], "\n", "password is empty"),
        (["user", "add", "bob", "--role", "admin"], "", "password is empty"),
    ],
)
def test_clear_errors(config: Path, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str],
                      argv: list[str], stdin: str, error: str) -> None:
    assert run(monkeypatch, ["user", "add", "anna", "--role", "admin"], "pw\n") == 0
    capsys.readouterr()
    assert run(monkeypatch, argv, stdin) == 1
    assert error in capsys.readouterr().err
    assert asyncio.run(_check(config, "anna", "pw")) is not None  # the first one unharmed
    assert asyncio.run(_check(config, "bob", "pw")) is None
