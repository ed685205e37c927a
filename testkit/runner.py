"""Places one real SIP test call with sipp, captures its RTP and measures the replies.

``await place_call(exten="100", utterances=[...], workdir=...)`` writes the sipp scenario, starts
tcpdump on the caller's RTP port, runs sipp in the foreground (killed on timeout or cancellation),
then parses the capture into a ``CallResult``: what the caller sent and heard, when each utterance
ended on the wire, and the voice-to-voice delay of the first non-silent reply after each one.

All times in a ``CallResult`` are capture timestamps (seconds since the epoch) from the pcap.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import wave
from dataclasses import dataclass, field
from pathlib import Path

from ari_app.media.codecs import get_codec
from ari_app.media.loudness import frame_dbfs
from testkit.capture import CapturedRtp, PacketCapture, parse_rtp_capture
from testkit.scenario import (
    LOG_CALLER,
    LOG_REMOTE,
    CallerLine,
    Hangup,
    build_uac_scenario,
    payload_type,
)
from testkit.turn_cue import Cue, CueGiver

SAMPLE_RATE = 8000
_SIPP_GRACE_S = 10.0  # our hard timeout = timeout_s + this (sipp has its own -timeout)
_RTP_PORT_RANGE = (20000, 30000)


@dataclass
class CallResult:
    """Outcome of one test call."""

    sipp_rc: int | None  # None when sipp had to be killed (timeout)
    hung_up_by: str | None  # "remote" | "caller" | None (call never set up / unknown)
    codec: str
    media_port: int  # the caller's RTP port (as advertised in its SDP)
    local_sip_port: int
    pcap: Path
    sent_packets: list[CapturedRtp]
    received_packets: list[CapturedRtp]
    received_pcm: bytes  # 8 kHz s16le, sample 0 at timeline_origin, arrival gaps as silence
    received_wav: Path
    sent_pcm: bytes  # the same for what the caller sent
    timeline_origin: float | None  # capture time of sample 0 (first RTP packet either way)
    utterance_end_times: list[float | None]  # capture time of each utterance's last packet
    sipp_log: str  # sipp's messages trace (-trace_msg), errors and log lines
    timed_out: bool = False
    v2v_ms: list[float | None] = field(default_factory=list)
    cues: list[Cue] = field(default_factory=list)  # lines said after the secretary's reply

    def first_reply_after(self, t: float, min_dbfs: float = -40.0) -> float | None:
        """Capture time of the first received packet after ``t`` whose audio is not silence."""
        decode = get_codec(self.codec).decode
        pt = payload_type(self.codec)
        for pkt in self.received_packets:
            if pkt.time <= t or pkt.rtp.payload_type != pt:
                continue
            if frame_dbfs(decode(pkt.rtp.payload)) >= min_dbfs:
                return pkt.time
        return None

    def compute_v2v(self, min_dbfs: float = -40.0) -> list[float | None]:
        """Per utterance: first non-silent reply after its end minus its end, in ms."""
        out: list[float | None] = []
        for end in self.utterance_end_times:
            reply = None if end is None else self.first_reply_after(end, min_dbfs)
            out.append(None if reply is None or end is None else (reply - end) * 1000.0)
        return out

    def received_seconds(self, start: float, end: float) -> bytes:
        """The slice of received_pcm between two capture times."""
        if self.timeline_origin is None:
            return b""
        a = max(0, round((start - self.timeline_origin) * SAMPLE_RATE))
        b = max(a, round((end - self.timeline_origin) * SAMPLE_RATE))
        return self.received_pcm[2 * a : 2 * b]


# ----------------------------------------------------------------------------- ports


def _udp_free(port: int, host: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port nobody is bound to right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def free_rtp_port(host: str = "127.0.0.1") -> int:
    """An even UDP port P with P..P+3 free (sipp may bind P+1..P+3 for RTCP/video)."""
    rng = random.Random(os.getpid() ^ int.from_bytes(os.urandom(4), "little"))
    lo, hi = _RTP_PORT_RANGE
    for _ in range(200):
        port = rng.randrange(lo, hi, 2)
        if all(_udp_free(p, host) for p in range(port, port + 4)):
            return port
    raise RuntimeError(f"no free RTP port range in {lo}-{hi}")


# ----------------------------------------------------------------------------- audio layout


def layout_on_timeline(
    packets: list[CapturedRtp], decode_pt: int, decode: object, origin: float
) -> bytes:
    """Decode packets of payload type ``decode_pt`` and place them on the arrival timeline.

    Consecutive packets are appended back to back; when a packet arrives more than one packet
    later than the audio so far reaches, the gap is filled with silence up to its arrival time.
    """
    assert callable(decode)
    out = bytearray()
    cursor = 0  # samples written
    for pkt in packets:
        if pkt.rtp.payload_type != decode_pt or not pkt.rtp.payload:
            continue
        pcm: bytes = decode(pkt.rtp.payload)
        n = len(pcm) // 2
        # arrival marks the end of the packet's audio, so its first sample belongs n earlier
        target = round((pkt.time - origin) * SAMPLE_RATE) - n
        if target > cursor + n:
            out += bytes(2 * (target - cursor))
            cursor = target
        out += pcm
        cursor += n
    return bytes(out)


def write_wav(path: Path, pcm: bytes, rate: int = SAMPLE_RATE) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)


def utterance_end_times(
    sent: list[CapturedRtp],
    utterances: list[CallerLine],
    pt: int,
    frame_bytes: int = 160,
    gap_s: float = 0.06,
) -> list[float | None]:
    """Capture time of the last packet of each utterance, found by counting sent payload bytes.

    An utterance's packets are those whose payloads add up to its file size (sipp pads a
    trailing partial frame; a sender that drops it instead is recognised by the file being
    short by less than a frame followed by a pause in sending). One only partly sent (call cut
    short) ends at the last packet sent; one never sent gets None.
    """
    audio = [p for p in sent if p.rtp.payload_type == pt]
    ends: list[float | None] = []
    idx = 0
    for utt in utterances:
        got = 0
        end: float | None = None
        while idx < len(audio):
            got += len(audio[idx].rtp.payload)
            idx += 1
            if got >= utt.size_bytes:
                break
            if got > utt.size_bytes - frame_bytes and (
                idx == len(audio) or audio[idx].time - audio[idx - 1].time > gap_s
            ):
                break
        if got > 0:
            end = audio[idx - 1].time
        ends.append(end)
    return ends


# ----------------------------------------------------------------------------- sipp


def _hung_up_by(log_text: str, messages: str) -> str | None:
    if LOG_REMOTE in log_text:
        return "remote"
    if LOG_CALLER in log_text:
        return "caller"
    # fallback on the message trace: who sent the BYE first
    blocks = messages.split("-----------------------------------------------")
    for block in blocks:
        body = block.split("\n\n", 1)[1] if "\n\n" in block else ""
        if body.startswith("BYE "):
            return "remote" if "message received" in block else "caller"
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


async def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            async with asyncio.timeout(3.0):
                await proc.wait()
            return
        except TimeoutError:
            continue


def sipp_command(
    *,
    scenario: Path,
    exten: str,
    workdir: Path,
    sip_host: str,
    sip_port: int,
    local_ip: str,
    local_sip_port: int,
    media_port: int,
    timeout_s: float,
    twin_port: int | None = None,
) -> list[str]:
    """`twin_port`: where sipp fetches the cues of lines said after a reply (-3pcc)."""
    sipp = shutil.which("sipp") or "sipp"
    twin = [] if twin_port is None else ["-3pcc", f"127.0.0.1:{twin_port}"]
    return [
        sipp, f"{sip_host}:{sip_port}",
        "-sf", str(scenario), "-s", exten, "-m", "1", "-l", "1",
        "-i", local_ip, "-p", str(local_sip_port),
        "-mi", local_ip, "-mp", str(media_port),
        "-nostdin", "-aa",
        "-timeout", f"{max(1, math.ceil(timeout_s))}s", "-timeout_error",
        "-trace_msg", "-message_file", str(workdir / "sipp_messages.log"),
        "-trace_err", "-error_file", str(workdir / "sipp_errors.log"),
        "-trace_logs", "-log_file", str(workdir / "sipp_actions.log"),
        *twin,
    ]  # fmt: skip


def _prepare_workdir(workdir: Path, utterances: list[CallerLine]) -> Path:
    for utt in utterances:
        if not utt.audio.is_file():
            raise FileNotFoundError(f"utterance audio missing: {utt.audio}")
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in (
        "sipp_messages.log", "sipp_errors.log", "sipp_actions.log", "sipp_stdout.log",
        "call.pcap", "received.wav", "sent.wav",
    ):  # fmt: skip
        (workdir / stale).unlink(missing_ok=True)
    return workdir


def route_in_dialog(scenario: str) -> str:
    """The scenario with sipp's [routes] (the Record-Route set its 200 OK recorded) in every
    request sent within the dialog; sipp drops the line where there is no route set."""
    via = "[next_url] SIP/2.0\nVia: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
    if via not in scenario:
        raise ValueError("no in-dialog request to route in the scenario")
    return scenario.replace(via, via + "[routes]\n")


async def place_call(
    *,
    exten: str,
    utterances: list[CallerLine],
    workdir: Path,
    codec: str = "ulaw",
    hangup: Hangup = "remote",
    hangup_wait_ms: int = 15000,
    sip_host: str = "127.0.0.1",
    sip_port: int = 5060,
    local_ip: str = "127.0.0.1",
    local_sip_port: int = 0,
    media_port: int = 0,
    timeout_s: float = 120.0,
    capture_interface: str = "lo",
    min_dbfs: float = -40.0,
    routed: bool = False,
    cue_max_wait_s: float = 30.0,
) -> CallResult:
    """Place one call with sipp and return what happened (see ``CallResult``). `routed`:
    the call crosses a proxy that record-routes (the SIP load balancer), so the caller's
    requests within the dialog carry its Route set. A line with ``after_reply_quiet_ms`` is
    said once the secretary has answered and been quiet that long, or after
    `cue_max_wait_s` without a reply (testkit/turn_cue.py)."""
    pt = payload_type(codec)
    workdir = _prepare_workdir(workdir, utterances)
    local_sip_port = local_sip_port or free_udp_port(local_ip)
    media_port = media_port or free_rtp_port(local_ip)

    scenario = workdir / "scenario.xml"
    cued = any(u.after_reply_quiet_ms is not None or u.after_keys_quiet_ms is not None
               for u in utterances)
    text = build_uac_scenario(utterances, codec, hangup, hangup_wait_ms,
                              cue_max_wait_ms=round(cue_max_wait_s * 1000))
    if routed:
        text = route_in_dialog(text)
    scenario.write_text(text)
    pcap = workdir / "call.pcap"
    capture = PacketCapture(pcap, media_port, capture_interface)
    await capture.start()
    sipp_rc: int | None = None
    timed_out = False
    cues = CueGiver(pcap=pcap, media_port=media_port, codec=codec, max_wait_s=cue_max_wait_s)
    try:
        async with contextlib.AsyncExitStack() as stack:
            if cued:
                await stack.enter_async_context(cues)
            cmd = sipp_command(
                scenario=scenario, exten=exten, workdir=workdir, sip_host=sip_host,
                sip_port=sip_port, local_ip=local_ip, local_sip_port=local_sip_port,
                media_port=media_port, timeout_s=timeout_s,
                twin_port=cues.port if cued else None,
            )  # fmt: skip
            (workdir / "sipp_command.txt").write_text(subprocess.list2cmdline(cmd) + "\n")
            with (workdir / "sipp_stdout.log").open("wb") as out:
                proc = await asyncio.create_subprocess_exec(
                    *cmd, cwd=workdir, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out
                )
                try:
                    async with asyncio.timeout(timeout_s + _SIPP_GRACE_S):
                        sipp_rc = await proc.wait()
                except TimeoutError:
                    timed_out = True
                finally:
                    await _kill(proc)
        await asyncio.sleep(0.2)  # let the last packets reach the capture
    finally:
        await capture.stop()

    sent, received = parse_rtp_capture(pcap, media_port)
    decode = get_codec(codec).decode
    times = [p.time for p in sent[:1] + received[:1]]
    origin = min(times) if times else None
    received_pcm = b"" if origin is None else layout_on_timeline(received, pt, decode, origin)
    sent_pcm = b"" if origin is None else layout_on_timeline(sent, pt, decode, origin)
    received_wav = workdir / "received.wav"
    write_wav(received_wav, received_pcm)
    write_wav(workdir / "sent.wav", sent_pcm)

    messages = _read(workdir / "sipp_messages.log")
    actions = _read(workdir / "sipp_actions.log")
    errors = _read(workdir / "sipp_errors.log")
    sipp_log = "\n".join(
        part
        for part in (
            messages,
            f"--- sipp actions log\n{actions}" if actions else "",
            f"--- sipp errors\n{errors}" if errors else "",
        )
        if part
    )
    result = CallResult(
        sipp_rc=sipp_rc,
        hung_up_by=_hung_up_by(actions, messages),
        codec=codec,
        media_port=media_port,
        local_sip_port=local_sip_port,
        pcap=pcap,
        sent_packets=sent,
        received_packets=received,
        received_pcm=received_pcm,
        received_wav=received_wav,
        sent_pcm=sent_pcm,
        timeline_origin=origin,
        utterance_end_times=utterance_end_times(sent, utterances, pt),
        sipp_log=sipp_log,
        timed_out=timed_out,
        cues=cues.cues,
    )
    result.v2v_ms = result.compute_v2v(min_dbfs)
    return result


# ----------------------------------------------------------------------------- caller audio

CALLER_LINES: dict[str, tuple[str, str]] = {
    # name: (RHVoice voice, text) -- voices other than the app's own
    "ru_hours": ("aleksandr", "Здравствуйте! Подскажите, пожалуйста, какие у вас часы работы?"),
    "ru_bye": ("aleksandr", "Спасибо, до свидания!"),
    "en_hours": ("slt", "Hello! Could you tell me your opening hours, please?"),
    "en_bye": ("slt", "Thank you, goodbye!"),
    # a question after a greeting and a pause: the caller goes on before hearing our answer
    "ru_hello": ("aleksandr", "Здравствуйте!"),
    "ru_hours_only": ("aleksandr", "Подскажите, пожалуйста, какие у вас часы работы?"),
    # a phone number dictated in two parts, with a pause between them
    "ru_number_1": ("aleksandr", "Запишите, пожалуйста, мой номер: восемь девятьсот шестнадцать"),
    "ru_number_2": ("aleksandr", "сто двадцать три, сорок пять, шестьдесят семь."),
    # transfers: ask for the accounts department, then speak to whoever took the call
    "ru_transfer": ("aleksandr", "Соедините меня, пожалуйста, с бухгалтерией."),
    "ru_my_name": ("aleksandr", "Меня зовут Алексей Смирнов."),
    # a message left, the callback number typed on the keypad and confirmed
    "ru_leave_message": ("aleksandr", "Я хочу оставить сообщение."),
    "ru_yes": ("aleksandr", "Да, верно."),
    "ru_reason": ("aleksandr", "По поводу счёта за октябрь."),
    "ru_not_urgent": ("aleksandr", "Нет, не срочно."),
    "ru_all_correct": ("aleksandr", "Да, всё верно."),
    "ru_ask_llm": ("aleksandr", "Расскажите, пожалуйста, что вы можете посоветовать к празднику?"),
    # English facts: one the persona answers, one it does not
    "en_delivery": ("slt", "How much is delivery?"),
    "en_bicycles": ("slt", "Do you repair bicycles?"),
    "en_no_thanks": ("slt", "No, thank you. Goodbye!"),
    "ru_hello_staff": ("aleksandr", "Алло, добрый день! Я по поводу счёта за октябрь."),
    # not a caller's: what the staff member says on taking a transferred call
    "ru_staff_takes": ("irina", "Да, бухгалтерия, слушаю."),
}
REFERENCE_WAV_RATE = 16000


def _run(cmd: list[str], stdin: bytes | None = None) -> None:
    proc = subprocess.run(cmd, input=stdin, capture_output=True, check=False, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{subprocess.list2cmdline(cmd)} failed ({proc.returncode}): "
            f"{proc.stderr.decode(errors='replace').strip()}"
        )


def _make_one(outdir: Path, name: str, voice: str, text: str) -> dict[str, Path]:
    outputs = {
        f"{name}.ulaw": (outdir / f"{name}.ulaw", ["-t", "ul", "-r", "8000"], 8000),
        f"{name}.alaw": (outdir / f"{name}.alaw", ["-t", "al", "-r", "8000"], 8000),
        f"{name}.wav": (outdir / f"{name}.wav", ["-t", "wav", "-b", "16"], REFERENCE_WAV_RATE),
    }
    stamp = outdir / f"{name}.txt"
    stamp_text = f"{voice}\n{text}\n"
    paths = {key: path for key, (path, _, _) in outputs.items()}
    if (
        stamp.is_file()
        and stamp.read_text(encoding="utf-8") == stamp_text
        and all(p.is_file() and p.stat().st_size > 0 for p in paths.values())
    ):
        return paths
    raw = outdir / f".{name}.tts.wav"
    clean = outdir / f".{name}.clean.wav"
    try:
        _run(["RHVoice-test", "-p", voice, "-o", str(raw)], stdin=text.encode("utf-8"))
        # trim leading/trailing silence (utterance end on the wire = end of speech), normalise
        _run([
            "sox", str(raw), "-b", "16", str(clean), "silence", "1", "0.02", "0.3%",
            "reverse", "silence", "1", "0.02", "0.3%", "reverse", "gain", "-n", "-3",
        ])  # fmt: skip
        for path, fmt, rate in outputs.values():
            tmp = path.with_name(f".{path.name}.tmp")
            _run(["sox", str(clean), "-c", "1", *fmt, str(tmp), "rate", "-v", str(rate)])
            tmp.replace(path)
    finally:
        raw.unlink(missing_ok=True)
        clean.unlink(missing_ok=True)
    stamp.write_text(stamp_text, encoding="utf-8")
    return paths


def make_caller_audio(outdir: Path) -> dict[str, Path]:
    """Synthesize the test caller's utterances (RHVoice aleksandr / slt) into ``outdir``.

    Per line (ru_hours, ru_bye, en_hours, en_bye): ``NAME.ulaw`` and ``NAME.alaw`` (headerless
    8 kHz G.711 for sipp's rtp_stream) and ``NAME.wav`` (16-bit 16 kHz, for reference and
    transcription), trimmed of leading/trailing silence. Idempotent: existing files made from
    the same voice and text (``NAME.txt``) are kept. Returns file name -> path.
    """
    for tool in ("RHVoice-test", "sox"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed (apt-get install rhvoice sox)")
    outdir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for name, (voice, text) in CALLER_LINES.items():
        files.update(_make_one(outdir, name, voice, text))
    return files
