"""The test-call harness end to end on loopback: a real sipp UAC call to a real sipp UAS.

No Asterisk needed: the UAS (a scenario of this file) answers, plays a known tone with
rtp_stream, then either hangs up with BYE or waits for the caller's BYE.
Needs sipp and tcpdump (with capture rights on ``lo``); skipped otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from ari_app.media.codecs import ulaw_encode
from ari_app.media.loudness import frame_dbfs
from testkit.runner import (
    CALLER_LINES,
    CallResult,
    free_rtp_port,
    free_udp_port,
    make_caller_audio,
    place_call,
)
from testkit.scenario import CallerLine

pytestmark = pytest.mark.skipif(
    shutil.which("sipp") is None or shutil.which("tcpdump") is None or os.geteuid() != 0,
    reason="needs sipp and tcpdump run as root",
)

RATE = 8000
UAS_PLAY_AFTER_ACK_MS = 1500  # the UAS plays its tone this long after the ACK
UAS_TONE_S = 1.0

_OK_TO_REQUEST = """SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
"""


def uas_scenario(tone: Path, *, bye_after_ms: int | None) -> str:
    """Answer (PCMU), wait, play ``tone``; then BYE after ``bye_after_ms`` or wait for BYE."""
    invite = '  <recv request="INVITE" rrs="true"/>'
    if bye_after_ms is None:
        ending = f"""  <recv request="BYE"/>
  <send><![CDATA[
{_OK_TO_REQUEST}
]]></send>"""
    else:
        invite = """  <recv request="INVITE" rrs="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="from"/>
      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="to"/>
    </action>
  </recv>"""
        ending = f"""  <pause milliseconds="{bye_after_ms}"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: [$to];tag=[pid]SIPpTag01[call_number]
To: [$from]
Call-ID: [call_id]
CSeq: 1 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>"""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="test-uas">
{invite}
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:uas@[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=uas 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=ptime:20
]]></send>
  <recv request="ACK"/>
  <pause milliseconds="{UAS_PLAY_AFTER_ACK_MS}"/>
  <nop><action><exec rtp_stream="{tone},1,0"/></action></nop>
{ending}
</scenario>
"""


def tone_ulaw(path: Path, seconds: float, freq: float = 1000.0) -> Path:
    t = np.arange(int(seconds * RATE)) / RATE
    pcm = (np.sin(2 * np.pi * freq * t) * 0.5 * 32767).astype("<i2").tobytes()
    path.write_bytes(ulaw_encode(pcm))
    return path


def buzz_ulaw(path: Path, seconds: float) -> Path:
    """A voice-like buzz (a sawtooth gliding 120-180 Hz: many harmonics, a moving pitch),
    which the test caller's cue takes for speech, as it does not a steady tone."""
    t = np.arange(int(seconds * RATE)) / RATE
    pitch = 120 + 60 * t / seconds
    phase = np.cumsum(pitch / RATE)
    pcm = ((2 * (phase % 1.0) - 1) * 0.3 * 32767).astype("<i2").tobytes()
    path.write_bytes(ulaw_encode(pcm))
    return path


@contextlib.asynccontextmanager
async def sipp_uas(workdir: Path, *, bye_after_ms: int | None,
                   voice: bool = False) -> AsyncIterator[int]:
    """Run the UAS for one call; yields its SIP port. It plays its tone, or with `voice`
    a voice-like buzz as long."""
    tone = (buzz_ulaw(workdir / "uas_voice.ulaw", UAS_TONE_S) if voice
            else tone_ulaw(workdir / "uas_tone.ulaw", UAS_TONE_S))
    scenario = workdir / "uas.xml"
    scenario.write_text(uas_scenario(tone, bye_after_ms=bye_after_ms))
    port = free_udp_port()
    cmd = [
        "sipp", "-sf", str(scenario), "-p", str(port), "-i", "127.0.0.1",
        "-mi", "127.0.0.1", "-mp", str(free_rtp_port()), "-m", "1", "-nostdin",
        "-timeout", "60s", "-trace_err", "-error_file", str(workdir / "uas_errors.log"),
    ]  # fmt: skip
    with (workdir / "uas_stdout.log").open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            *cmd, cwd=workdir, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out
        )
        try:
            await asyncio.sleep(0.5)  # let it bind
            assert proc.returncode is None, (workdir / "uas_stdout.log").read_text()
            yield port
            async with asyncio.timeout(15):
                await proc.wait()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


def caller_utterance(workdir: Path) -> CallerLine:
    # a quiet-ish 300 Hz tone as the caller's "speech"
    return CallerLine(tone_ulaw(workdir / "caller.ulaw", 0.6, 300.0), pause_before_ms=200)


def describe(result: CallResult) -> str:
    return f"rc={result.sipp_rc} hung_up_by={result.hung_up_by}\n{result.sipp_log[-3000:]}"


async def test_remote_hangup_and_received_audio(tmp_path: Path) -> None:
    utt = caller_utterance(tmp_path)
    async with sipp_uas(tmp_path, bye_after_ms=2000) as uas_port:
        result = await place_call(
            exten="100",
            utterances=[utt],
            workdir=tmp_path / "call",
            sip_port=uas_port,
            hangup="remote",
            hangup_wait_ms=10000,
            timeout_s=30,
        )
    assert result.sipp_rc == 0, describe(result)
    assert result.hung_up_by == "remote", describe(result)
    assert result.received_wav.is_file()

    # the caller's utterance went out whole: 0.6 s = 30 packets of 160 bytes
    assert sum(len(p.rtp.payload) for p in result.sent_packets) == utt.size_bytes
    assert result.utterance_end_times[0] is not None

    # the UAS tone arrived: 50 packets, loud, and laid out with its timing kept
    assert len(result.received_packets) == int(UAS_TONE_S * 50)
    assert result.timeline_origin is not None
    first = result.received_packets[0].time
    last = result.received_packets[-1].time
    tone = result.received_seconds(first, last)
    assert frame_dbfs(tone) > -12
    # before the tone: silence in the layout (the caller's own packets came first)
    assert first - result.timeline_origin > 0.5
    silence = result.received_seconds(result.timeline_origin, first - 0.1)
    assert frame_dbfs(silence, floor=-math.inf) == -math.inf
    assert len(result.received_pcm) // 2 == pytest.approx(
        (last - result.timeline_origin) * RATE, abs=RATE * 0.05
    )

    # the tone comes UAS_PLAY_AFTER_ACK_MS after the ACK, i.e. after the caller's utterance
    end = result.utterance_end_times[0]
    assert end is not None
    reply = result.first_reply_after(end)
    assert reply == first
    assert result.v2v_ms[0] is not None and 0 < result.v2v_ms[0] < UAS_PLAY_AFTER_ACK_MS


async def test_caller_hangup(tmp_path: Path) -> None:
    utt = caller_utterance(tmp_path)
    async with sipp_uas(tmp_path, bye_after_ms=None) as uas_port:
        result = await place_call(
            exten="101",
            utterances=[utt, utt],
            workdir=tmp_path / "call",
            sip_port=uas_port,
            hangup="caller",
            hangup_wait_ms=2500,
            timeout_s=30,
        )
    assert result.sipp_rc == 0, describe(result)
    assert result.hung_up_by == "caller", describe(result)
    assert sum(len(p.rtp.payload) for p in result.sent_packets) == 2 * utt.size_bytes
    ends = result.utterance_end_times
    assert len(ends) == 2 and ends[0] is not None and ends[1] is not None
    # second utterance ends one pause + one duration after the first (sipp's rtp_stream
    # scheduling jitters by tens of ms, hence the end times are taken from the wire)
    assert (ends[1] - ends[0]) * 1000 == pytest.approx(200 + utt.duration_ms, abs=150)
    assert len(result.received_packets) == int(UAS_TONE_S * 50)


async def test_remote_mode_falls_back_to_caller_bye(tmp_path: Path) -> None:
    utt = caller_utterance(tmp_path)
    async with sipp_uas(tmp_path, bye_after_ms=None) as uas_port:
        result = await place_call(
            exten="100",
            utterances=[utt],
            workdir=tmp_path / "call",
            sip_port=uas_port,
            hangup="remote",
            hangup_wait_ms=2500,
            timeout_s=30,
        )
    assert result.sipp_rc == 0, describe(result)
    assert result.hung_up_by == "caller", describe(result)


@pytest.mark.skipif(shutil.which("RHVoice-test") is None, reason="needs rhvoice")
async def test_caller_audio_is_sent_whole(tmp_path: Path) -> None:
    files = make_caller_audio(tmp_path / "voices")
    assert set(files) == {
        f"{n}.{ext}"
        for n in CALLER_LINES  # every line, in each of the three forms
        for ext in ("ulaw", "alaw", "wav")
    }
    mtime = files["en_bye.ulaw"].stat().st_mtime_ns
    assert make_caller_audio(tmp_path / "voices") == files  # idempotent: nothing remade
    assert files["en_bye.ulaw"].stat().st_mtime_ns == mtime
    utt = CallerLine(files["en_bye.alaw"], pause_before_ms=100)
    async with sipp_uas(tmp_path, bye_after_ms=None) as uas_port:
        result = await place_call(
            exten="101",
            utterances=[utt],
            workdir=tmp_path / "call",
            codec="alaw",
            sip_port=uas_port,
            hangup="caller",
            hangup_wait_ms=500,
            timeout_s=30,
        )
    assert result.hung_up_by == "caller", describe(result)
    sent = sum(len(p.rtp.payload) for p in result.sent_packets)
    assert {p.rtp.payload_type for p in result.sent_packets} == {8}
    assert utt.size_bytes <= sent < utt.size_bytes + 160  # last partial frame padded
    assert result.utterance_end_times[0] == result.sent_packets[-1].time


async def test_a_caller_line_waits_for_the_reply_and_the_quiet_after_it(tmp_path: Path) -> None:
    """The first line waits for the UAS's reply (a voice-like buzz 1.5 s after the answer)
    and 0.5 s of quiet after it; the second hears nothing more and goes on when its longest
    wait (4 s) is over."""
    tone = tone_ulaw(tmp_path / "caller.ulaw", 0.6, 300.0)
    lines = [CallerLine(tone, pause_before_ms=0, after_reply_quiet_ms=500),
             CallerLine(tone, pause_before_ms=0, after_reply_quiet_ms=500)]
    async with sipp_uas(tmp_path, bye_after_ms=None, voice=True) as uas_port:
        result = await place_call(
            exten="100", utterances=lines, workdir=tmp_path / "call", sip_port=uas_port,
            hangup="caller", hangup_wait_ms=200, timeout_s=30, cue_max_wait_s=4.0,
        )
    assert result.sipp_rc == 0, describe(result)
    assert [(c.line, c.reason) for c in result.cues] == [(0, "quiet"), (1, "no reply")]
    assert len(result.received_packets) == int(UAS_TONE_S * 50)
    tone_end = result.received_packets[-1].time
    per_line = len(result.sent_packets) // 2
    assert per_line == round(0.6 * 50), len(result.sent_packets)
    first, second = result.sent_packets[0].time, result.sent_packets[per_line].time
    # not before the reply was over and quiet for 0.5 s, and not much later
    assert 0.5 <= first - tone_end < 0.75, (first, tone_end)
    # the second line's wait began when the first had been said: 4 s then, no reply
    first_end = result.sent_packets[per_line - 1].time
    assert 4.0 <= second - first_end < 4.3, (second, first_end)
