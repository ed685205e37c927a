"""Streaming speech-to-text: partial results while the caller speaks, a final one at the end.

A `StreamingStt` is the engine (one loaded model, shared); `open_stream(language)` gives one
`StreamingRecognizer` per call. Feed it s16le mono PCM at `sample_rate` with `accept()` as the
frames arrive; it returns a `Partial` whenever the engine has new text. `finish()` returns the
utterance's `Transcript` and resets the stream for the next utterance; `close()` ends it.

Heavy work never runs on the event loop: engines decode in worker threads. The engines are
stt/vosk.py and stt/whisper_stream.py, built by name in stt/factory.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ari_app.stt.base import Transcript


@dataclass
class Partial:
    """Text heard so far in the current utterance.

    `text` covers the whole utterance up to now (not a delta). `is_final` is True when the
    engine committed that text (Vosk endpoint) and it will not change any more. `audio_s` is how
    much audio of the utterance the text is based on; `at` is `time.monotonic()` when it was made.
    """

    text: str
    is_final: bool
    audio_s: float
    at: float


@runtime_checkable
class StreamingRecognizer(Protocol):
    """One stream (one call): partials from `accept`, the utterance text from `finish`."""

    @property
    def sample_rate(self) -> int: ...

    async def accept(self, pcm: bytes) -> Partial | None: ...

    async def finish(self) -> Transcript: ...

    async def close(self) -> None: ...


@runtime_checkable
class StreamingStt(Protocol):
    """A streaming engine; `load()` once, then `open_stream()` per call."""

    @property
    def sample_rate(self) -> int: ...

    async def load(self) -> None: ...

    def open_stream(self, language: str) -> StreamingRecognizer: ...
