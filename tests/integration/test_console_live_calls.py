"""The console's live view of a real call (sipp caller, the testbed's Asterisk, `secretary
run`): `WS /api/live` tells the call's start within a second and the caller's words; the
listen-in socket carries 20 ms frames of 8 kHz audio that are loud while the caller speaks;
an operator's transfer rings the staff phone (sipp on 5090), which takes the call, and the
record says who put it through."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import websockets
from callkit import answer, wait_call_ended

from ari_app.console.auth import COOKIE, CSRF_HEADER
from testkit.local import SHORT_GREETING
from testkit.runner import place_call
from testkit.scenario import CallerLine
from testkit.staff import StaffPhone

pytestmark = pytest.mark.integration

GREETING = SHORT_GREETING  # the caller asks once it is over (conftest.secretary_app)
HOST = "127.0.0.1:8080"  # console.listen of the testbed config
LOUD_RMS = 300  # about -40 dBFS: speech, not line noise


def add_receptionist(config: Path, name: str, password: str) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "ari_app.cli.main", "user", "add", "-c", str(config), name,
         "--role", "receptionist"],
        input=f"{password}\n", capture_output=True, text=True, timeout=60, check=False,
    )
    assert made.returncode == 0, made.stdout + made.stderr


async def collect(ws: websockets.ClientConnection, into: list[tuple[float, Any]]) -> None:
    """Everything the socket sends, with when it arrived (JSON text decoded)."""
    with contextlib.suppress(websockets.ConnectionClosed):
        async for message in ws:
            item = json.loads(message) if isinstance(message, str) else message
            into.append((time.monotonic(), item))


async def first(events: list[tuple[float, Any]], match: Callable[[dict[str, Any]], bool],
                timeout_s: float) -> tuple[float, dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for at, event in events:
            if match(event):
                return at, event
        await asyncio.sleep(0.02)
    raise AssertionError(f"no such event in {timeout_s} s: {[e for _, e in events]}")


async def test_live_view_listen_in_and_operator_transfer(
    secretary_app: Any, caller_audio: dict[str, Path], tmp_path: Path
) -> None:
    add_receptionist(secretary_app.config, "lena", "lena-secret-1")
    async with httpx.AsyncClient(base_url=f"http://{HOST}/api", timeout=10) as http:
        login = await http.post("/login", json={"name": "lena", "password": "lena-secret-1"})
        assert login.status_code == 200, login.text
        csrf = login.json()["csrf_token"]
        cookie = {"Cookie": f"{COOKIE}={http.cookies[COOKIE]}"}
        events: list[tuple[float, Any]] = []
        frames: list[tuple[float, Any]] = []
        async with websockets.connect(f"ws://{HOST}/api/live", additional_headers=cookie) as live, \
                StaffPhone(tmp_path / "staff", "accept", ring_ms=1000, key_after_ms=3000) as phone:
            watching = asyncio.create_task(collect(live, events))
            await first(events, lambda e: e["type"] == "snapshot", 5)
            calling = asyncio.create_task(place_call(
                exten="100",
                utterances=[answer(caller_audio["ru_hours"]),
                            CallerLine(caller_audio["ru_hello_staff"], pause_before_ms=14000)],
                workdir=tmp_path / "caller", hangup="caller", hangup_wait_ms=2000,
            ))
            got_at, started = await first(events, lambda e: e["type"] == "call_started", 20)
            delay = time.time() - (time.monotonic() - got_at) - started["call"]["started_at"]
            assert delay < 1.0, f"call_started came {delay:.2f} s after the call began"
            call_id = started["call"]["call_id"]
            async with websockets.connect(f"ws://{HOST}/api/live/{call_id}/listen",
                                          additional_headers=cookie) as ear:
                listening = asyncio.create_task(collect(ear, frames))
                heard_at, turn = await first(
                    events, lambda e: e["type"] == "turn" and e["turn"]["who"] == "caller"
                    and e["call_id"] == call_id, 30)
                assert turn["turn"]["text"].strip(), turn
                speaking_at, _ = await first(
                    events, lambda e: e["type"] == "speaking" and e["who"] == "caller", 1)
                await asyncio.sleep(0.5)
            await asyncio.wait_for(listening, 5)
            assert frames and all(isinstance(f, bytes) and len(f) == 320 for _, f in frames)
            while_speaking = [np.sqrt(np.mean(np.frombuffer(f, "<i2").astype(float) ** 2))
                              for at, f in frames if speaking_at <= at <= heard_at + 0.5]
            assert while_speaking and max(while_speaking) > LOUD_RMS, while_speaking[:50]

            moved = await http.post(f"/live/{call_id}/transfer", json={"to": "accounting"},
                                    headers={CSRF_HEADER: csrf})
            assert moved.status_code == 200, moved.text
            _, transfer = await first(events, lambda e: e["type"] == "transfer", 5)
            assert transfer == {"type": "transfer", "call_id": call_id, "to": "accounting",
                                "by": "lena"}
            staff = await phone.result(timeout_s=40)
            result = await calling
            _, ended = await first(events, lambda e: e["type"] == "call_ended", 10)
            watching.cancel()
        assert result.sipp_rc == 0, result.sipp_log
        assert staff.key_sent_at_log, staff.log  # the staff phone took the call with 1
        assert ended["ended_by"] == "transferred", ended
    calls = wait_call_ended(secretary_app.db, secretary_app.calls_before + 1)
    secretary_app.calls_before = len(calls)
    record = next(c for c in calls if c["call_id"] == call_id)
    assert (record["transferred_to"], record["ended_by"]) == ("accounting", "transferred")
    with sqlite3.connect(secretary_app.db) as db:
        by = db.execute("SELECT transferred_by FROM calls WHERE call_id = ?", (call_id,))
        assert by.fetchone()[0] == "lena"
        audit = db.execute("SELECT who, what FROM console_audit WHERE what IN "
                           "('listen_in', 'transfer')").fetchall()
    assert set(audit) == {("lena", "listen_in"), ("lena", "transfer")}
