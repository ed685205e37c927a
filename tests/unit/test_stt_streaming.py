"""Streaming STT behaviour that needs no model: fakes stand in for Kaldi and Whisper."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from ari_app.errors import EngineUnavailable
from ari_app.stt.base import Transcript
from ari_app.stt.factory import build_streaming_stt
from ari_app.stt.streaming import StreamingRecognizer, StreamingStt
from ari_app.stt.vosk import VoskStream, VoskStt, model_rate, packaged_vosk_model
from ari_app.stt.whisper_stream import WhisperStream, WhisperStreamingStt

FRAME_16K = bytes(640)  # 20 ms of silence at 16 kHz


class FakeKaldiRecognizer:
    """Scripted stand-in for vosk.KaldiRecognizer: each AcceptWaveform call pops one step.

    A step is ("partial", text) — the current hypothesis becomes `text` — or ("result", text),
    an endpoint that commits `text`. FinalResult returns `final`.
    """

    def __init__(self, steps: list[tuple[str, str]], final: str = "") -> None:
        self.steps = list(steps)
        self.final = final
        self.fed: list[bytes] = []
        self.partial = ""
        self.committed = ""
        self.partial_calls = 0
        self.resets = 0

    def AcceptWaveform(self, data: bytes) -> bool:
        self.fed.append(data)
        kind, text = self.steps.pop(0) if self.steps else ("partial", self.partial)
        if kind == "result":
            self.committed, self.partial = text, ""
            return True
        self.partial = text
        return False

    def Result(self) -> str:
        return json.dumps({"text": self.committed})

    def PartialResult(self) -> str:
        self.partial_calls += 1
        return json.dumps({"partial": self.partial})

    def FinalResult(self) -> str:
        return json.dumps({"text": self.final})

    def Reset(self) -> None:
        self.resets += 1


def fake_vosk_stream(
    rec: FakeKaldiRecognizer, partial_every_s: float = 0.0, closed: list[object] | None = None
) -> VoskStream:
    return VoskStream(
        lambda: rec, 16000, 16000, "ko", partial_every_s,
        on_close=None if closed is None else closed.append,
    )


class FakeSlowStt:
    """A SpeechToText whose transcribe blocks until `gate` is set; records every call."""

    sample_rate = 16000

    def __init__(self, texts: list[str] | None = None) -> None:
        self.gate = asyncio.Event()
        self.calls: list[int] = []  # bytes of audio per call
        self.running = 0
        self.max_running = 0
        self.texts = list(texts or [])
        self.fail_next = False

    async def load(self) -> None:
        return None

    async def transcribe(
        self, pcm: bytes, language: str, *, prompt: str | None = None
    ) -> Transcript:
        self.calls.append(len(pcm))
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            await self.gate.wait()
            if self.fail_next:
                self.fail_next = False
                raise RuntimeError("fake decoder failure")
            text = self.texts.pop(0) if self.texts else f"heard {len(pcm)} bytes"
            return Transcript(text, language, len(pcm) / 32000, 0.0)
        finally:
            self.running -= 1


def fake_whisper_stream(stt: FakeSlowStt, partial_every_s: float = 0.2) -> WhisperStream:
    engine = WhisperStreamingStt(Path("unused"), partial_every_s=partial_every_s, stt=stt)
    return engine.open_stream("en")


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


# --- the contract ----------------------------------------------------------------------


def test_engines_and_streams_satisfy_the_protocols() -> None:
    assert isinstance(VoskStt(Path("models/vosk-ko")), StreamingStt)
    assert isinstance(WhisperStreamingStt(Path("models/whisper-base")), StreamingStt)
    assert isinstance(fake_vosk_stream(FakeKaldiRecognizer([])), StreamingRecognizer)
    assert isinstance(fake_whisper_stream(FakeSlowStt()), StreamingRecognizer)


def test_factory_builds_unloaded_engines_and_names_known_ones() -> None:
    vosk = build_streaming_stt("vosk", Path("models/vosk-ko"), sample_rate=8000)
    assert isinstance(vosk, VoskStt) and vosk.sample_rate == 8000 and not vosk.loaded
    whisper = build_streaming_stt("whisper", Path("models/whisper-base"), partial_every_s=1.0)
    assert isinstance(whisper, WhisperStreamingStt) and whisper.partial_every_s == 1.0
    with pytest.raises(EngineUnavailable, match="vosk, whisper"):
        build_streaming_stt("kaldi", Path("x"))


# --- Vosk stream over a fake recognizer --------------------------------------------------


async def test_vosk_partials_grow_commit_at_endpoints_and_finish_joins_segments() -> None:
    rec = FakeKaldiRecognizer(
        [("partial", "안녕"), ("partial", "안녕"), ("partial", "안녕하세요"),
         ("result", "안녕하세요"), ("partial", "내일")],
        final="내일 전화",
    )
    stream = fake_vosk_stream(rec)
    got = [await stream.accept(FRAME_16K) for _ in range(5)]
    assert got[1] is None  # the same text is not reported twice
    texts = [(p.text, p.is_final) for p in got if p is not None]
    assert texts == [
        ("안녕", False), ("안녕하세요", False), ("안녕하세요", True), ("안녕하세요 내일", False),
    ]
    last = got[4]
    assert last is not None and last.audio_s == pytest.approx(0.1)
    transcript = await stream.finish()
    assert transcript.text == "안녕하세요 내일 전화"
    assert transcript.audio_s == pytest.approx(0.1) and transcript.language == "ko"
    assert rec.resets == 1
    # the next utterance starts from nothing
    rec.steps = [("partial", "네")]
    nxt = await stream.accept(FRAME_16K)
    assert nxt is not None and nxt.text == "네" and nxt.audio_s == pytest.approx(0.02)
    await stream.close()


async def test_vosk_throttles_partial_queries_and_keeps_odd_bytes() -> None:
    rec = FakeKaldiRecognizer([])
    stream = fake_vosk_stream(rec, partial_every_s=0.1)
    for _ in range(10):  # 0.2 s of audio in 20 ms frames
        await stream.accept(FRAME_16K)
    assert rec.partial_calls == 2
    await stream.accept(b"\x01\x02\x03")
    await stream.accept(b"\x04")
    assert rec.fed[-2:] == [b"\x01\x02", b"\x03\x04"]
    await stream.close()


async def test_vosk_close_hands_the_reset_recognizer_back() -> None:
    rec = FakeKaldiRecognizer([("partial", "a")])
    closed: list[object] = []
    stream = fake_vosk_stream(rec, closed=closed)
    await stream.accept(FRAME_16K)
    await stream.close()
    assert closed == [rec] and rec.resets == 1
    with pytest.raises(RuntimeError):
        await stream.accept(FRAME_16K)


def test_vosk_rate_follows_the_model_conf(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    conf = tmp_path / "conf" / "mfcc.conf"
    conf.write_text("--use-energy=false\n--allow-upsample=true\n")
    assert model_rate(tmp_path, 8000) == 8000  # Kaldi upsamples itself
    conf.write_text("--sample-frequency=16000\n")
    assert model_rate(tmp_path, 8000) == 16000  # we resample
    assert model_rate(tmp_path, 16000) == 16000


def test_vosk_rejects_unsupported_rates_and_missing_packages() -> None:
    with pytest.raises(ValueError, match="8000"):
        VoskStt(Path("models/vosk-ko"), sample_rate=44100)
    with pytest.raises(EngineUnavailable, match="pip install vosk-model-xx-missing"):
        packaged_vosk_model("vosk-model-xx-missing")


async def test_vosk_refuses_a_stream_in_another_language(monkeypatch: pytest.MonkeyPatch) -> None:
    stt = VoskStt(Path("models/vosk-ko"), language="ko")
    monkeypatch.setattr(stt, "_model", object())
    with pytest.raises(EngineUnavailable, match="vosk-ru"):
        stt.open_stream("ru-RU")


# --- Whisper stream over a fake slow transcriber ---------------------------------------------


async def test_whisper_never_queues_a_second_partial_while_one_runs() -> None:
    stt = FakeSlowStt()
    stream = fake_whisper_stream(stt, partial_every_s=0.2)
    for _ in range(150):  # 3 s of audio, a pass due every 0.2 s
        assert await stream.accept(FRAME_16K) is None
        await asyncio.sleep(0)
    assert stt.calls == [0.2 * 32000]  # the one pass started at 0.2 s; nothing queued
    assert stt.max_running == 1 and stream.busy and stream.partials_skipped > 0
    stt.gate.set()
    await settle()
    partial = await stream.accept(FRAME_16K)
    assert partial is not None and partial.text == "heard 6400 bytes"
    assert partial.audio_s == pytest.approx(0.2) and not partial.is_final
    assert stream.busy  # the next pass started at once, on the whole buffer
    await settle()
    assert stt.calls == [6400, 151 * 640]
    await stream.close()


async def test_whisper_partials_respect_the_interval_and_skip_repeats() -> None:
    stt = FakeSlowStt(texts=["hello", "hello", "hello there"])
    stt.gate.set()
    stream = fake_whisper_stream(stt, partial_every_s=0.2)
    partials = []
    for _ in range(40):  # 0.8 s
        p = await stream.accept(FRAME_16K)
        await settle()
        if p is not None:
            partials.append(p.text)
    assert stt.calls == [6400, 12800, 19200, 25600]
    assert partials == ["hello", "hello there"]
    await stream.close()


async def test_whisper_finish_waits_for_the_running_pass_and_resets() -> None:
    stt = FakeSlowStt(texts=["partial", "the whole utterance"])
    stream = fake_whisper_stream(stt, partial_every_s=0.2)
    for _ in range(20):
        await stream.accept(FRAME_16K)
    assert stream.busy
    finishing = asyncio.create_task(stream.finish())
    await settle()
    assert not finishing.done()
    stt.gate.set()
    transcript = await finishing
    assert transcript.text == "the whole utterance"
    assert transcript.audio_s == pytest.approx(0.4) and stt.calls == [6400, 12800]
    assert stt.max_running == 1
    await stream.accept(FRAME_16K)  # 20 ms of a new utterance: no pass due yet
    assert len(stt.calls) == 2 and stream.audio_s == pytest.approx(0.02)
    await stream.close()


async def test_whisper_partial_failure_is_not_fatal() -> None:
    stt = FakeSlowStt(texts=["ok"])
    stt.fail_next = True
    stt.gate.set()
    stream = fake_whisper_stream(stt, partial_every_s=0.2)
    for _ in range(10):
        await stream.accept(FRAME_16K)
    await settle()
    assert await stream.accept(FRAME_16K) is None  # the failed pass is logged and dropped
    assert (await stream.finish()).text == "ok"
    await stream.close()
