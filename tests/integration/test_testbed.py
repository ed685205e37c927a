"""The Asterisk testbed itself: a real Asterisk 22 with ARI, the test endpoints and dialplan.

The tests run in file order: the stop/start test comes before the calls, and the last test
checks that the calls left no channel or bridge behind.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from conftest import REPO, AsteriskTestbed, run_testbed

pytestmark = pytest.mark.integration

TB = REPO / ".testbed"
ROOT = TB / "root"


def ari(tb: AsteriskTestbed, path: str) -> httpx.Response:
    return httpx.get(f"{tb.ari_url}/ari{path}", auth=(tb.username, tb.password), timeout=5)


def mounts_under_testbed() -> list[str]:
    top = str(TB.resolve())
    points = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    return [p for p in points if p == top or p.startswith(top + "/")]


def processes_in_chroot() -> list[int]:
    root = str(ROOT.resolve())
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and os.readlink(entry / "root").startswith(root):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def sipp_call(tb: AsteriskTestbed, exten: str, workdir: Path) -> tuple[int, list[str]]:
    """One call with sipp's built-in UAC scenario; returns sipp's exit code and the status
    lines of the SIP responses it received."""
    messages = workdir / f"sipp-{exten}.log"
    proc = subprocess.run(
        ["sipp", "-sn", "uac", f"{tb.sip_host}:{tb.sip_port}", "-s", exten, "-m", "1",
         "-i", "127.0.0.1", "-p", "5071", "-d", "1000", "-nostdin", "-timeout", "20",
         "-trace_msg", "-message_file", str(messages)],
        cwd=workdir, capture_output=True, text=True, timeout=30, check=False,
    )
    responses = [
        line.strip() for line in messages.read_text(errors="replace").splitlines()
        if line.startswith("SIP/2.0 ")
    ]
    return proc.returncode, responses


def test_ari_answers_with_test_credentials(asterisk_testbed: AsteriskTestbed) -> None:
    info = ari(asterisk_testbed, "/asterisk/info")
    assert info.status_code == 200
    assert int(info.json()["system"]["version"].split(".")[0]) >= 22  # sid had 22.10.1


def test_ari_refuses_wrong_password(asterisk_testbed: AsteriskTestbed) -> None:
    resp = httpx.get(f"{asterisk_testbed.ari_url}/ari/asterisk/info",
                     auth=(asterisk_testbed.username, "wrong"), timeout=5)
    assert resp.status_code == 401


def test_pjsip_endpoints_exist(asterisk_testbed: AsteriskTestbed) -> None:
    endpoints = ari(asterisk_testbed, "/endpoints").json()
    names = {(e["technology"], e["resource"]) for e in endpoints}
    assert {("PJSIP", "caller"), ("PJSIP", "staff")} <= names


def test_start_twice_is_harmless(asterisk_testbed: AsteriskTestbed) -> None:
    pid_before = re.search(r"\(pid (\d+)\)", run_testbed("status").stdout)
    again = run_testbed("start")
    assert again.returncode == 0, again.stdout + again.stderr
    assert pid_before is not None and f"already running (pid {pid_before[1]})" in again.stdout
    assert ari(asterisk_testbed, "/asterisk/info").status_code == 200


def test_status_exit_code_when_running(asterisk_testbed: AsteriskTestbed) -> None:
    status = run_testbed("status")
    assert status.returncode == 0
    assert "22." in status.stdout and asterisk_testbed.ari_url in status.stdout


def test_stop_unmounts_and_leaves_nothing(asterisk_testbed: AsteriskTestbed) -> None:
    stopped = run_testbed("stop", timeout=60)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    try:
        assert mounts_under_testbed() == []
        assert processes_in_chroot() == []
        assert run_testbed("status").returncode == 3
        with pytest.raises(httpx.ConnectError):
            ari(asterisk_testbed, "/asterisk/info")
        again = run_testbed("stop", timeout=60)  # stopping a stopped testbed is harmless
        assert again.returncode == 0, again.stdout + again.stderr
    finally:
        started = run_testbed("start")
    assert started.returncode == 0, started.stdout + started.stderr
    assert ari(asterisk_testbed, "/asterisk/info").status_code == 200


@pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp (Debian sip-tester) missing")
def test_sip_call_reaches_tone_extension(asterisk_testbed: AsteriskTestbed, tmp_path: Path) -> None:
    rc, responses = sipp_call(asterisk_testbed, "199", tmp_path)
    assert rc == 0, responses
    assert "SIP/2.0 200 OK" in responses


@pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp (Debian sip-tester) missing")
def test_secretary_line_without_app_gives_congestion(
    asterisk_testbed: AsteriskTestbed, tmp_path: Path
) -> None:
    apps = {a["name"] for a in ari(asterisk_testbed, "/applications").json()}
    if asterisk_testbed.app in apps:
        pytest.skip("an ARI app named secretary is connected: the fallback cannot be seen")
    t0 = time.monotonic()
    rc, responses = sipp_call(asterisk_testbed, "100", tmp_path)
    # Early media (183) carries the congestion tone; then 503 from Hangup(34).
    assert rc != 0
    assert "SIP/2.0 183 Session Progress" in responses
    assert responses[-1] == "SIP/2.0 503 Service Unavailable"
    assert time.monotonic() - t0 >= 3.5  # the tone played for Wait(4) before the hang-up


def test_no_channels_or_bridges_left(asterisk_testbed: AsteriskTestbed) -> None:
    deadline = time.monotonic() + 5
    while True:
        channels = ari(asterisk_testbed, "/channels").json()
        bridges = ari(asterisk_testbed, "/bridges").json()
        if (not channels and not bridges) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert channels == []
    assert bridges == []


def test_the_health_probe_finds_the_testbed_answering(asterisk_testbed: AsteriskTestbed) -> None:
    """What the conftest asks before each module (a false alarm would restart Asterisk)."""
    from testkit.testbed_health import why_unhealthy

    tb = asterisk_testbed
    assert why_unhealthy(tb.ari_url, tb.username, tb.password) is None
