"""Pseudo-streaming Whisper: re-transcribe the growing utterance buffer for partials.

faster-whisper has no incremental decoder, so a stream keeps the utterance's audio and, once
`partial_every_s` of new audio has arrived, re-transcribes the whole buffer in the background.
While one partial is still decoding, no other is started (work is never queued: the cadence
becomes the larger of `partial_every_s` and the cost of one pass). `finish()` decodes the full
buffer once more (beam 1, temperature 0, no conditioning: `WhisperStt.transcribe`).

The model is `WhisperStt`'s: pass `stt=` to share an already loaded batch engine. All decoding
runs in that engine's single worker thread (CTranslate2 with one worker decodes one request at a
time anyway, so a thread per stream would only add contention).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from ari_app.media.pcm import SampleCarry
from ari_app.stt.base import SpeechToText, Transcript
from ari_app.stt.streaming import Partial
from ari_app.stt.whisper import WhisperOptions, WhisperStt

log = logging.getLogger(__name__)


class WhisperStreamingStt:
    """Streaming facade over one (shared) faster-whisper model; input s16le 16 kHz."""

    name = "whisper"
    sample_rate = 16000

    def __init__(
        self,
        model_dir: Path,
        options: WhisperOptions | None = None,
        *,
        partial_every_s: float = 0.6,
        stt: SpeechToText | None = None,
    ) -> None:
        if partial_every_s <= 0:
            raise ValueError(f"partial_every_s must be positive, got {partial_every_s}")
        self.partial_every_s = partial_every_s
        self._owns_stt = stt is None
        self.stt: SpeechToText = stt or WhisperStt(Path(model_dir), options)

    async def load(self) -> None:
        await self.stt.load()

    def open_stream(self, language: str) -> WhisperStream:
        return WhisperStream(self.stt, language, self.partial_every_s)

    def close(self) -> None:
        """Release the model when this object created it (a shared `stt=` is left alone)."""
        if self._owns_stt and isinstance(self.stt, WhisperStt):
            self.stt.close()


class WhisperStream:
    """One utterance buffer with at most one background partial transcription."""

    sample_rate = 16000

    def __init__(self, stt: SpeechToText, language: str, partial_every_s: float) -> None:
        self.language = language
        self.partial_every_s = partial_every_s
        self.partials_run = 0  # partial passes started (all utterances)
        self.partials_skipped = 0  # accept() calls that were due but found one running
        self._stt = stt
        self._buf = bytearray()
        self._carry = SampleCarry()
        self._task: asyncio.Task[Transcript] | None = None
        self._task_audio_s = 0.0
        self._next_due_bytes = self._interval_bytes
        self._last_text = ""
        self._closed = False

    @property
    def _interval_bytes(self) -> int:
        return int(self.partial_every_s * self.sample_rate) * 2

    @property
    def audio_s(self) -> float:
        return len(self._buf) / 2 / self.sample_rate

    @property
    def busy(self) -> bool:
        """A partial pass is decoding now."""
        return self._task is not None and not self._task.done()

    async def accept(self, pcm: bytes) -> Partial | None:
        """Buffer `pcm`; return a finished partial if one is new; maybe start the next pass."""
        if self._closed:
            raise RuntimeError("accept on a closed Whisper stream")
        self._buf.extend(self._carry.take(pcm))
        partial = self._collect() if self._task is not None and self._task.done() else None
        if len(self._buf) >= self._next_due_bytes:
            if self.busy:
                self.partials_skipped += 1
            else:
                self._start_pass()
        return partial

    def _start_pass(self) -> None:
        self._next_due_bytes = len(self._buf) + self._interval_bytes
        self._task_audio_s = self.audio_s
        self.partials_run += 1
        self._task = asyncio.create_task(
            self._stt.transcribe(bytes(self._buf), self.language), name="whisper-partial"
        )

    def _collect(self) -> Partial | None:
        task, self._task = self._task, None
        assert task is not None
        if task.cancelled():
            return None
        exc = task.exception()
        if exc is not None:
            log.warning("whisper partial failed: %s", exc)
            return None
        text = task.result().text
        if not text or text == self._last_text:
            return None
        self._last_text = text
        return Partial(text, False, self._task_audio_s, time.monotonic())

    async def _drain(self) -> None:
        """Wait for a running partial pass (its result is dropped)."""
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task

    async def finish(self) -> Transcript:
        """Transcribe the whole utterance; `elapsed_s` includes waiting for a running partial."""
        started = time.perf_counter()
        await self._drain()
        audio = bytes(self._buf)
        self._buf = bytearray()
        self._carry.reset()
        self._next_due_bytes = self._interval_bytes
        self._last_text = ""
        result = await self._stt.transcribe(audio, self.language)
        return Transcript(
            result.text, result.language, len(audio) / 2 / self.sample_rate,
            time.perf_counter() - started,
        )

    async def close(self) -> None:
        """Drop the buffer; a running partial is awaited so no work outlives the stream."""
        self._closed = True
        await self._drain()
        self._buf = bytearray()
