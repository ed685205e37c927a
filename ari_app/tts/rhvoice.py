"""RHVoice through `RHVoice-test`, one subprocess per sentence, WAV streamed from stdout."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

from ari_app.errors import EngineUnavailable
from ari_app.models import rhvoice_fix, rhvoice_voices
from ari_app.tts.base import (
    WavFormatError,
    speak_sentences_by_subprocess,
    stream_wav_subprocess,
)

RHVOICE_BINARY = "RHVoice-test"
DEFAULT_RATE = 24000  # what RHVoice's voices produce; confirmed from the WAV header on load()


class RhvoiceTts:
    """RHVoice voice (anna, aleksandr, slt, ...) as s16le at the voice's own rate (24 kHz)."""

    def __init__(self, voice: str, binary: str = RHVOICE_BINARY) -> None:
        self.voice = voice.lower()
        self.name = f"rhvoice:{self.voice}"
        self.sample_rate = DEFAULT_RATE
        self._binary = binary
        self._exe: str | None = None

    async def load(self) -> None:
        """Check the binary and the voice, and learn the output rate from a short probe."""
        if self._exe is not None:
            return
        exe = shutil.which(self._binary)
        if exe is None:
            raise EngineUnavailable(f"{self._binary} not found; {rhvoice_fix(self.voice)}")
        # RHVoice-test silently falls back to another voice for an unknown name: check first.
        if self.voice not in rhvoice_voices():
            raise EngineUnavailable(
                f"RHVoice voice {self.voice!r} is not installed; {rhvoice_fix(self.voice)}"
            )
        rate = None
        try:
            async for fmt, _pcm in stream_wav_subprocess(self._argv(exe), "a"):
                rate = fmt.sample_rate
        except (OSError, RuntimeError, WavFormatError) as exc:
            raise EngineUnavailable(
                f"RHVoice voice {self.voice!r} failed to speak ({exc}); {rhvoice_fix(self.voice)}"
            ) from exc
        if rate is None:
            raise EngineUnavailable(f"RHVoice voice {self.voice!r} produced no audio")
        self.sample_rate = rate
        self._exe = exe

    def _argv(self, exe: str) -> list[str]:
        return [exe, "-p", self.voice, "-o", "-"]

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        await self.load()
        assert self._exe is not None
        async for pcm in speak_sentences_by_subprocess(
            self._argv(self._exe), text, self.sample_rate, "RHVoice"
        ):
            yield pcm
