"""`secretary records copy`: a box's SQLite file copied into a database that already holds
another box's calls (a real SQLite file, then a real PostgreSQL): everything arrives, with
the target's own ids and nothing of the target's lost; run again, nothing is copied twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ari_app.cli.main import main
from ari_app.console.users import UserStore
from ari_app.storage import CallStore, Database, StorageError
from ari_app.storage.copy import check_targets, copy_records


async def fill_box(path: Path, calls: int) -> None:
    """A box's own file: calls with turns (one with a message), a message left in the chat,
    an account and its audit entry. Its calls name no box (as before calls named one)."""
    async with CallStore(path, node="") as store:
        for i in range(calls):
            await store.start_call(f"a{i:03d}", "ch", "ru", None, f"+7916{i:07d}", "ru",
                                   started_at=1000.0 + i)
            await store.add_turn(f"a{i:03d}", "secretary", "Здравствуйте!", 1000.0 + i,
                                 1001.0 + i, {"v2v": 0.7})
            await store.add_turn(f"a{i:03d}", "caller", f"Вопрос номер {i}", 1002.0 + i,
                                 1003.0 + i)
            await store.end_call(f"a{i:03d}", "caller_hangup", ended_at=1010.0 + i)
        await store.add_message("a001", {"name": "Анна", "reason": "перезвонить",
                                         "callback_number": "89161234567"})
        await store.add_message(None, {"name": "Чат", "reason": "проверка"})
    async with UserStore(path) as users:
        await users.add("anna", "admin", "a-long-password-1")
        await users.audit("anna", "voice_choice", language="ru")


async def test_a_box_file_goes_into_a_shared_database_once(
    tmp_path: Path, db_target: Path | str,
) -> None:
    box = tmp_path / "box-a.sqlite3"
    await fill_box(box, 7)
    async with CallStore(db_target, node="box-b") as shared:  # the other box's own call
        await shared.start_call("b000", "ch", "en", None, "+100", "en", started_at=1003.5)
        await shared.add_turn("b000", "caller", "Hello", 1003.5, 1004.0)
    async with UserStore(db_target) as users:
        await users.add("anna", "receptionist", "the-target-own-1")  # the target's wins

    source, target = Database(box), Database(db_target)
    await source.open()
    await target.open()
    try:
        report = await copy_records(source, target, node="box-a", batch=3)
        again = await copy_records(source, target, node="box-a", batch=3)
    finally:
        await source.close()
        await target.close()
    assert report.copied == {"calls": 7, "turns": 14, "messages": 2, "console_users": 0,
                             "console_audit": 1}
    assert report.kept["console_users"] == 1
    assert sum(again.copied.values()) == 0
    assert again.kept == {"calls": 7, "turns": 14, "messages": 2, "console_users": 1,
                          "console_audit": 1}

    async with CallStore(db_target, node="box-b") as shared:
        page, total = await shared.search_calls(50)
        assert total == 8
        assert [c["call_id"] for c in page][:5] == ["a006", "a005", "a004", "b000", "a003"]
        assert {c["call_id"]: c["node"] for c in page}["b000"] == "box-b"
        assert {c["node"] for c in page if c["call_id"] != "b000"} == {"box-a"}
        call = await shared.get_call("a004")
        assert call is not None and call["ended_by"] == "caller_hangup"
        assert [t["text"] for t in call["turns"]] == ["Здравствуйте!", "Вопрос номер 4"]
        assert call["turns"][0]["timings"] == {"v2v": 0.7}
        found, _ = await shared.search_calls(words="НОМЕР 4")  # the folded text came along
        assert [c["call_id"] for c in found] == ["a004"]
        left = await shared.messages(10)
        assert {(m["call_id"], m["name"]) for m in left} == {(None, "Чат"), ("a001", "Анна")}
    async with UserStore(db_target) as users:
        account = await users.get("anna")
        assert account is not None and account["role"] == "receptionist"
        assert [a["what"] for a in await users.audit_log(10)] == ["voice_choice"]


def test_the_command_copies_and_refuses_what_it_cannot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    box, shared = tmp_path / "box.sqlite3", tmp_path / "shared" / "calls.sqlite3"
    asyncio.run(fill_box(box, 2))
    assert main(["records", "copy", str(box), str(shared), "--node", "box-a"]) == 0
    out = capsys.readouterr().out
    assert "calls: 2 copied, 0 already there" in out and "turns: 4 copied" in out
    assert main(["records", "copy", str(box), str(shared)]) == 0
    assert "calls: 0 copied, 2 already there" in capsys.readouterr().out
    missing = tmp_path / "nowhere.sqlite3"
    assert main(["records", "copy", str(missing), str(shared)]) != 0
    assert f"{missing}: no such call database file" in capsys.readouterr().err
    assert not missing.exists()  # not made empty by the attempt
    with pytest.raises(StorageError, match="the same database"):
        check_targets(box, str(box))
    assert main(["records", "copy", str(box), "mysql://x/y"]) != 0
    assert "storage.url: unsupported database" in capsys.readouterr().err
