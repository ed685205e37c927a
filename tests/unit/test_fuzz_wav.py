"""Fuzzing audio uploads: the API's WAV decoder (`decode_wav`, on `WavStreamReader`), the
upload reader (`read_upload`: headers and multipart bodies) and the reference-clip check of
`secretary voice add` (`validate_clip`). Any bytes are audio, or the module's own answer
saying what is wrong: BadAudio, an HTTP 4xx, a clip report listing its problems."""

from __future__ import annotations

import asyncio
import io
import struct
import tempfile
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from starlette.exceptions import HTTPException
from starlette.requests import Request

from ari_app.api.audio import MAX_RATE, MIN_RATE, BadAudio, decode_wav
from ari_app.api.upload import RAW_TYPES, read_upload
from ari_app.tts.voices import NOT_PCM16, validate_clip
from testkit.fuzz import FUZZ


def wav(rate: int = 16000, channels: int = 1, frames: int = 400) -> bytes:
    samples = (np.sin(np.arange(frames * channels) / 7.0) * 8000).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return buf.getvalue()


GOOD = wav()
# The header's fields: RIFF size, fmt size, format, channels, rate, byte rate, block align,
# bits, data size (offset, struct format).
FIELDS = [(4, "<I"), (16, "<I"), (20, "<H"), (22, "<H"), (24, "<I"), (28, "<I"), (32, "<H"),
          (34, "<H"), (40, "<I")]
EDGES = [0, 1, 2, 3, 8, 15, 16, 17, 0xFFFE, 0xFFFF, 2**31 - 1, 2**32 - 1, 0x7FFFF000]


@st.composite
def broken_wavs(draw: st.DrawFn) -> bytes:
    """A valid WAV with header fields set to edge values, bytes overwritten, a chunk
    inserted before fmt or data, or its end cut off."""
    data = bytearray(draw(st.sampled_from([GOOD, wav(8000, 2, 50), wav(48000, 1, 1)])))
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["field", "bytes", "chunk", "cut"]))
        if action == "field":
            offset, fmt = draw(st.sampled_from(FIELDS))
            top = 2 ** (8 * struct.calcsize(fmt)) - 1
            value = draw(st.sampled_from(EDGES) | st.integers(0, top)) & top
            if offset + struct.calcsize(fmt) <= len(data):
                struct.pack_into(fmt, data, offset, value)
        elif action == "bytes":
            at = draw(st.integers(0, len(data)))
            data[at : at + 4] = draw(st.binary(min_size=1, max_size=4))
        elif action == "chunk":
            chunk_id = draw(st.sampled_from([b"LIST", b"fmt ", b"data", b"\x00\x00\x00\x00"]))
            body = draw(st.binary(max_size=20))
            size = draw(st.sampled_from([len(body), 0, 2**32 - 1]) | st.integers(0, 64))
            at = draw(st.sampled_from([12, 36]))
            data[at:at] = chunk_id + struct.pack("<I", size) + body
        else:
            del data[draw(st.integers(0, len(data))):]
    return bytes(data)


WAV_INPUTS = st.binary(max_size=100) | broken_wavs()


@FUZZ
@given(WAV_INPUTS)
@example(b"RIFF\x00\x00\x00\x00WAVEfmt \x00\x00\x00\x00")  # fmt of 0 bytes: struct.error
@example(b"RIFF\x00\x00\x00\x00WAVEfmt \x04\x00\x00\x00\x01\x00\x01\x00data")  # fmt of 4 bytes
@example(GOOD[:38])
def test_any_upload_is_audio_or_bad_audio(data: bytes) -> None:
    try:
        audio = decode_wav(data)
    except BadAudio as exc:
        assert str(exc)
    else:
        assert MIN_RATE <= audio.sample_rate <= MAX_RATE
        assert audio.pcm and len(audio.pcm) % 2 == 0


@pytest.fixture(scope="module")
def clip() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name) / "clip.wav"


@FUZZ
@given(WAV_INPUTS)
@example(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x00\x00"
         b"\x80\x3e\x00\x00\x00\x7d\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00")  # 0 channels
@example(b"RIFF*\x00\x00\x00WAVEfmt \x11\x00\x00\x00\x01\x00\x01\x00\x80>\x00\x00\x00}\x00\x00"
         b"\x02\x00\x10\x00data\x06\x00\x00\x00\x00\x00r\x04\xce\x08")  # fmt of 17: RuntimeError
def test_any_clip_gets_a_report_of_its_problems(clip: Path, data: bytes) -> None:
    clip.write_bytes(data)
    report = validate_clip(clip)
    assert report.ok == (not report.problems)
    assert all(isinstance(p, str) and p for p in report.problems)
    if report.problems == [NOT_PCM16]:
        return
    assert report.sample_rate >= 0 and report.channels >= 1 and report.duration_s >= 0


def request(headers: dict[str, str], body: bytes) -> Request:
    """The request FastAPI would hand to `read_upload` (with an app in its scope, as there:
    starlette then answers a malformed multipart body with a 400)."""
    chunks = [body[: len(body) // 2], body[len(body) // 2 :]]

    async def receive() -> dict[str, Any]:
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    scope = {
        "type": "http", "method": "POST", "path": "/stt", "query_string": b"", "app": object(),
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
    }
    return Request(scope, receive)


CONTENT_TYPES = st.sampled_from([*sorted(RAW_TYPES), "multipart/form-data; boundary=x",
                                 "multipart/form-data", "text/plain", ""])
LATIN1 = st.text(st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=12)
MULTIPART = st.builds(
    lambda head, name, payload, tail: (
        b"--x\r\n" + head + b'Content-Disposition: form-data; name="' + name + b'"; '
        b'filename="a.wav"\r\n\r\n' + payload + b"\r\n--x" + tail
    ),
    st.sampled_from([b"", b"Content-Type: audio/wav\r\n"]) | st.binary(max_size=10),
    st.sampled_from([b"file", b"other"]) | st.binary(max_size=6),
    st.binary(max_size=40),
    st.sampled_from([b"--\r\n", b"\r\n", b""]) | st.binary(max_size=6),
)
LIMIT = 64


@FUZZ
@given(CONTENT_TYPES | LATIN1, st.sampled_from(["", "10", "99999999"]) | LATIN1,
       MULTIPART | st.binary(max_size=100))
@example("audio/wav", "²", b"RIFF")  # a digit to str.isdigit, not to int(): ValueError
@example("audio/wav", "9" * 5000, b"RIFF")  # over int()'s 4300 digits: ValueError
@example("multipart/form-data; boundary=x", "", b"--x\r\n\r\n--x--\r\n")
def test_any_upload_request_is_bytes_or_a_client_error(
    content_type: str, length: str, body: bytes
) -> None:
    headers = {"content-type": content_type}
    if length:
        headers["content-length"] = length
    try:
        data = asyncio.run(read_upload(request(headers, body), LIMIT))
    except HTTPException as exc:
        assert exc.status_code in (400, 413, 415) and exc.detail
    else:
        assert len(data) <= LIMIT
