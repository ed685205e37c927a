"""A caller who says nothing gets a re-prompt, then a polite goodbye, then the app hangs up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from callkit import dial, normalise, wait_asterisk_clean, wait_call_ended

from testkit.local import SHORT_GREETING, LocalApp, write_config

pytestmark = pytest.mark.integration


def test_silent_caller_gets_a_reprompt_then_a_goodbye(
    asterisk_testbed: Any, transcribe: Any, tmp_path: Path
) -> None:
    config = write_config(tmp_path, {"turn": {"reprompt_after_s": 3, "goodbye_after_s": 7}},
                          SHORT_GREETING)
    with LocalApp(config, tmp_path / "app.log") as app:
        result = dial(
            exten="100", utterances=[], workdir=tmp_path / "call",
            hangup="remote", hangup_wait_ms=30000,
        )
        calls = wait_call_ended(tmp_path / "calls.sqlite3", 1)
    assert result.hung_up_by == "remote", app.output[-3000:]
    heard = normalise(transcribe(result.received_pcm, "ru"))
    assert "слышите" in heard, heard
    assert "свидан" in heard, heard
    call = calls[-1]
    assert [t["who"] for t in call["turns"]] == ["secretary"] * 3
    assert "слышите" in call["turns"][1]["text"]
    assert call["ended_by"] == "app_hangup"
    assert wait_asterisk_clean() == ([], [])
