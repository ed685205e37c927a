"""A staff phone for the transfer and line tests: sipp as a UAS that rings, then answers
(and, for "accept"/"decline", presses 1 or 2 as a SIP INFO), or answers busy, or never
answers.

Run it with `StaffPhone` around a test call; it records the RTP sent to its media port, so a
test can check what the staff member heard (the announcement, then the caller's voice).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import quoteattr

from ari_app.media.codecs import get_codec
from testkit.capture import PacketCapture, parse_rtp_capture
from testkit.runner import _kill, free_rtp_port, layout_on_timeline
from testkit.scenario import rtp_stream

Behaviour = Literal["answer", "accept", "decline", "busy", "no_answer"]
LOG_KEY = "STAFF_KEY_SENT"
LOG_BYE = "STAFF_GOT_BYE"
_TAG = "[pid]SIPpTag01[call_number]"


def _cdata(text: str) -> str:
    return f"<![CDATA[\n{text}\n]]>"


def _response(status: str, sdp: bool = False) -> str:
    head = (
        f"SIP/2.0 {status}\n[last_Via:]\n[last_From:]\n[last_To:];tag={_TAG}\n[last_Call-ID:]\n"
        "[last_CSeq:]\nContact: <sip:staff@[local_ip]:[local_port];transport=[transport]>\n"
    )
    if not sdp:
        return _cdata(head + "Content-Length: 0\n")
    return _cdata(
        head + "Content-Type: application/sdp\nContent-Length: [len]\n\n"
        "v=0\no=staff 1 1 IN IP[local_ip_type] [local_ip]\ns=staff\n"
        "c=IN IP[media_ip_type] [media_ip]\nt=0 0\nm=audio [media_port] RTP/AVP 0 101\n"
        "a=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\n"
        "a=ptime:20\na=sendrecv\n"
    )


def _key_info(digit: str) -> str:
    """A key press as an in-dialog INFO from the called side (From and To swapped)."""
    return _cdata(
        "INFO [$contact] SIP/2.0\n"
        "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
        f"From: [$to];tag={_TAG}\nTo: [$from]\nCall-ID: [call_id]\nCSeq: 1 INFO\n"
        "Contact: <sip:staff@[local_ip]:[local_port];transport=[transport]>\n"
        "Max-Forwards: 70\nContent-Type: application/dtmf-relay\nContent-Length: [len]\n\n"
        f"Signal={digit}\nDuration=160\n"
    )


# What an in-dialog request of ours needs from the INVITE (sipp refuses unused variables).
_INVITE_KEEPING_DIALOG = [
    '  <recv request="INVITE"><action>',
    '    <ereg regexp=".*" search_in="hdr" header="From:" assign_to="from"/>',
    '    <ereg regexp=".*" search_in="hdr" header="To:" assign_to="to"/>',
    '    <ereg regexp="sip:[^&gt;]*" search_in="hdr" header="Contact:" assign_to="contact"/>',
    "  </action></recv>",
]


def _log(message: str) -> str:
    return f"  <nop><action><log message={quoteattr(message)}/></action></nop>"


def build_staff_scenario(behaviour: Behaviour, *, ring_ms: int = 1000, key_after_ms: int = 3000,
                         stay_ms: int = 60000, says: Path | None = None) -> str:
    """The UAS scenario. answer/accept/decline: answer after `ring_ms` (accept/decline then
    press 1/2 `key_after_ms` after the ACK, and say `says`, 8 kHz G.711 u-law, if given),
    then wait up to `stay_ms` for Asterisk's BYE. busy: 486 after `ring_ms`. no_answer: ring
    until Asterisk cancels."""
    lines = [
        '<?xml version="1.0" encoding="ISO-8859-1" ?>',
        '<scenario name="secretary-staff-phone">',
        *(_INVITE_KEEPING_DIALOG if behaviour in ("accept", "decline") else
          ['  <recv request="INVITE"/>']),
        f"  <send>{_response('100 Trying')}</send>",
        f"  <send>{_response('180 Ringing')}</send>",
    ]
    if behaviour == "busy":
        lines += [
            f'  <pause milliseconds="{ring_ms}"/>',
            f"  <send>{_response('486 Busy Here')}</send>",
            '  <recv request="ACK" next="end"/>',
        ]
    elif behaviour == "no_answer":
        lines += [
            f'  <recv request="CANCEL" timeout="{stay_ms}" ontimeout="end"/>',
            f"  <send>{_response('200 OK')}</send>",
            f"  <send>{_response('487 Request Terminated')}</send>",
            '  <recv request="ACK" next="end"/>',
        ]
    else:
        lines += [
            f'  <pause milliseconds="{ring_ms}"/>',
            f'  <send retrans="500">{_response("200 OK", sdp=True)}</send>',
            # from here on a BYE (the app or the caller hung up) may come at any point
            '  <recv request="BYE" optional="global" next="bye"/>',
            '  <recv request="ACK"/>',
        ]
        if behaviour != "answer":
            digit = "1" if behaviour == "accept" else "2"
            lines += [
                f'  <pause milliseconds="{key_after_ms}"/>',
                f"  <send>{_key_info(digit)}</send>",
                '  <recv response="200" timeout="5000"/>',
                _log(LOG_KEY),
            ]
            if says is not None:
                lines.append(f"  <nop><action>{rtp_stream(says, 0)}</action></nop>")
        lines.append(f'  <recv request="BYE" timeout="{stay_ms}" ontimeout="end" next="bye"/>')
    lines += [
        '  <nop next="end"/>',
        '  <label id="bye"/>',
        f"  <send>{_response('200 OK')}</send>",
        _log(LOG_BYE),
        '  <label id="end"/>',
        "</scenario>",
        "",
    ]
    return "\n".join(lines)


@dataclass
class StaffResult:
    rc: int | None
    key_sent_at_log: bool
    got_bye: bool
    heard_pcm: bytes  # 8 kHz PCM16 of everything sent to the staff phone, on one timeline
    heard_origin: float | None  # capture time of its first sample
    log: str


class StaffPhone:
    """`async with StaffPhone(workdir, "accept") as phone:` ... `result = await phone.result()`."""

    def __init__(self, workdir: Path, behaviour: Behaviour, *, port: int = 5090,
                 ring_ms: int = 1000, key_after_ms: int = 3000, stay_ms: int = 60000,
                 calls: int = 1, says: Path | None = None) -> None:
        """`calls`: how many calls it takes before it stops (an INVITE after that is left
        unanswered, and Asterisk retransmits it to whatever listens on `port` next). `says`:
        what the staff member says once they have taken the call with a key (u-law)."""
        self.workdir = workdir
        self.calls = calls
        self.port = port
        self.media_port = free_rtp_port()
        self.scenario = build_staff_scenario(
            behaviour, ring_ms=ring_ms, key_after_ms=key_after_ms, stay_ms=stay_ms, says=says
        )
        self.stay_s = stay_ms / 1000
        self._proc: asyncio.subprocess.Process | None = None
        self._capture = PacketCapture(workdir / "staff.pcap", self.media_port)

    async def __aenter__(self) -> StaffPhone:
        self.workdir.mkdir(parents=True, exist_ok=True)
        xml = self.workdir / "staff.xml"
        xml.write_text(self.scenario)
        cmd = [
            shutil.which("sipp") or "sipp", "-sf", str(xml), "-m", str(self.calls),
            "-i", "127.0.0.1", "-p", str(self.port), "-mi", "127.0.0.1",
            "-mp", str(self.media_port), "-nostdin", "-aa",
            "-timeout", f"{int(self.stay_s + 120)}s",
            "-trace_msg", "-message_file", str(self.workdir / "staff_messages.log"),
            "-trace_logs", "-log_file", str(self.workdir / "staff_actions.log"),
        ]  # fmt: skip
        (self.workdir / "staff_command.txt").write_text(subprocess.list2cmdline(cmd) + "\n")
        await self._capture.start()
        out = (self.workdir / "staff_stdout.log").open("wb")
        self._proc = await asyncio.create_subprocess_exec(
            *cmd, cwd=self.workdir, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out
        )
        out.close()
        await asyncio.sleep(0.3)  # listening before the call comes
        return self

    @property
    def log(self) -> str:
        """The SIP messages so far."""
        return _read(self.workdir / "staff_messages.log")

    @property
    def invites(self) -> int:
        """INVITEs received so far (0: the phone never rang)."""
        return len(re.findall(r"^INVITE sip:", self.log, flags=re.M))

    async def result(self, timeout_s: float = 90.0) -> StaffResult:
        assert self._proc is not None
        rc: int | None = None
        try:
            async with asyncio.timeout(timeout_s):
                rc = await self._proc.wait()
        except TimeoutError:
            pass
        return await self._finish(rc)

    async def _finish(self, rc: int | None) -> StaffResult:
        if self._proc is not None:
            await _kill(self._proc)
        await asyncio.sleep(0.2)
        await self._capture.stop()
        _sent, received = parse_rtp_capture(self._capture.path, self.media_port)
        origin = received[0].time if received else None
        pcm = b"" if origin is None else layout_on_timeline(
            received, 0, get_codec("ulaw").decode, origin
        )
        actions = _read(self.workdir / "staff_actions.log")
        messages = _read(self.workdir / "staff_messages.log")
        return StaffResult(
            rc=rc, key_sent_at_log=LOG_KEY in actions, got_bye=LOG_BYE in actions,
            heard_pcm=pcm, heard_origin=origin, log=messages + "\n" + actions,
        )

    async def __aexit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.returncode is None:
            await _kill(self._proc)
        await self._capture.stop()


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
