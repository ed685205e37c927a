"""Builds the sipp UAC scenario (XML) for one test call.

The caller INVITEs with a G.711 offer, waits for the 200 OK, ACKs, then plays each utterance with
sipp's ``rtp_stream`` (headerless 8 kHz G.711 files) and finally hangs up or waits to be hung up.

How the call ended is written by ``<log>`` actions (enable with ``-trace_logs -log_file F``):
one line ``HUNGUP_BY remote`` or ``HUNGUP_BY caller``. A BYE from the remote at any point of the
call (also while an utterance plays) is accepted through a ``optional="global"`` receive.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import quoteattr

Hangup = Literal["remote", "caller"]

G711_BYTES_PER_SECOND = 8000
PAYLOAD_TYPES: dict[str, tuple[int, str]] = {"ulaw": (0, "PCMU"), "alaw": (8, "PCMA")}
TELEPHONE_EVENT_PT = 101

LOG_REMOTE = "HUNGUP_BY remote"
LOG_CALLER = "HUNGUP_BY caller"
LOG_UTTERANCE = "UTTERANCE"  # "UTTERANCE <index> START"
# the twin command sipp sends when it waits for a cue: the line, what it waits for after
# ("reply": to the line before; "keys": to the line's own keys) and how much quiet
CUE_LINE_HEADER = "X-Caller-Line"
CUE_AFTER_HEADER = "X-Cue-After"
CUE_QUIET_HEADER = "X-Quiet-Ms"
CUE_REPLIES_HEADER = "X-Replies"
CUE_WAIT_MARGIN_MS = 10000  # sipp waits this much longer than the cue giver at most

_FROM = '"testcaller" <sip:testcaller@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]'


@dataclass
class CallerLine:
    """One thing the caller says: a headerless 8 kHz G.711 file matching the call's codec."""

    audio: Path
    pause_before_ms: int = 500
    dtmf: str = ""  # keys pressed (SIP INFO dtmf-relay) after the pause, before the audio
    dtmf_gap_ms: int = 0  # pause between the keys and the audio
    # as a person answers: wait until the secretary has spoken since the caller's previous
    # line (or, for the first line, since the call was answered) and has then been quiet
    # this long; pause_before_ms then counts from that moment (testkit/turn_cue.py). None:
    # pause_before_ms from the end of the previous line, whatever the secretary does
    after_reply_quiet_ms: int | None = None
    # with `dtmf`: after the keys, wait the same way for the secretary's answer to them (a
    # number read back) and this much quiet; dtmf_gap_ms then counts from that moment
    after_keys_quiet_ms: int | None = None
    # how many replies (each followed by that quiet) the wait takes: 2 after asking to be
    # put through, when a refusal follows "connecting you" and the ring-back
    replies: int = 1

    @property
    def size_bytes(self) -> int:
        return self.audio.stat().st_size

    @property
    def duration_ms(self) -> int:
        """Playing time of the file: one byte per sample at 8000 samples/s."""
        return round(self.size_bytes * 1000 / G711_BYTES_PER_SECOND)


def payload_type(codec: str) -> int:
    """RTP payload type of a G.711 codec name ("ulaw" -> 0, "alaw" -> 8)."""
    try:
        return PAYLOAD_TYPES[codec][0]
    except KeyError:
        raise ValueError(f"unsupported codec {codec!r}: use 'ulaw' or 'alaw'") from None


def _cdata(text: str) -> str:
    # sipp messages: lines end in CRLF on the wire (sipp rewrites LF); keep one blank line after
    # the headers. CDATA cannot contain "]]>".
    if "]]>" in text:
        raise ValueError("message text must not contain ']]>'")
    return f"<![CDATA[\n{text}\n]]>"


def _invite(codec: str) -> str:
    pt, name = PAYLOAD_TYPES[codec]
    return _cdata(
        "INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n"
        "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
        f"From: {_FROM}\n"
        "To: <sip:[service]@[remote_ip]:[remote_port]>\n"
        "Call-ID: [call_id]\n"
        "CSeq: 1 INVITE\n"
        "Contact: <sip:testcaller@[local_ip]:[local_port];transport=[transport]>\n"
        "Max-Forwards: 70\n"
        "User-Agent: secretary-testcall\n"
        "Content-Type: application/sdp\n"
        "Content-Length: [len]\n"
        "\n"
        "v=0\n"
        "o=testcaller 53655765 2353687637 IN IP[local_ip_type] [local_ip]\n"
        "s=testcall\n"
        "c=IN IP[media_ip_type] [media_ip]\n"
        "t=0 0\n"
        f"m=audio [media_port] RTP/AVP {pt} {TELEPHONE_EVENT_PT}\n"
        f"a=rtpmap:{pt} {name}/8000\n"
        f"a=rtpmap:{TELEPHONE_EVENT_PT} telephone-event/8000\n"
        f"a=fmtp:{TELEPHONE_EVENT_PT} 0-16\n"
        "a=ptime:20\n"
        "a=sendrecv\n"
    )


def _in_dialog(method: str, cseq: int) -> str:
    return _cdata(
        f"{method} [next_url] SIP/2.0\n"
        "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
        f"From: {_FROM}\n"
        "To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]\n"
        "Call-ID: [call_id]\n"
        f"CSeq: {cseq} {method}\n"
        "Contact: <sip:testcaller@[local_ip]:[local_port];transport=[transport]>\n"
        "Max-Forwards: 70\n"
        "Content-Length: 0\n"
    )


def _dtmf_info(digit: str, cseq: int) -> str:
    """A key press as SIP INFO application/dtmf-relay (sipp 3.6.1's play_dtmf is broken)."""
    return _cdata(
        "INFO [next_url] SIP/2.0\n"
        "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
        f"From: {_FROM}\n"
        "To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]\n"
        "Call-ID: [call_id]\n"
        f"CSeq: {cseq} INFO\n"
        "Contact: <sip:testcaller@[local_ip]:[local_port];transport=[transport]>\n"
        "Max-Forwards: 70\n"
        "Content-Type: application/dtmf-relay\n"
        "Content-Length: [len]\n"
        "\n"
        f"Signal={digit}\n"
        "Duration=160\n"
    )


def _ok_to_request() -> str:
    return _cdata(
        "SIP/2.0 200 OK\n"
        "[last_Via:]\n"
        "[last_From:]\n"
        "[last_To:]\n"
        "[last_Call-ID:]\n"
        "[last_CSeq:]\n"
        "Contact: <sip:testcaller@[local_ip]:[local_port];transport=[transport]>\n"
        "Content-Length: 0\n"
    )


def _cue_request(index: int, after: str, quiet_ms: int, replies: int) -> str:
    """The twin command that tells the cue giver the caller waits to go on with line
    `index` once the secretary has answered (`after` the previous line, or the line's
    keys) `replies` times and then been quiet for `quiet_ms`."""
    return _cdata(f"Call-ID: [call_id]\n{CUE_LINE_HEADER}: {index}\n"
                  f"{CUE_AFTER_HEADER}: {after}\n{CUE_QUIET_HEADER}: {quiet_ms}\n"
                  f"{CUE_REPLIES_HEADER}: {replies}\n")


def _cue_wait(index: int, after: str, quiet_ms: int, replies: int,
              max_wait_ms: int) -> list[str]:
    if quiet_ms <= 0:
        raise ValueError(f"after_{after}_quiet_ms must be > 0")
    if replies < 1:
        raise ValueError("replies must be >= 1")
    return [f"  <sendCmd>{_cue_request(index, after, quiet_ms, replies)}</sendCmd>",
            f'  <recvCmd timeout="{max_wait_ms + CUE_WAIT_MARGIN_MS}"/>']


def _log(message: str) -> str:
    return f"  <nop><action><log message={quoteattr(message)}/></action></nop>"


def rtp_stream(audio: Path, payload_type: int) -> str:
    """The sipp action that plays `audio` (headerless 8 kHz G.711) once, as RTP."""
    path = str(audio.resolve())
    if "," in path:
        raise ValueError(f"sipp rtp_stream cannot play a path with a comma: {path}")
    return f"<exec rtp_stream={quoteattr(f'{path},1,{payload_type}')}/>"


def build_uac_scenario(
    utterances: list[CallerLine],
    codec: str = "ulaw",
    hangup: Hangup = "remote",
    hangup_wait_ms: int = 15000,
    *,
    answer_timeout_ms: int = 30000,
    name: str = "secretary-testcall",
    cue_max_wait_ms: int = 30000,
) -> str:
    """Return the sipp XML scenario of one call.

    hangup="remote": after the last utterance wait up to ``hangup_wait_ms`` for the remote's BYE
    (answered 200); if none comes, send our own BYE. hangup="caller": pause ``hangup_wait_ms``,
    then send BYE (a remote BYE meanwhile is still answered). The log line names the side.

    A line with ``after_reply_quiet_ms`` is preceded by a twin command naming it (sipp's 3PCC
    ``<sendCmd>``, run with ``-3pcc``) and a wait for the cue that lets it go on
    (``<recvCmd>``), which the cue giver sends within ``cue_max_wait_ms``; one with
    ``after_keys_quiet_ms`` has the same between its keys and its audio.
    """
    pt = payload_type(codec)
    if hangup not in ("remote", "caller"):
        raise ValueError(f"hangup must be 'remote' or 'caller', not {hangup!r}")
    if hangup_wait_ms < 0:
        raise ValueError("hangup_wait_ms must be >= 0")

    lines = [
        '<?xml version="1.0" encoding="ISO-8859-1" ?>',
        f"<scenario name={quoteattr(name)}>",
        f'  <send retrans="500">{_invite(codec)}</send>',
        '  <recv response="100" optional="true"/>',
        '  <recv response="180" optional="true"/>',
        '  <recv response="183" optional="true"/>',
        # A BYE from the remote at any point (also mid-utterance) jumps to remote_bye.
        '  <recv request="BYE" optional="global" next="remote_bye"/>',
        f'  <recv response="200" rtd="true" rrs="true" timeout="{answer_timeout_ms}"/>',
        f"  <send>{_in_dialog('ACK', 1)}</send>",
    ]
    cseq = 1  # in-dialog requests after the ACK: INFOs, then the BYE
    for index, utt in enumerate(utterances):
        stream = rtp_stream(utt.audio, pt)
        if utt.after_reply_quiet_ms is not None:
            lines += _cue_wait(index, "reply", utt.after_reply_quiet_ms, utt.replies,
                               cue_max_wait_ms)
        if utt.pause_before_ms > 0:
            lines.append(f'  <pause milliseconds="{int(utt.pause_before_ms)}"/>')
        for digit in utt.dtmf:
            if digit not in "0123456789*#ABCD":
                raise ValueError(f"not a DTMF key: {digit!r}")
            cseq += 1
            lines.append(f"  <send>{_dtmf_info(digit, cseq)}</send>")
            lines.append('  <recv response="200" timeout="5000"/>')
            lines.append('  <pause milliseconds="200"/>')
        if utt.after_keys_quiet_ms is not None:
            if not utt.dtmf:
                raise ValueError("after_keys_quiet_ms needs keys (dtmf)")
            lines += _cue_wait(index, "keys", utt.after_keys_quiet_ms, 1, cue_max_wait_ms)
        if utt.dtmf and utt.dtmf_gap_ms > 0:
            lines.append(f'  <pause milliseconds="{int(utt.dtmf_gap_ms)}"/>')
        lines.append(
            "  <nop><action>"
            f"<log message={quoteattr(f'{LOG_UTTERANCE} {index} START')}/>"
            f"{stream}"
            "</action></nop>"
        )
        lines.append(f'  <pause milliseconds="{utt.duration_ms}"/>')

    if hangup == "remote":
        lines.append(
            f'  <recv request="BYE" timeout="{max(int(hangup_wait_ms), 1)}" '
            'ontimeout="caller_bye" next="remote_bye"/>'
        )
    else:
        if hangup_wait_ms > 0:
            lines.append(f'  <pause milliseconds="{int(hangup_wait_ms)}"/>')
        lines.append('  <nop next="caller_bye"/>')

    lines += [
        '  <label id="remote_bye"/>',
        f"  <send>{_ok_to_request()}</send>",
        _log(LOG_REMOTE),
        '  <nop next="end"/>',
        '  <label id="caller_bye"/>',
        _log(LOG_CALLER),
        f'  <send retrans="500">{_in_dialog("BYE", cseq + 1)}</send>',
        '  <recv response="200" timeout="5000" ontimeout="end"/>',
        '  <label id="end"/>',
        "</scenario>",
        "",
    ]
    return "\n".join(lines)
