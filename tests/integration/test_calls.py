"""End-to-end calls: sipp dials the real Asterisk testbed, the real app answers with the real
models, and we check what the caller heard on the wire (transcribed with Whisper) and what
the call record holds. This module's app keeps its records on a real PostgreSQL server
(storage.url), as boxes sharing one database do; the other modules' apps use SQLite."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from callkit import (
    answer,
    call_records,
    dial,
    normalise,
    scrape,
    wait_asterisk_clean,
    wait_call_ended,
)
from conftest import RunningApp, run_secretary

from testkit.postgres import PostgresServer

pytestmark = pytest.mark.integration
NODE = "box-pg"


@pytest.fixture(scope="module")
def secretary_app(
    asterisk_testbed: Any, tmp_path_factory: pytest.TempPathFactory,
    postgres_server: PostgresServer,
) -> Iterator[RunningApp]:
    """`secretary run` with its records on the real PostgreSQL, as node NODE."""
    url = asyncio.run(postgres_server.database())
    yield from run_secretary(tmp_path_factory, overrides={"storage": {"url": url, "node": NODE}})

# The greeting lasts ~4-5 s, the hours answer ~8 s starting ~2-2.5 s after the question;
# the testbed config re-prompts only after 10 s of silence; the app is half-duplex, so the
# caller waits for each to finish before speaking.

CASES = {
    "ru": {
        "exten": "100",
        "greeting": ["ромашк", "анна", "здравствуйте"],
        "answer": ["понедельник", "девят|9", "пятниц"],
        "caller": ["час", "работ", "подскаж"],
    },
    "en": {
        "exten": "101",
        "greeting": ["romashka", "anna", "hello"],
        "answer": ["monday", "nine|9", "friday"],
        "caller": ["hour", "open"],
    },
}


def found(words: list[str], text: str) -> list[str]:
    """The entries of `words` heard in `text`. An entry may list spellings split by "|";
    Whisper writes a number as a word or as digits ("девять", "9"), and digits must stand
    alone ("9" is not found in "19")."""
    text = normalise(text)
    return [w for w in words if any(_heard(alt, text) for alt in w.split("|"))]


def _heard(word: str, text: str) -> bool:
    if word.isdigit():
        return re.search(rf"(?<!\d){word}(?!\d)", text) is not None
    return word in text


def open_files(pid: int) -> list[str]:
    """What the process's file descriptors point at (one closed meanwhile is left out)."""
    opened = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(FileNotFoundError):
            opened.append(os.readlink(fd))
    return opened


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_call_end_to_end(
    lang: str, secretary_app: Any, caller_audio: dict[str, Path], transcribe: Any, tmp_path: Path
) -> None:
    case = CASES[lang]
    before = scrape()
    result = dial(
        exten=str(case["exten"]),
        utterances=[
            answer(caller_audio[f"{lang}_hours"]),
            answer(caller_audio[f"{lang}_bye"]),
        ],
        workdir=tmp_path,
        hangup="remote",
        hangup_wait_ms=15000,
    )
    log = secretary_app.app.output
    assert result.sipp_rc == 0, result.sipp_log + log
    heard = transcribe(result.received_pcm, lang)
    assert found(case["greeting"], heard), f"no greeting in what the caller heard: {heard!r}"
    assert len(found(case["answer"], heard)) >= 2, f"no hours answer in: {heard!r}"
    # the app said goodbye and hung up itself
    assert result.hung_up_by == "remote", log[-3000:]

    calls = wait_call_ended(secretary_app.db, secretary_app.calls_before + 1)
    call = calls[-1]
    secretary_app.calls_before = len(calls)
    assert call["ended_by"] == "app_hangup"
    assert call["language"] == lang and call["node"] == NODE
    caller_turns = [t for t in call["turns"] if t["who"] == "caller"]
    assert len(caller_turns) == 2
    assert found(case["caller"], caller_turns[0]["text"]), caller_turns
    replies = [t for t in call["turns"] if t["who"] == "secretary"]
    assert len(replies) == 3  # greeting, hours, goodbye
    assert '"v2v_ms"' in replies[1]["timings"]
    assert Path(call["caller_wav"]).stat().st_size > 8000
    assert Path(call["secretary_wav"]).stat().st_size > 8000
    channels, bridges = wait_asterisk_clean()
    assert channels == [] and bridges == []
    # no engine phones home: after a call (the VAD, the end-of-turn model and the voice ran)
    # the app holds none of onnxruntime's telemetry files open (ari_app/telemetry.py)
    assert secretary_app.app.proc is not None
    opened = open_files(secretary_app.app.proc.pid)
    assert not [f for f in opened if "DeveloperTools" in f or "onnxruntime.db" in f], opened
    # /metrics counted the call, its two turns and the latency of both replies
    after = scrape()
    line = f"line={call['line']}"
    moved = {key: after.get(key, 0) - before.get(key, 0) for key in (
        f"secretary_calls_total{{ended_by=app_hangup,{line}}}", f"secretary_turns_total{{{line}}}",
        f"secretary_voice_to_voice_seconds_count{{{line}}}",
        "secretary_stage_seconds_count{stage=stt}",
    )}
    assert list(moved.values()) == [1, 2, 2, 2], moved
    assert after[f"secretary_calls_active{{{line}}}"] == 0


def test_caller_hangs_up_mid_reply(
    secretary_app: Any, caller_audio: dict[str, Path], tmp_path: Path
) -> None:
    result = dial(
        exten="100",
        utterances=[answer(caller_audio["ru_hours"])],
        workdir=tmp_path,
        hangup="caller",
        hangup_wait_ms=6500,  # the answer starts 2-3.5 s after the question and lasts ~8 s
    )
    assert result.sipp_rc == 0, result.sipp_log
    assert result.hung_up_by == "caller"
    calls = wait_call_ended(secretary_app.db, secretary_app.calls_before + 1)
    call = calls[-1]
    secretary_app.calls_before = len(calls)
    assert call["ended_by"] == "caller_hangup", secretary_app.app.output[-3000:]
    # it was cut mid-reply: the hours answer was started, and recorded as interrupted with
    # only the pieces the caller heard in full (its first clause, "Мы работаем с
    # понедельника по четверг ...,", may have been; Friday's hours, ~4 s later, were not)
    reply = call["turns"][-1]
    assert reply["who"] == "secretary" and '"interrupted": 1.0' in reply["timings"], reply
    assert "пятниц" not in reply["text"], reply
    channels, bridges = wait_asterisk_clean()
    assert channels == [] and bridges == []
    assert secretary_app.app.proc.poll() is None, "the app must survive a hangup"


def test_doctor_reads_the_running_app(secretary_app: Any) -> None:
    """`secretary doctor` next to a running app scrapes its /metrics."""
    done = subprocess.run(
        [sys.executable, "-m", "ari_app.cli.main", "doctor", "-c", str(secretary_app.config)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    out = done.stdout + done.stderr
    assert re.search(r"ok\s+secretary run\s+running \(http://127\.0\.0\.1:8080/metrics\): "
                     r"\d+ call\(s\) in progress", out), out
    assert re.search(r"ok\s+secretary run: call records written\s+every write succeeded", out), out
    assert re.search(r"ok\s+call database\s+postgresql://\S+: \d+ calls recorded", out), out


def test_the_console_api_of_the_running_app(secretary_app: Any) -> None:
    """`secretary run` serves the console's /api: refused without a session; a user made
    with `secretary user add` logs in and reads the call history of this very database."""
    base = "http://127.0.0.1:8080/api"
    assert httpx.get(f"{base}/calls", timeout=10).status_code == 401
    made = subprocess.run(
        [sys.executable, "-m", "ari_app.cli.main", "user", "add", "-c",
         str(secretary_app.config), "rita", "--role", "receptionist"],
        input="rita-secret-1\n", capture_output=True, text=True, timeout=60, check=False,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    with httpx.Client(base_url=base, timeout=10) as client:
        login = client.post("/login", json={"name": "rita", "password": "rita-secret-1"})
        assert login.status_code == 200, login.text
        calls = client.get("/calls", params={"limit": 5})
        assert calls.status_code == 200, calls.text
        stored = call_records(secretary_app.db)
        assert calls.json()["total"] == len(stored) > 0
        assert {c["node"] for c in calls.json()["items"]} == {NODE}
        assert client.get("/audit").status_code == 403  # admins only
