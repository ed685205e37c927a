"""A whole call over the second media transport, chan_websocket with slin16 at 16 kHz."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from callkit import answer, dial, normalise, wait_asterisk_clean, wait_call_ended

from testkit.local import SHORT_GREETING, LocalApp, write_config

pytestmark = pytest.mark.integration


def test_call_over_chan_websocket(
    asterisk_testbed: Any, caller_audio: dict[str, Path], transcribe: Any, tmp_path: Path
) -> None:
    config = write_config(tmp_path, {"media": {"transport": "websocket"}}, SHORT_GREETING)
    with LocalApp(config, tmp_path / "app.log") as app:
        result = dial(
            exten="100",
            utterances=[
                answer(caller_audio["ru_hours"]),
                answer(caller_audio["ru_bye"]),
            ],
            workdir=tmp_path / "call",
            hangup="remote",
            hangup_wait_ms=15000,
        )
        assert result.sipp_rc == 0, result.sipp_log + app.output[-3000:]
        assert result.hung_up_by == "remote", app.output[-3000:]
        calls = wait_call_ended(tmp_path / "calls.sqlite3", 1)
    heard = normalise(transcribe(result.received_pcm, "ru"))
    assert "ромашк" in heard or "анна" in heard, heard
    assert "понедельник" in heard or "девят" in heard, heard
    assert "websocket" in app.output
    assert calls[-1]["ended_by"] == "app_hangup"
    assert [t["who"] for t in calls[-1]["turns"]].count("caller") == 2
    assert wait_asterisk_clean() == ([], [])
