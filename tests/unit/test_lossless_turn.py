"""A turn never loses audio (docs/architecture.md, "A turn never loses audio"): what the
recogniser is given for a turn is exactly what the call recording holds from the pre-roll
before the detected voice onset to the end of the turn, internal pauses included, whatever
happened on the way (a soft onset detected late, frames that came while nobody listened,
a barge-in, the rest of a number joined to the turn).

Real Listener, endpointer, level VAD, tape, recorder, Turn and BatchTurnStream; the transport,
the clock and the recogniser are fakes (named so). The clock is virtual: each frame the
fake transport delivers moves it on by 20 ms, a gap in the caller's audio moves it on
without frames (as Asterisk sends nothing while a SIP caller is silent).
"""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ari_app.call.recorder import CallRecorder
from ari_app.config import TurnConfig
from ari_app.stt.base import Transcript
from ari_app.stt.turn_stream import Audio, BatchTurnStream
from ari_app.turn.endpointing import Utterance
from ari_app.turn.listener import BargeIn, Listener
from ari_app.turn.turn import RestWaits, Turn
from ari_app.turn.vad import EnergyVad

RATE = 8000
FRAME = 160  # samples in 20 ms
PREROLL_S = 0.3
TAIL_S = 0.15  # config's speculate_after_ms


class FakeClock:
    """The listener's clock: moved on by the fake transport, never by the wall."""

    def __init__(self) -> None:
        self.now = 100.0

    def time(self) -> float:
        return self.now


class FakeTransport:
    """Plays a script of caller audio: frames (each moves the clock 20 ms, one per
    millisecond of waiting) and gaps (the clock moves, no frames). With nothing scripted the
    line is quiet: no frames, and the clock moves 20 ms per millisecond of waiting."""

    sample_rate = RATE

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.script: asyncio.Queue[bytes | float] = asyncio.Queue()
        self.delivered = 0
        self.drained = asyncio.Event()  # every scripted part has been delivered

    def play(self, *parts: bytes | float) -> None:
        self.drained.clear()
        for part in parts:
            if isinstance(part, float):
                self.script.put_nowait(part)
            else:
                for i in range(0, len(part), 2 * FRAME):
                    self.script.put_nowait(part[i : i + 2 * FRAME])

    async def read_frame(self) -> bytes | None:
        while True:
            if self.script.empty():
                self.drained.set()
                await asyncio.sleep(0.001)
                self.clock.now += FRAME / RATE
                continue
            part = self.script.get_nowait()
            if isinstance(part, float):
                self.clock.now += part
                continue
            await asyncio.sleep(0.001)  # frames come one at a time, as on a line
            self.clock.now += FRAME / RATE
            self.delivered += 1
            return part


class FakeRecogniser:
    """Keeps every piece of audio it is asked to transcribe; says a scripted text."""

    sample_rate = RATE
    pending = 0  # other calls' transcriptions waiting (the real engines count them)

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.given: list[bytes] = []

    async def load(self) -> None:
        return None

    async def transcribe(
        self, pcm: bytes, language: str, *, prompt: str | None = None
    ) -> Transcript:
        self.given.append(pcm)
        return Transcript(self.texts.pop(0), language, len(pcm) / 2 / RATE, 0.0)


def tone(seconds: float, dbfs: float, hz: float = 300.0) -> bytes:
    t = np.arange(round(seconds * RATE)) / RATE
    amplitude = 32767 * 10 ** (dbfs / 20) * np.sqrt(2)
    return (np.sin(2 * np.pi * hz * t) * amplitude).astype("<i2").tobytes()


def silence(seconds: float) -> bytes:
    return bytes(2 * round(seconds * RATE))


def soft_word(seconds: float = 0.8) -> bytes:
    """A word whose first 200 ms are too quiet for the detector (-55 dBFS, under its
    -45 dBFS threshold), as a caller's first syllable often is; then -20 dBFS."""
    return tone(0.2, -55.0, 220.0) + tone(seconds - 0.2, -20.0)


class Call:
    """One call's caller side: recorder, listener and its pump on the virtual clock."""

    def __init__(self, tmp_path: Path, vad: Any = None, **turn: int) -> None:
        self.clock = FakeClock()
        self.transport = FakeTransport(self.clock)
        self.recorder = CallRecorder(tmp_path, "call", RATE)
        config = TurnConfig(vad="energy", end_silence_ms=600, min_speech_ms=200,
                            preroll_ms=int(PREROLL_S * 1000), **turn)  # type: ignore[arg-type]
        self.listener = Listener(self.transport, vad or EnergyVad(RATE), config,  # type: ignore[arg-type]
                                 self.recorder, self.clock)  # type: ignore[arg-type]
        self.pump = asyncio.create_task(self.listener.pump())

    async def settle(self) -> None:
        """Let the pump take every frame scripted so far."""
        await self.transport.drained.wait()

    def recording(self) -> bytes:
        self.pump.cancel()
        path, _ = self.recorder.close()
        with wave.open(str(path), "rb") as w:
            return w.readframes(w.getnframes())

    def recorded_span(self, recording: bytes, start: float, end: float) -> bytes:
        """The recording from `start` to `end`; before its first frame the line sent
        nothing, which is silence."""
        origin = self.recorder.origin
        assert origin is not None
        a = round((start - origin) * RATE)
        b = round((end - origin) * RATE)
        return bytes(2 * max(0, -a)) + recording[2 * max(0, a) : 2 * b]


def assert_is_the_recording(call: Call, recording: bytes, utterance: Utterance,
                            given: bytes) -> None:
    """The invariant: the recogniser got the recording from the pre-roll before the voice
    onset to the tail after its end, sample for sample."""
    assert utterance.audio_start == pytest.approx(utterance.speech_start - PREROLL_S)
    assert utterance.audio_end == pytest.approx(
        min(utterance.detected_at, utterance.speech_end + TAIL_S))
    expected = call.recorded_span(recording, utterance.audio_start, utterance.audio_end)
    assert len(given) > 0 and given == expected


async def test_a_soft_onset_detected_late_is_still_in_the_turn(tmp_path: Path) -> None:
    call = Call(tmp_path)
    call.transport.play(silence(1.0), soft_word(), silence(1.0))
    utterance = await call.listener.next_utterance(5.0, since=call.clock.now)
    assert utterance is not None
    recording = call.recording()
    assert_is_the_recording(call, recording, utterance, utterance.pcm)
    # the quiet first 200 ms were not voiced for the detector, yet they are in the turn
    soft = np.frombuffer(tone(0.2, -55.0, 220.0), dtype="<i2")
    pcm = np.frombuffer(utterance.pcm, dtype="<i2")
    found = [i for i in range(0, len(pcm) - len(soft) + 1, 2) if np.array_equal(
        pcm[i : i + len(soft)], soft)]
    assert found, "the soft onset is missing from the turn's audio"


async def test_a_pause_with_no_frames_is_kept_as_silence(tmp_path: Path) -> None:
    """Asterisk sends nothing while the caller is quiet: the 0.4 s pause inside the turn
    is on the recording as silence, and so in the turn."""
    call = Call(tmp_path)
    call.transport.play(silence(0.4), tone(0.6, -20.0), 0.4, tone(0.6, -20.0), silence(1.0))
    utterance = await call.listener.next_utterance(5.0, since=call.clock.now)
    assert utterance is not None
    recording = call.recording()
    assert_is_the_recording(call, recording, utterance, utterance.pcm)
    assert utterance.speech_end - utterance.speech_start == pytest.approx(1.6, abs=0.03)


async def test_speech_that_began_before_anyone_listened_is_not_flushed(tmp_path: Path) -> None:
    """Our reply ended; the caller began 0.1 s later, while the session was still busy
    (writing the record): the turn is listened for from the reply's end, not from when
    the session got round to it."""
    call = Call(tmp_path)
    reply_ended = call.clock.now
    call.transport.play(silence(0.1), soft_word(1.0), silence(1.0))
    await call.settle()  # every frame arrived before the session listens
    utterance = await call.listener.next_utterance(5.0, since=reply_ended)
    assert utterance is not None
    assert utterance.speech_start < reply_ended + 0.4
    recording = call.recording()
    assert_is_the_recording(call, recording, utterance, utterance.pcm)


async def test_a_barge_in_turn_starts_before_the_interrupting_words(tmp_path: Path) -> None:
    call = Call(tmp_path)
    barged: list[BargeIn] = []
    call.listener.stop_listening()  # we are speaking
    call.listener.arm_barge_in(barged.append, not_before=0.0)
    call.transport.play(silence(1.0), soft_word(1.2), silence(1.0))
    await call.settle()
    assert barged, "the interruption was not noticed"
    utterance = await call.listener.next_utterance(5.0, since=barged[0].onset - 0.1)
    assert utterance is not None
    recording = call.recording()
    assert_is_the_recording(call, recording, utterance, utterance.pcm)
    assert utterance.audio_start < barged[0].onset - 0.2  # the soft start is in the turn


def new_turn(stt: FakeRecogniser, call: Call, phrase_wait_ms: int = 0) -> Turn:
    """A real turn over the call's listener, heard by the fake recogniser."""
    stream = BatchTurnStream(stt, "ru", RATE, "test")  # type: ignore[arg-type]
    return Turn(stream, call.listener, RestWaits(3000, phrase_wait_ms), "test")


async def test_the_rest_of_a_number_joins_as_one_cut_of_the_recording(tmp_path: Path) -> None:
    """"... восемь девятьсот шестнадцать" [1.7 s, no frames] "сто двадцать три": the
    recogniser hears the first part, then the whole turn with its pause as recorded."""
    call = Call(tmp_path)
    stt = FakeRecogniser(["мой номер 8 916", "мой номер 8 916 123", "123"])
    heard = new_turn(stt, call)
    call.transport.play(silence(0.5), soft_word(1.5), silence(0.7))
    first = await call.listener.next_utterance(5.0, since=call.clock.now)
    assert first is not None
    call.transport.play(1.0, soft_word(1.0), silence(0.8))
    transcript = await heard.hear(first)
    turn = heard.audio
    assert turn is not None
    assert transcript.text.endswith("123")
    recording = call.recording()
    assert_is_the_recording(call, recording, first, stt.given[0])
    assert_is_the_recording(call, recording, turn, stt.given[1])
    assert stt.given[1].endswith(stt.given[2])  # the rest, checked on its own
    assert turn.speech_start == first.speech_start and turn.speech_end > first.detected_at


async def test_a_speculative_guess_hears_the_turn_so_far_from_its_pre_roll(
    tmp_path: Path,
) -> None:
    call = Call(tmp_path)
    stt = FakeRecogniser(["Здравствуйте!"])
    turn = new_turn(stt, call)
    call.transport.play(silence(0.3), soft_word(0.9), silence(1.0))
    snapshots: list[Utterance] = []

    def on_pause(snapshot: Utterance) -> None:
        snapshots.append(snapshot)
        turn.at_pause(snapshot)

    utterance = await call.listener.next_utterance(5.0, since=call.clock.now, on_pause=on_pause)
    assert utterance is not None and snapshots
    await turn.hear(utterance)
    assert turn.timings.heard_by == "guess" and len(stt.given) == 1
    recording = call.recording()
    guess = snapshots[-1]
    assert guess.speech_end == utterance.speech_end  # nothing voiced after the pause
    expected = call.recorded_span(recording, guess.audio_start, guess.audio_end)
    assert stt.given[0] == expected and guess.audio_start == utterance.audio_start
    # the guess and the finished turn heard the very same audio
    assert guess.pcm == utterance.pcm


class FakePromptedRecogniser(FakeRecogniser):
    """Also keeps the prompt of each transcription."""

    def __init__(self, texts: list[str]) -> None:
        super().__init__(texts)
        self.prompts: list[str | None] = []

    async def transcribe(
        self, pcm: bytes, language: str, *, prompt: str | None = None
    ) -> Transcript:
        self.prompts.append(prompt)
        return await super().transcribe(pcm, language)


async def test_the_expected_answer_goes_to_the_recogniser_with_every_cut() -> None:
    """The session tells the stream what the next turns answer (a number question): the
    guess and the words get it, until it is taken back; the rest heard alone does not."""
    stt = FakePromptedRecogniser(["8 916", "8 916 123 45 67", "123 45 67", "Да."])
    stream = BatchTurnStream(stt, "ru", RATE, "test")  # type: ignore[arg-type]
    first = Audio(b"\x01\x00" * 800, (1.0, 1.1))
    rest = Audio(b"\x02\x00" * 800, (2.0, 2.1))
    whole = Audio(b"\x03\x00" * 1600, (1.0, 2.1))
    stream.expect("Ромашка, Анна. По какому номеру вам перезвонить?")
    guess = stream.guess(first)
    assert guess is not None
    heard = await stream.words(first)
    await stream.extend(heard, rest, whole)
    stream.expect(None)
    await stream.words(rest)
    asked = "Ромашка, Анна. По какому номеру вам перезвонить?"
    assert stt.prompts == [asked, asked, None, None]  # the rest alone: no prompt


async def test_no_guess_while_other_calls_wait_for_the_recogniser() -> None:
    """The recogniser is shared: with other calls' transcriptions waiting, a pause starts no
    guess (it would delay their words for a cut that may be thrown away); the finished
    turn's words are still transcribed."""
    stt = FakeRecogniser(["Да.", "Да."])
    stream = BatchTurnStream(stt, "ru", RATE, "test")  # type: ignore[arg-type]
    audio = Audio(b"\x01\x00" * 800, (1.0, 1.1))
    stt.pending = 2
    assert stream.guess(audio) is None
    stt.pending = 0
    guess = stream.guess(audio)
    assert guess is not None and (await guess).text == "Да."


async def test_a_caller_whose_first_frame_is_speech_still_has_the_pre_roll(
        tmp_path: Path) -> None:
    """Our greeting played; the caller's side sent nothing until they spoke (a SIP phone
    that sends no RTP while quiet): their first frame is their word. The 0.3 s before it
    were silence on the line and are silence on the recording, and so in the turn (Whisper
    misread a human "Hello" cut at its onset as "Hamal")."""
    call = Call(tmp_path)
    call.recorder.secretary(silence(1.0), call.clock.now)  # the greeting, on our side
    call.clock.now += 1.2
    call.transport.play(tone(0.6, -20.0), silence(1.0))
    utterance = await call.listener.next_utterance(5.0, since=call.clock.now)
    assert utterance is not None
    recording = call.recording()
    assert_is_the_recording(call, recording, utterance, utterance.pcm)
    lead = np.frombuffer(utterance.pcm, dtype="<i2")[: round(PREROLL_S * RATE) - FRAME]
    assert len(lead) == round(PREROLL_S * RATE) - FRAME and not lead.any()
