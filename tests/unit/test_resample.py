import numpy as np
import pytest

from ari_app.media.resample import Resampler, resample


def sine(freq: float, rate: int, seconds: float, amp: float = 10000) -> bytes:
    n = np.arange(int(rate * seconds))
    return (amp * np.sin(2 * np.pi * freq * n / rate)).astype("<i2").tobytes()


def dominant_freq(pcm: bytes, rate: int) -> float:
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    x = x * np.hanning(len(x))
    spectrum = np.abs(np.fft.rfft(x))
    return float(np.argmax(spectrum) * rate / len(x))


@pytest.mark.parametrize(
    ("in_rate", "out_rate"),
    [(8000, 16000), (16000, 8000), (22050, 16000), (24000, 16000), (16000, 24000), (22050, 8000)],
)
def test_one_shot_length_and_frequency(in_rate: int, out_rate: int) -> None:
    src = sine(440, in_rate, 1.0)
    out = resample(src, in_rate, out_rate)
    assert abs(len(out) // 2 - out_rate) <= 2
    assert dominant_freq(out, out_rate) == pytest.approx(440, abs=3)


@pytest.mark.parametrize(("in_rate", "out_rate"), [(8000, 16000), (22050, 16000), (24000, 8000)])
def test_streaming_matches_one_shot(in_rate: int, out_rate: int) -> None:
    src = sine(1000, in_rate, 1.0)
    r = Resampler(in_rate, out_rate)
    chunks = []
    # odd chunk sizes, including ones that split a sample
    pos, step = 0, 333
    while pos < len(src):
        chunks.append(r.process(src[pos : pos + step]))
        pos += step
        step = 333 if step == 641 else 641
    chunks.append(r.flush())
    streamed = b"".join(chunks)
    one_shot = resample(src, in_rate, out_rate)
    assert abs(len(streamed) - len(one_shot)) <= 8
    assert dominant_freq(streamed, out_rate) == pytest.approx(1000, abs=3)
    a = np.frombuffer(streamed, dtype="<i2").astype(np.float64)
    b = np.frombuffer(one_shot, dtype="<i2").astype(np.float64)
    n = min(len(a), len(b))
    mid = slice(n // 10, n - n // 10)  # skip the filter edges
    assert np.max(np.abs(a[mid] - b[mid])) < 200


def test_resampler_reusable_after_flush() -> None:
    r = Resampler(8000, 16000)
    first = r.process(sine(440, 8000, 0.5)) + r.flush()
    second = r.process(sine(440, 8000, 0.5)) + r.flush()
    assert abs(len(first) - len(second)) <= 4
    assert abs(len(first) // 2 - 8000) <= 2


def test_passthrough() -> None:
    r = Resampler(16000, 16000)
    assert r.passthrough
    data = sine(440, 16000, 0.1)
    assert r.process(data[:101]) + r.process(data[101:]) + r.flush() == data
    assert resample(data, 16000, 16000) == data


def test_empty_input() -> None:
    assert resample(b"", 8000, 16000) == b""
    r = Resampler(8000, 16000)
    assert r.process(b"") == b""
    assert r.process(b"\x01") == b""  # half a sample waits for the rest


def test_bad_rate() -> None:
    with pytest.raises(ValueError):
        Resampler(0, 16000)
