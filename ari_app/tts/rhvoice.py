"""RHVoice through `RHVoice-test`, one subprocess per sentence, WAV streamed from stdout."""

from __future__ import annotations

from ari_app.errors import EngineUnavailable
from ari_app.models import rhvoice_fix, rhvoice_voices
from ari_app.tts.base import SubprocessTts, WavFormatError, stream_wav_subprocess

RHVOICE_BINARY = "RHVoice-test"
DEFAULT_RATE = 24000  # what RHVoice's voices produce; confirmed from the WAV header on load()


class RhvoiceTts(SubprocessTts):
    """RHVoice voice (anna, aleksandr, slt, ...) as s16le at the voice's own rate (24 kHz)."""

    engine = "RHVoice"

    def __init__(self, voice: str, binary: str = RHVOICE_BINARY) -> None:
        super().__init__(f"rhvoice:{voice.lower()}", voice.lower(), binary, DEFAULT_RATE)

    def _fix(self) -> str:
        return rhvoice_fix(self.voice)

    async def _probe(self, exe: str) -> None:
        """Check the voice, and learn the output rate from a short probe."""
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

    def _argv(self, exe: str) -> list[str]:
        return [exe, "-p", self.voice, "-o", "-"]
