"""The disk under the call records fills up during a call: the call goes on, the record's
writes wait in the spool (/metrics says how many), and once there is room again they are
written, in order, with nothing lost. Real Asterisk, sipp, the real app, SQLite on a 1 MiB
tmpfs filled to the last byte."""

from __future__ import annotations

import errno
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from callkit import answer, call_records, dial, scrape

from testkit.local import SHORT_GREETING, LocalApp, write_config

pytestmark = pytest.mark.integration


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; the file."""
    filler = disk / "filler"
    try:
        with filler.open("wb") as out:
            while True:
                out.write(b"\0" * 4096)
                out.flush()
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    return filler


def test_disk_full_during_a_call_loses_nothing(
    asterisk_testbed: Any, caller_audio: dict[str, Path], small_disk: Path, tmp_path: Path
) -> None:
    database = small_disk / "calls.sqlite3"
    config = write_config(tmp_path, {"storage": {"database": str(database),
                                                 "recordings_dir": str(tmp_path / "rec")}},
                          SHORT_GREETING)
    with LocalApp(config, tmp_path / "secretary.log") as app:
        filler = fill(small_disk)
        result = dial(
            exten="100",
            utterances=[answer(caller_audio["ru_hours"]), answer(caller_audio["ru_bye"])],
            workdir=tmp_path / "call", hangup="remote", hangup_wait_ms=15000,
        )
        assert result.sipp_rc == 0 and result.hung_up_by == "remote", app.output[-3000:]
        assert any(v is not None for v in result.v2v_ms), "the caller heard no answer"
        waiting = scrape().get("secretary_record_writes_spooled", 0)
        assert waiting >= 4, app.output[-3000:]  # start, turns, end: none written
        assert "kept to write later" in app.output
        filler.unlink()  # room again: the spool is retried every 5 s
        deadline = time.monotonic() + 20
        while scrape().get("secretary_record_writes_spooled", 0) > 0:
            assert time.monotonic() < deadline, app.output[-3000:]
            time.sleep(0.5)
    [call] = call_records(database)
    assert call["ended_by"] == "app_hangup" and call["ended_at"] is not None
    who = [t["who"] for t in call["turns"]]
    assert who == ["secretary", "caller", "secretary", "caller", "secretary"], who
    assert not (database.parent / "calls.sqlite3.spool.jsonl").exists()
