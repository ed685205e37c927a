"""With no app connected, a caller routed to the secretary is released, never left in silence."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from callkit import dial

from ari_app.testcall.scenario import Utterance

pytestmark = pytest.mark.integration


def test_app_down_caller_gets_busy_not_silence(
    asterisk_testbed: Any, caller_audio: dict[str, Path], tmp_path: Path
) -> None:
    """No app connected: the dialplan's Stasis fails and the caller is released quickly."""
    started = time.monotonic()
    result = dial(
        exten="102",
        utterances=[Utterance(caller_audio["ru_bye"], pause_before_ms=500)],
        workdir=tmp_path,
        hangup="remote",
        hangup_wait_ms=20000,
    )
    # either rejected outright or answered with a busy tone and hung up by Asterisk
    assert result.hung_up_by in ("remote", "rejected"), result.sipp_log
    assert time.monotonic() - started < 20
