"""The speech-to-text contract shared by every STT engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass
class Transcript:
    """What an engine heard in one utterance."""

    text: str
    language: str
    audio_s: float
    elapsed_s: float
    source: str = "local"  # "remote": an inference server heard it (stt/remote.py)
    remote_ms: float | None = None  # the server's answer time, when it was asked


@runtime_checkable
class SpeechToText(Protocol):
    """An engine that turns s16le mono PCM at `sample_rate` into text.

    Engines raise `ari_app.errors.EngineUnavailable` with a fix a person can act on when
    their model or library is missing.

    `prompt` is optional context for the recogniser (what the caller just heard, names and
    words they are likely to say); an engine that cannot use it ignores it, and one that
    uses it must not return the prompt's words as what it heard.
    """

    @property
    def sample_rate(self) -> int: ...

    async def load(self) -> None: ...

    async def transcribe(
        self, pcm: bytes, language: str, *, prompt: str | None = None
    ) -> Transcript: ...
