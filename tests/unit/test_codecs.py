import math
import struct

import pytest

from ari_app.media.codecs import (
    alaw_decode,
    alaw_encode,
    get_codec,
    ulaw_decode,
    ulaw_encode,
)


def pcm(samples: list[int]) -> bytes:
    return struct.pack(f"<{len(samples)}h", *samples)


def unpack(data: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(data) // 2}h", data))


def test_known_values_of_silence() -> None:
    assert ulaw_encode(pcm([0])) == b"\xff"
    assert alaw_encode(pcm([0])) == b"\xd5"
    assert unpack(ulaw_decode(b"\xff")) == [0]
    assert abs(unpack(alaw_decode(b"\xd5"))[0]) <= 8


def test_lengths() -> None:
    frame = bytes(320)  # 20 ms at 8 kHz
    assert len(ulaw_encode(frame)) == 160
    assert len(alaw_encode(frame)) == 160
    assert len(ulaw_decode(bytes(160))) == 320
    assert len(alaw_decode(bytes(160))) == 320
    assert len(ulaw_encode(bytes(321))) == 160  # odd trailing byte ignored


@pytest.mark.parametrize("name", ["ulaw", "alaw"])
def test_round_trip_of_a_sine_is_close(name: str) -> None:
    codec = get_codec(name)
    samples = [int(12000 * math.sin(2 * math.pi * 440 * n / 8000)) for n in range(800)]
    back = unpack(codec.decode(codec.encode(pcm(samples))))
    assert len(back) == len(samples)
    for a, b in zip(samples, back, strict=True):
        assert abs(a - b) <= max(16, abs(a) // 16)  # G.711 error ~ 1/32 of the magnitude


@pytest.mark.parametrize("name", ["ulaw", "alaw"])
def test_code_words_survive_decode_encode(name: str) -> None:
    codec = get_codec(name)
    words = bytes(range(256))
    again = codec.encode(codec.decode(words))
    # every code word decodes to a value that encodes back to itself,
    # except mu-law's negative zero (0x7F) which maps to positive zero (0xFF)
    diffs = [(a, b) for a, b in zip(words, again, strict=True) if a != b]
    assert diffs in ([], [(0x7F, 0xFF)])


def test_get_codec() -> None:
    ulaw = get_codec("ulaw")
    alaw = get_codec("alaw")
    assert (ulaw.name, ulaw.payload_type, ulaw.sample_rate) == ("ulaw", 0, 8000)
    assert (alaw.name, alaw.payload_type, alaw.sample_rate) == ("alaw", 8, 8000)
    with pytest.raises(ValueError, match="opus"):
        get_codec("opus")
