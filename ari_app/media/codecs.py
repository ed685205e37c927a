"""G.711 mu-law and A-law (ITU-T G.711) between s16le PCM and 8-bit code words.

The conversion itself is the stdlib ``audioop`` module (Python 3.11/3.12, deprecated there);
on Python >= 3.13 the ``audioop-lts`` package provides a module of the same name.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

from ari_app.media.pcm import whole_samples

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import audioop
    except ImportError as exc:  # pragma: no cover - only on Python >= 3.13 without audioop-lts
        raise ImportError(
            "the 'audioop' module is missing: on Python >= 3.13 install the 'audioop-lts' package"
        ) from exc

_SAMPLE_WIDTH = 2  # s16le


def ulaw_encode(pcm: bytes) -> bytes:
    """s16le PCM -> mu-law, one byte per sample."""
    return audioop.lin2ulaw(whole_samples(pcm), _SAMPLE_WIDTH)


def ulaw_decode(data: bytes) -> bytes:
    """mu-law -> s16le PCM, two bytes per sample."""
    return audioop.ulaw2lin(data, _SAMPLE_WIDTH)


def alaw_encode(pcm: bytes) -> bytes:
    """s16le PCM -> A-law, one byte per sample."""
    return audioop.lin2alaw(whole_samples(pcm), _SAMPLE_WIDTH)


def alaw_decode(data: bytes) -> bytes:
    """A-law -> s16le PCM, two bytes per sample."""
    return audioop.alaw2lin(data, _SAMPLE_WIDTH)


@dataclass(frozen=True)
class Codec:
    """A narrowband RTP codec: static payload type, clock rate and PCM converters."""

    name: str
    payload_type: int
    sample_rate: int
    encode: Callable[[bytes], bytes]
    decode: Callable[[bytes], bytes]


_CODECS: dict[str, Codec] = {
    "ulaw": Codec("ulaw", 0, 8000, ulaw_encode, ulaw_decode),
    "alaw": Codec("alaw", 8, 8000, alaw_encode, alaw_decode),
}


def get_codec(name: str) -> Codec:
    """The codec named ``ulaw`` (PT 0) or ``alaw`` (PT 8); ValueError for any other name."""
    try:
        return _CODECS[name]
    except KeyError:
        raise ValueError(
            f"unsupported codec {name!r}: expected one of {', '.join(sorted(_CODECS))}"
        ) from None
