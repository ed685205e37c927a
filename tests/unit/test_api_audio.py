"""WAV in and out of the API, and the upload size arithmetic."""

from __future__ import annotations

import io
import struct
import wave

import pytest

from ari_app.api.audio import BadAudio, decode_wav, encode_wav
from ari_app.api.upload import max_upload_bytes


def wav(pcm: bytes, rate: int = 16000, channels: int = 1, width: int = 2) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(pcm)
    return buf.getvalue()


def test_round_trip() -> None:
    pcm = struct.pack("<4h", 0, 1000, -1000, 32767)
    audio = decode_wav(encode_wav(pcm, 22050))
    assert audio.pcm == pcm and audio.sample_rate == 22050
    assert audio.duration_s == pytest.approx(4 / 22050)


def test_streamed_header_with_placeholder_sizes() -> None:
    data = bytearray(wav(b"\x10\x00" * 100, 24000))
    struct.pack_into("<I", data, 4, 0x7FFFF000)  # RIFF size, as RHVoice streams it
    struct.pack_into("<I", data, 40, 0x7FFFF000)  # data size
    audio = decode_wav(bytes(data))
    assert audio.sample_rate == 24000 and len(audio.pcm) == 200


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"hello, not audio at all", "not a usable WAV"),
        (wav(b"\0\0" * 10, channels=2), "channels=2"),
        (wav(b"\0" * 10, width=1), "bits=8"),
        (wav(b"\0\0" * 10, rate=4000), "4000 Hz"),
        (wav(b""), "no audio samples"),
    ],
)
def test_bad_uploads_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(BadAudio, match=reason):
        decode_wav(data)


def test_upload_limit_fits_the_longest_audio() -> None:
    assert max_upload_bytes(60) > 60 * 48000 * 2 + 44
    assert max_upload_bytes(1) < max_upload_bytes(2)
