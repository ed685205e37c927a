"""WAV in and out of the API: 16-bit PCM mono, any common rate."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass

from ari_app.tts.base import WavFormatError, WavStreamReader

MIN_RATE, MAX_RATE = 8000, 48000


class BadAudio(ValueError):
    """The upload is not usable audio; the message says why, for the client."""


@dataclass(frozen=True)
class Audio:
    pcm: bytes  # s16le mono
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate


def decode_wav(data: bytes) -> Audio:
    """Parse a WAV file (also one streamed with placeholder sizes, as RHVoice writes)."""
    if not data:
        raise BadAudio("no audio: the upload is empty")
    reader = WavStreamReader()
    try:
        pcm = reader.feed(data)
        reader.finish()
    except WavFormatError as exc:
        raise BadAudio(f"not a usable WAV file: {exc}") from None
    assert reader.format is not None
    rate = reader.format.sample_rate
    if not MIN_RATE <= rate <= MAX_RATE:
        raise BadAudio(f"unsupported sample rate {rate} Hz (need {MIN_RATE}-{MAX_RATE} Hz)")
    if not pcm:
        raise BadAudio("the WAV file has no audio samples")
    return Audio(pcm=pcm, sample_rate=rate)


def encode_wav(pcm: bytes, sample_rate: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
    return buf.getvalue()
