"""With no app connected, a caller routed to the secretary is released, never left in silence."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from callkit import dial

from testkit.scenario import CallerLine

pytestmark = pytest.mark.integration


def test_app_down_caller_gets_busy_not_silence(
    asterisk_testbed: Any, caller_audio: dict[str, Path], tmp_path: Path
) -> None:
    """No app connected: the dialplan's Stasis fails and the caller is released quickly."""
    started = time.monotonic()
    result = dial(
        exten="102",
        utterances=[CallerLine(caller_audio["ru_bye"], pause_before_ms=500)],
        workdir=tmp_path,
        hangup="remote",
        hangup_wait_ms=20000,
    )
    # Asterisk plays congestion (183) and then refuses the call: a final 5xx, within seconds
    assert result.hung_up_by is None, result.sipp_log
    assert "SIP/2.0 503 Service Unavailable" in result.sipp_log, result.sipp_log
    assert time.monotonic() - started < 20
