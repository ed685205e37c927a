"""The recogniser as one call's turns meet it: one interface (`TurnStream`) whatever the
engine, so nothing on the call path asks whether it is batch or streaming.

A turn's frames are fed as they arrive (`feed`); at a pause the audio so far may be guessed
at (`guess`); when the turn is over its words are asked for (`words`), and when it turned
out to go on, the words of the whole (`extend`). Audio is s16le mono at the call's rate,
with its span on the call's tape: the same span asked twice is the same audio.

- `BatchTurnStream` wraps an engine that transcribes finished audio (Whisper): a guess is a
  transcription started at the pause, used if the turn ends there; the words of a whole are
  one transcription of it, checked against its rest heard alone.
- `LiveTurnStream` wraps a streaming engine (Vosk, Whisper streaming): it heard every frame
  already, so the words are its final, and a whole is the words of its parts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from typing import Literal, Protocol

from ari_app.media.resample import resample
from ari_app.stt.base import SpeechToText, Transcript
from ari_app.stt.streaming import StreamingRecognizer, StreamingStt

log = logging.getLogger(__name__)

Span = tuple[float, float]  # loop times on the call's tape: (audio start, audio end)


@dataclass(frozen=True)
class Audio:
    """A cut of the call's tape."""

    pcm: bytes
    span: Span


@dataclass(frozen=True)
class Heard:
    """Words of a turn, and how they were got."""

    transcript: Transcript
    by: Literal["stream", "guess", "batch"]

    @property
    def text(self) -> str:
        return self.transcript.text


class TurnStream(Protocol):
    """One call's recogniser, turn after turn."""

    def feed(self, frame: bytes) -> None:
        """A frame of the turn being listened to, in order."""
        ...

    def expect(self, prompt: str | None) -> None:
        """What the turns from now on answer, as a text the recogniser may take for
        context (the secretary's question, the names it may hear); None: nothing."""
        ...

    def guess(self, audio: Audio) -> asyncio.Future[Transcript] | None:
        """A pause: the turn so far may end here. The words may be started on; the guess
        at them is returned when one was started (the turn's end and the reply may be
        judged from it), None when none was."""
        ...

    async def words(self, audio: Audio) -> Heard:
        """The words of a finished turn (or of a part of one)."""
        ...

    async def extend(self, first: Heard, rest: Audio, whole: Audio) -> Heard:
        """The words of a turn that went on: `first` heard, then `rest`; `whole` is the
        one cut from the first part's start to the rest's end."""
        ...

    async def discard(self) -> None:
        """Forget what was fed since the last turn (silence, the tail of our echo)."""
        ...

    async def close(self) -> None: ...


def open_turn_stream(
    stt: SpeechToText | None, streaming: StreamingStt | None, language: str, rate: int,
    call_id: str,
) -> TurnStream:
    """The call's turn stream: the streaming engine's when there is one."""
    if streaming is not None:
        return LiveTurnStream(streaming.open_stream(language), call_id)
    if stt is None:
        raise ValueError("no speech-to-text engine")
    return BatchTurnStream(stt, language, rate, call_id)


def _retrieve(task: asyncio.Future[Transcript]) -> None:
    """Mark a dropped guess's outcome as seen."""
    if not task.cancelled():
        task.exception()


class GuessDropped(Exception):
    """A guess that waited for the one before it and was not made: a later pause was
    guessed at meanwhile, the turn ended elsewhere, or other calls wait for the
    recogniser."""


class BatchTurnStream:
    """A batch engine behind the turn interface (see the module's docstring)."""

    def __init__(self, stt: SpeechToText, language: str, rate: int, call_id: str) -> None:
        self.stt = stt
        self.language = language
        self.rate = rate
        self.call_id = call_id
        self._guess: tuple[Span, asyncio.Future[Transcript]] | None = None
        self._newest: Span | None = None  # the one guess that may wait for the one in flight
        self.prompt: str | None = None

    def feed(self, frame: bytes) -> None:
        """Nothing: the turn's audio is cut from the call's tape when it is needed."""

    def expect(self, prompt: str | None) -> None:
        self.prompt = prompt

    def guess(self, audio: Audio) -> asyncio.Future[Transcript] | None:
        """Whisper cannot be interrupted, so a guess asked while one is running waits for
        it (the caller paused again: this pause may be the last, and its words are needed
        soon) and is dropped if a newer one is asked meanwhile. Other calls' words come
        first: no guess is started while they wait for the recogniser."""
        before = self._guess[1] if self._guess is not None else None
        if before is not None and not before.done():
            self._newest = audio.span
            task = asyncio.ensure_future(self._guess_after(before, audio))
        else:
            if self._others_wait():
                return None
            task = asyncio.ensure_future(self._transcribe(audio.pcm))
        task.add_done_callback(_retrieve)
        self._guess = (audio.span, task)
        return task

    def _others_wait(self) -> bool:
        """Other calls' words wait for the recogniser (counted while none of ours runs)."""
        return int(getattr(self.stt, "pending", 0)) > 0

    async def _guess_after(self, before: asyncio.Future[Transcript], audio: Audio) -> Transcript:
        await asyncio.wait([before])
        if self._newest != audio.span or self._others_wait():
            raise GuessDropped
        self._newest = None
        return await self._transcribe(audio.pcm)

    async def _transcribe(self, pcm: bytes, *, prompted: bool = True) -> Transcript:
        return await self.stt.transcribe(resample(pcm, self.rate, self.stt.sample_rate),
                                         self.language, prompt=self.prompt if prompted else None)

    async def words(self, audio: Audio) -> Heard:
        guess, self._guess = self._guess, None
        if guess is not None and guess[0] == audio.span:
            try:
                return Heard(await guess[1], "guess")
            except GuessDropped:
                pass
            except Exception as exc:
                log.warning("call %s: the guess at the pause failed: %s", self.call_id, exc)
        else:
            self._newest = None  # a guess waiting for its turn is not wanted
        return Heard(await self._transcribe(audio.pcm), "batch")

    async def extend(self, first: Heard, rest: Audio, whole: Audio) -> Heard:
        """The whole transcribed again, as one. Whisper may stop at a long pause inside
        the audio and leave out all that follows (seen on a real call: "мой номер 896."
        for a number whose second half came 2.2 s later), so the rest is also
        transcribed on its own (without the prompt: a fragment of a number with one came
        out in words, "Чутыря, синг." for "четыре, семь"). If the whole does not end with
        the rest's words and says less than the two parts together, the turn is the
        first part's words and the rest's; a whole that says as much is kept (a short rest
        heard alone is the worse guess)."""
        heard = await self.words(whole)
        alone = await self._transcribe(rest.pcm, prompted=False)
        if ends_with(heard.text, alone.text) or _said(heard.text) >= _said(first.text) + _said(
            alone.text
        ):
            return heard
        log.warning("call %s: the whole turn %r left out its rest %r; joining the parts",
                    self.call_id, heard.text, alone.text)
        return Heard(joined(first.transcript, alone), heard.by)

    async def discard(self) -> None:
        self._guess = None
        self._newest = None

    async def close(self) -> None:
        self._guess = None
        self._newest = None


class LiveTurnStream:
    """A streaming engine behind the turn interface: fed every frame of the turn (in order,
    off the event loop's critical path), asked for the final words when the turn ends,
    which then takes milliseconds instead of a whole transcription."""

    def __init__(self, recognizer: StreamingRecognizer, call_id: str) -> None:
        self.recognizer = recognizer
        self.call_id = call_id
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._feeder = asyncio.create_task(self._feed())
        self.partial = ""

    def feed(self, frame: bytes) -> None:
        self._queue.put_nowait(frame)

    async def _feed(self) -> None:
        while True:
            frame = await self._queue.get()
            try:
                partial = await self.recognizer.accept(frame)
                if partial is not None and partial.text != self.partial:
                    self.partial = partial.text
                    log.debug("partial: %s", partial.text)
            except Exception:
                log.exception("call %s: streaming recogniser failed on a frame", self.call_id)
            finally:
                self._queue.task_done()

    def expect(self, prompt: str | None) -> None:
        """Nothing: a streaming engine takes no prompt."""

    def guess(self, audio: Audio) -> asyncio.Future[Transcript] | None:
        """Nothing to start: the partials are the running guess."""
        return None

    async def final(self) -> Transcript:
        """The words fed so far; the recogniser starts afresh after."""
        await self._queue.join()
        transcript = await self.recognizer.finish()
        self.partial = ""
        return transcript

    async def words(self, audio: Audio) -> Heard:
        return Heard(await self.final(), "stream")

    async def extend(self, first: Heard, rest: Audio, whole: Audio) -> Heard:
        """It heard only the rest since the first part's final: its words are added."""
        return Heard(joined(first.transcript, await self.final()), "stream")

    async def discard(self) -> None:
        await self.final()

    async def close(self) -> None:
        self._feeder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._feeder
        await self.recognizer.close()


def ends_with(whole: str, rest: str) -> bool:
    """`whole` ends with the words of `rest`, as far as two passes of a recogniser agree:
    its last digits (numbers are written "123 45 67" one time, "1234567" another), or its
    last word (by its first four letters)."""
    rest_digits = "".join(re.findall(r"[0-9]", rest))
    if rest_digits:
        return "".join(re.findall(r"[0-9]", whole)).endswith(rest_digits[-2:])
    rest_words = re.findall(r"[^\W\d_]+", rest.lower())
    if not rest_words:
        return True
    tail = {w[:4] for w in re.findall(r"[^\W\d_]+", whole.lower())[-len(rest_words) - 2 :]}
    return rest_words[-1][:4] in tail


def _said(text: str) -> int:
    """How much a transcript says: its digits and its words."""
    return len(re.findall(r"[0-9]", text)) + len(re.findall(r"[^\W\d_]+", text))


def joined(first: Transcript, rest: Transcript) -> Transcript:
    """One transcript of two parts said one after the other."""
    return Transcript(
        f"{first.text} {rest.text}".strip(), first.language,
        first.audio_s + rest.audio_s, first.elapsed_s + rest.elapsed_s,
    )
