"""The media path under abuse: garbage and foreign RTP mid-call, a media leg killed under a
live call (the other transport has its own module: test_websocket_media.py)."""

from __future__ import annotations

import json
import os
import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from callkit import (
    ARI,
    AUTH,
    answer,
    ari_get,
    dial,
    normalise,
    wait_asterisk_clean,
    wait_call_ended,
)

from testkit.local import SHORT_GREETING, LocalApp

pytestmark = pytest.mark.integration
GREETING = SHORT_GREETING  # ~2 s: the garbage still comes while it plays



def wait_for(pattern: str, app: LocalApp, since: int, timeout_s: float = 20) -> re.Match[str]:
    deadline = time.monotonic() + timeout_s
    while True:
        match = re.search(pattern, app.output[since:])
        if match:
            return match
        assert time.monotonic() < deadline, f"no {pattern!r} in log:\n{app.output[since:]}"
        time.sleep(0.05)


def hours_call(audio: dict[str, Path], workdir: Path, hangup_wait_ms: int = 15000) -> Any:
    return dial(
        exten="100",
        utterances=[
            answer(audio["ru_hours"]),
            answer(audio["ru_bye"]),
        ],
        workdir=workdir,
        hangup="remote",
        hangup_wait_ms=hangup_wait_ms,
    )


def test_garbage_rtp_is_dropped_and_the_call_goes_on(
    secretary_app: Any, caller_audio: dict[str, Path], transcribe: Any, tmp_path: Path
) -> None:
    app: LocalApp = secretary_app.app
    since = len(app.output)
    with ThreadPoolExecutor(1) as pool:
        call = pool.submit(hours_call, caller_audio, tmp_path)
        port = int(wait_for(r"media leg rtp local_port=(\d+)", app, since).group(1))
        time.sleep(1.0)  # into the greeting
        blasts = [
            os.urandom(n) for n in (1, 5, 11, 12, 40, 172, 400)
        ]  # too short, random headers, random sizes
        blasts.append(bytes([0x80, 0x60]) + os.urandom(170))  # a valid-looking RTP, PT 96
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for i in range(200):
                sock.sendto(blasts[i % len(blasts)], ("127.0.0.1", port))
                time.sleep(0.002)
        result = call.result(timeout=120)
    assert result.sipp_rc == 0, result.sipp_log
    heard = transcribe(result.received_pcm, "ru")
    assert "понедельник" in normalise(heard) or "девят" in normalise(heard), heard
    stats = wait_for(r"media stats received=\d+ sent=\d+ dropped=(\{.*\})", app, since)
    dropped = json.loads(stats.group(1))
    assert sum(dropped.values()) >= 200, dropped
    calls = wait_call_ended(secretary_app.db, secretary_app.calls_before + 1)
    secretary_app.calls_before = len(calls)
    assert calls[-1]["ended_by"] == "app_hangup"
    assert wait_asterisk_clean() == ([], [])


def test_lost_media_leg_hangs_up_the_caller(
    secretary_app: Any, caller_audio: dict[str, Path], tmp_path: Path
) -> None:
    """If the media channel dies, the caller must not be left on a silent line."""
    app: LocalApp = secretary_app.app
    since = len(app.output)
    with ThreadPoolExecutor(1) as pool:
        call = pool.submit(hours_call, caller_audio, tmp_path, 30000)
        wait_for(r"media leg rtp", app, since)
        time.sleep(1.0)
        media = [c for c in ari_get("/channels") if c["id"].startswith("secretary-media-")]
        assert len(media) == 1, media
        httpx.delete(f"{ARI}/channels/{media[0]['id']}", auth=AUTH, timeout=5).raise_for_status()
        started = time.monotonic()
        result = call.result(timeout=120)
    assert result.hung_up_by == "remote", result.sipp_log
    calls = wait_call_ended(secretary_app.db, secretary_app.calls_before + 1)
    secretary_app.calls_before = len(calls)
    assert calls[-1]["ended_by"] == "media_lost"
    assert time.monotonic() - started < 25
    assert wait_asterisk_clean() == ([], [])
