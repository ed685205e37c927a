"""Whole 16-bit samples out of bytes that may end mid-sample (ari_app/media/pcm.py)."""

from __future__ import annotations

from ari_app.media.pcm import SampleCarry, int16_samples, whole_samples


def test_a_trailing_odd_byte_is_left_out() -> None:
    assert whole_samples(b"abc") == b"ab"
    assert whole_samples(b"") == whole_samples(b"a") == b""
    assert int16_samples(b"\x01\x00\xff\xff\x07").tolist() == [1, -1]
    assert int16_samples(b"").size == 0


def test_a_carry_keeps_an_odd_byte_for_the_next_chunk() -> None:
    carry = SampleCarry()
    assert carry.take(b"abc") == b"ab"
    assert carry.take(b"d") == b"cd"
    assert carry.take(b"e") == b""
    carry.reset()
    assert carry.take(b"fg") == b"fg"
