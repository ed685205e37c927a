"""Voice-activity detectors: the energy detector on synthetic frames, Silero's buffering."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from ari_app.errors import EngineUnavailable
from ari_app.media.loudness import SILENCE_DBFS, frame_dbfs
from ari_app.turn.vad import (
    EnergyVad,
    SileroVad,
    VoiceActivityDetector,
    build_vad,
    default_model_path,
)

needs_silero = pytest.mark.skipif(
    default_model_path() is None, reason="faster-whisper's Silero model is not installed"
)


def tone(rate: int, seconds: float, dbfs: float, freq: float = 1000.0) -> bytes:
    """A sine whose RMS level is ``dbfs`` (full-scale square wave = 0 dBFS)."""
    n = np.arange(int(rate * seconds))
    amp = 32768 * 10 ** (dbfs / 20) * math.sqrt(2)
    return (amp * np.sin(2 * np.pi * freq * n / rate)).astype("<i2").tobytes()


def noise(rate: int, seconds: float, dbfs: float, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(int(rate * seconds)) * 32768 * 10 ** (dbfs / 20)
    return np.clip(x, -32768, 32767).astype("<i2").tobytes()


def frames(pcm: bytes, rate: int, ms: int = 20) -> list[bytes]:
    size = rate * ms // 1000 * 2
    return [pcm[i : i + size] for i in range(0, len(pcm), size)]


def test_frame_dbfs_of_known_signals() -> None:
    assert frame_dbfs(bytes(320)) == SILENCE_DBFS
    assert frame_dbfs(b"") == frame_dbfs(b"\x01") == SILENCE_DBFS
    assert frame_dbfs(bytes(320), floor=-math.inf) == -math.inf  # the energy VAD's floor
    assert frame_dbfs(tone(8000, 0.1, -20.0)) == pytest.approx(-20.0, abs=0.1)
    assert frame_dbfs(noise(8000, 0.5, -30.0)) == pytest.approx(-30.0, abs=0.3)


@pytest.mark.parametrize(
    ("dbfs", "low", "high"),
    [(-80.0, 0.0, 0.01), (-55.0, 0.0, 0.05), (-45.0, 0.45, 0.55), (-35.0, 0.95, 1.0),
     (-10.0, 0.99, 1.0)],
)
def test_energy_vad_maps_level_around_the_threshold(dbfs: float, low: float, high: float) -> None:
    vad = EnergyVad(8000)
    p = vad.speech_probability(tone(8000, 0.02, dbfs))
    assert low <= p <= high


def test_energy_vad_silence_empty_frames_threshold_and_reset() -> None:
    vad = EnergyVad(16000, threshold_dbfs=-30.0)
    assert vad.speech_probability(bytes(640)) == 0.0
    loud = vad.speech_probability(tone(16000, 0.02, -20.0))
    assert loud > 0.9
    assert vad.speech_probability(b"") == loud  # nothing new: the last value stands
    assert vad.speech_probability(tone(16000, 0.02, -40.0)) < 0.1  # below a -30 dBFS threshold
    vad.speech_probability(tone(16000, 0.02, -20.0))
    vad.reset()
    assert vad.speech_probability(b"") == 0.0


def test_energy_vad_fires_on_noise_and_tone() -> None:
    """What a level detector cannot tell from speech (tests/integration/test_vad_speech.py)."""
    vad = EnergyVad(8000)
    assert min(vad.speech_probability(f) for f in frames(noise(8000, 0.2, -30.0), 8000)) > 0.9
    assert min(vad.speech_probability(f) for f in frames(tone(8000, 0.2, -20.0), 8000)) > 0.9


def test_energy_vad_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="sample rate"):
        EnergyVad(0)
    with pytest.raises(ValueError, match="slope"):
        EnergyVad(8000, slope_db=0)


def test_build_vad_energy_and_unknown_engine() -> None:
    vad = build_vad("energy", 16000)
    assert isinstance(vad, EnergyVad) and vad.sample_rate == 16000
    assert isinstance(vad, VoiceActivityDetector)
    with pytest.raises(ValueError, match="'webrtc'"):
        build_vad("webrtc", 8000)
    with pytest.raises(ValueError, match="silero"):
        build_vad("", 8000)


def test_missing_model_names_faster_whisper(tmp_path: Path) -> None:
    missing = tmp_path / "nope.onnx"
    with pytest.raises(EngineUnavailable, match="faster-whisper") as info:
        SileroVad(8000, model_path=missing)
    assert str(missing) in str(info.value)


def test_not_a_model_is_engine_unavailable(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.onnx"
    bogus.write_bytes(b"not an onnx model")
    with pytest.raises(EngineUnavailable, match="faster-whisper"):
        SileroVad(16000, model_path=bogus)


def test_upsampler_passes_the_phone_band_without_images() -> None:
    from ari_app.turn.vad import _Upsampler2x

    for freq in (300.0, 1000.0, 3000.0, 3400.0):
        x = np.frombuffer(tone(8000, 1.0, -20.0, freq), dtype="<i2").astype(np.float32) / 32768
        up = _Upsampler2x()
        y = np.concatenate([up.process(x[i : i + 160]) for i in range(0, len(x), 160)])
        assert len(y) == 2 * len(x)
        steady = y[2000:-2000]
        assert np.std(steady) / np.std(x[1000:-1000]) == pytest.approx(1.0, abs=0.01)
        spectrum = np.abs(np.fft.rfft(steady * np.hanning(len(steady))))
        bins = np.fft.rfftfreq(len(steady), 1 / 16000)
        wanted = spectrum[np.argmin(np.abs(bins - freq))]
        image = spectrum[np.argmin(np.abs(bins - (8000 - freq)))]
        assert 20 * np.log10(image / wanted) < -60


# --- Silero: buffering and state (the model itself, on synthetic audio) ---------------------


def mixed_signal(rate: int) -> bytes:
    """Silence, noise bursts and a tone: enough variation to move the model's state."""
    return (
        bytes(rate // 5 * 2)
        + noise(rate, 0.3, -25.0, seed=1)
        + tone(rate, 0.3, -20.0, freq=440.0)
        + noise(rate, 0.25, -40.0, seed=2)
        + bytes(rate // 10 * 2)
    )


@needs_silero
def test_build_vad_silero() -> None:
    vad = build_vad("silero", 8000)
    assert isinstance(vad, SileroVad) and vad.sample_rate == 8000
    assert isinstance(vad, VoiceActivityDetector)


@needs_silero
@pytest.mark.parametrize("rate", [8000, 16000])
def test_frames_and_one_chunk_give_the_same_window_probabilities(rate: int) -> None:
    pcm = mixed_signal(rate)
    by_frame = SileroVad(rate)
    framed = [p for f in frames(pcm, rate) for p in by_frame.process(f)]
    whole = SileroVad(rate).process(pcm)
    odd = SileroVad(rate)
    odd_sized = [p for i in range(0, len(pcm), 333) for p in odd.process(pcm[i : i + 333])]
    # one window per 512 samples at 16 kHz: the 8 kHz upsampler holds nothing back
    assert len(whole) == len(pcm) // 2 * 16000 // rate // 512
    assert len(framed) == len(whole) == len(odd_sized)
    np.testing.assert_allclose(framed, whole, atol=1e-4)
    np.testing.assert_allclose(odd_sized, whole, atol=1e-4)
    assert all(0.0 <= p <= 1.0 for p in whole)


@needs_silero
def test_speech_probability_is_the_latest_window() -> None:
    vad = SileroVad(16000)
    assert vad.speech_probability(bytes(320 * 2)) == 0.0  # 320 samples: no window yet
    assert vad.windows == 0
    p = vad.speech_probability(bytes(320 * 2))  # 640 samples: one window
    assert vad.windows == 1
    assert 0.0 <= p < 0.5
    assert vad.speech_probability(b"") == p


@needs_silero
@pytest.mark.parametrize("rate", [8000, 16000])
def test_reset_makes_results_repeatable(rate: int) -> None:
    pcm = mixed_signal(rate)
    vad = SileroVad(rate)
    first = [vad.speech_probability(f) for f in frames(pcm, rate)]
    vad.reset()
    assert vad.windows == 0
    second = [vad.speech_probability(f) for f in frames(pcm, rate)]
    np.testing.assert_allclose(first, second, atol=1e-6)
    fresh = SileroVad(rate)  # and a new detector agrees with a reset one
    np.testing.assert_allclose([fresh.speech_probability(f) for f in frames(pcm, rate)], first,
                               atol=1e-6)


@needs_silero
def test_calls_share_one_session_and_keep_their_own_state() -> None:
    """Two calls' detectors, interleaved frame by frame on one shared ONNX session, give what
    each gives alone: the stream state is theirs, not the session's."""
    speech, quiet = mixed_signal(8000), noise(8000, 2.0, -50.0, seed=3)
    one, two = SileroVad(8000), SileroVad(8000)
    assert one._session is two._session
    lone_one, lone_two = SileroVad(8000), SileroVad(8000)
    alone_one = [lone_one.speech_probability(f) for f in frames(speech, 8000)]
    alone_two = [lone_two.speech_probability(f) for f in frames(quiet, 8000)]
    mixed_one, mixed_two = [], []
    for a, b in zip(frames(speech, 8000), frames(quiet, 8000), strict=False):
        mixed_one.append(one.speech_probability(a))
        mixed_two.append(two.speech_probability(b))
    n = len(mixed_one)
    np.testing.assert_allclose(mixed_one, alone_one[:n], atol=1e-6)
    np.testing.assert_allclose(mixed_two, alone_two[:n], atol=1e-6)
    assert not np.allclose(mixed_one, mixed_two, atol=1e-3)  # the two streams do differ


@needs_silero
def test_silero_rejects_bad_parameters() -> None:
    for rate in (0, 11025, 44100):
        with pytest.raises(ValueError, match="8000 or 16000"):
            SileroVad(rate)
    with pytest.raises(ValueError, match="threads"):
        SileroVad(8000, threads=0)
