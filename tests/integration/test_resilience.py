"""What the app does when things around it go wrong: bad credentials, no Asterisk, an
Asterisk restart, a second instance, a missing model. All against the real testbed."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from callkit import answer, dial, wait_asterisk_clean, wait_call_ended
from lineskit import sip_invite
from test_app_death import wait_for_media_leg

from testkit.local import REPO, write_config

pytestmark = pytest.mark.integration


def secretary(*args: str, timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ari_app.cli.main", *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout_s,
    )


def test_wrong_password_is_a_clear_error(asterisk_testbed: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path, {"ari": {"password": "not-the-password"}})
    proc = secretary("run", "-c", str(config))
    assert proc.returncode == 3, proc.stderr
    assert "ari.password" in proc.stderr and "401" in proc.stderr


def test_asterisk_not_running_retries_then_says_so(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        {"ari": {"url": "http://127.0.0.1:8099", "connect_retries": 3,
                 "retry_initial_s": 0.2, "retry_max_s": 1.0}},
    )
    proc = secretary("run", "-c", str(config))
    assert proc.returncode == 4, proc.stderr
    assert proc.stderr.count("retrying in") == 3, proc.stderr
    for delay in ("0.2 s", "0.4 s", "0.8 s"):
        assert f"retrying in {delay}" in proc.stderr
    assert "not answering" in proc.stderr and "asterisk-testbed start" in proc.stderr


def test_doctor_reports_ok_and_problems(asterisk_testbed: Any, tmp_path: Path) -> None:
    good = secretary("doctor", "-c", str(write_config(tmp_path)))
    assert good.returncode == 0, good.stdout + good.stderr
    assert "All checks passed" in good.stdout
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    bad = secretary("doctor", "-c", str(write_config(bad_dir, {"ari": {"password": "nope"}})))
    assert bad.returncode == 1
    assert "FAIL" in bad.stdout and "401" in bad.stdout


def test_missing_model_names_the_fix(tmp_path: Path) -> None:
    empty = tmp_path / "no-models"
    empty.mkdir()
    config = write_config(tmp_path, {"paths": {"models_dir": str(empty)}})
    proc = secretary("run", "-c", str(config))
    assert proc.returncode == 5, proc.stderr
    assert "setup-models" in proc.stderr


def test_second_instance_is_refused(secretary_app: Any, tmp_path: Path) -> None:
    proc = secretary("run", "-c", str(write_config(tmp_path)))
    assert proc.returncode == 4, proc.stderr
    assert "already connected" in proc.stderr and "pid" in proc.stderr
    assert secretary_app.app.proc.poll() is None


def test_reconnects_after_asterisk_restart(
    asterisk_testbed: Any, secretary_app: Any, caller_audio: dict[str, Path], tmp_path: Path
) -> None:
    """Asterisk restarts in the middle of a call: the app reconnects, the call's record is
    closed with a reason, and the next call is answered."""
    app = secretary_app.app
    live = threading.Thread(target=sip_invite, args=(tmp_path / "live",), daemon=True,
                            kwargs={"local_ip": "127.0.0.2", "number": "+15550100100",
                                    "timeout_s": 40})
    live.start()
    assert wait_for_media_leg(20), app.output[-3000:]
    time.sleep(1.0)  # the greeting is being spoken
    restart = subprocess.run(
        [str(REPO / "scripts" / "asterisk-testbed"), "restart"],
        capture_output=True, text=True, timeout=120,
    )
    assert restart.returncode == 0, restart.stdout + restart.stderr
    deadline = time.monotonic() + 30
    while "reconnected to ARI" not in app.output:
        assert time.monotonic() < deadline, app.output[-3000:]
        assert app.proc.poll() is None, app.output[-3000:]
        time.sleep(0.2)
    calls = wait_call_ended(secretary_app.db, secretary_app.calls_before + 1)
    secretary_app.calls_before = len(calls)
    # Closed with a reason: which one depends on what Asterisk manages to say while it stops
    # (its hang-up of the channel can reach us before its websocket goes down).
    assert calls[-1]["ended_at"] is not None, calls[-1]
    assert calls[-1]["ended_by"] in ("lost_on_reconnect", "media_lost", "caller_hangup"), calls[-1]
    result = dial(
        exten="100",
        utterances=[answer(caller_audio["ru_bye"])],
        workdir=tmp_path,
        hangup="remote",
        hangup_wait_ms=12000,
    )
    assert result.sipp_rc == 0, result.sipp_log
    assert result.hung_up_by == "remote"
    calls = wait_call_ended(secretary_app.db, secretary_app.calls_before + 1)
    secretary_app.calls_before = len(calls)
    assert calls[-1]["ended_by"] == "app_hangup"
    assert wait_asterisk_clean() == ([], [])
