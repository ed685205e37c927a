"""The real Silero VAD on real (synthesized) speech, against silence, noise and a tone.

RHVoice speaks a Russian (Aleksandr) and an English (SLT) sentence; the audio is converted to
8 and 16 kHz and fed in 20 ms frames. Speech is judged by position (the middle of the utterance),
not by level. Noise and a steady tone are loud enough for a level detector to call them speech;
Silero must not, which is the reason it exists.
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
import time
import wave
from collections.abc import Callable

import numpy as np
import pytest

from ari_app.media.resample import resample
from ari_app.turn.vad import EnergyVad, SileroVad, default_model_path

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("RHVoice-test") is None, reason="RHVoice is not installed"),
    pytest.mark.skipif(default_model_path() is None, reason="faster-whisper is not installed"),
]

SENTENCES = {
    "ru": ("aleksandr", "Здравствуйте, я хотел бы записаться на приём к доктору в пятницу."),
    "en": ("slt", "Hello, I would like to book an appointment with the doctor on Friday."),
}
RATES = [8000, 16000]


@pytest.fixture(scope="module")
def speech_24k() -> dict[str, tuple[bytes, int]]:
    """language -> (s16le PCM, rate) straight from RHVoice."""
    out: dict[str, tuple[bytes, int]] = {}
    for lang, (voice, text) in SENTENCES.items():
        wav = subprocess.run(
            ["RHVoice-test", "-p", voice, "-o", "-"],
            input=text.encode(), capture_output=True, check=True, timeout=30,
        ).stdout
        with wave.open(io.BytesIO(wav)) as w:
            assert w.getnchannels() == 1 and w.getsampwidth() == 2
            out[lang] = (w.readframes(w.getnframes()), w.getframerate())
    return out


def speech_at(speech_24k: dict[str, tuple[bytes, int]], lang: str, rate: int) -> bytes:
    pcm, src_rate = speech_24k[lang]
    return resample(pcm, src_rate, rate)


def noise(rate: int, seconds: float, dbfs: float, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(int(rate * seconds)) * 32768 * 10 ** (dbfs / 20)


def tone(rate: int, seconds: float, dbfs: float, freq: float = 1000.0) -> np.ndarray:
    n = np.arange(int(rate * seconds))
    return 32768 * 10 ** (dbfs / 20) * math.sqrt(2) * np.sin(2 * np.pi * freq * n / rate)


def to_pcm(x: np.ndarray) -> bytes:
    return np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes()


def feed(vad: SileroVad | EnergyVad, pcm: bytes, rate: int) -> list[float]:
    """The probability after every 20 ms frame, as the call session would see it."""
    size = rate // 50 * 2
    return [vad.speech_probability(pcm[i : i + size]) for i in range(0, len(pcm) - size + 1, size)]


def middle(values: list[float]) -> np.ndarray:
    n = len(values)
    return np.asarray(values[n // 4 : 3 * n // 4])


def assert_speech(probs: list[float], what: str) -> None:
    mid = middle(probs)
    p90, p50 = np.percentile(mid, 90), np.percentile(mid, 50)
    assert p90 > 0.8, f"{what}: 90th percentile {p90:.3f} in the middle of the utterance"
    assert p50 > 0.5, f"{what}: median {p50:.3f} in the middle of the utterance"


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("lang", list(SENTENCES))
def test_speech_is_detected(speech_24k: dict[str, tuple[bytes, int]], lang: str, rate: int) -> None:
    pcm = speech_at(speech_24k, lang, rate)
    assert len(pcm) / 2 / rate > 2.0  # a real sentence, not a stub
    assert_speech(feed(SileroVad(rate), pcm, rate), f"{lang} at {rate} Hz")


@pytest.mark.parametrize("rate", RATES)
def test_speech_in_noise_is_detected(speech_24k: dict[str, tuple[bytes, int]], rate: int) -> None:
    for lang in SENTENCES:
        clean = np.frombuffer(speech_at(speech_24k, lang, rate), dtype="<i2").astype(np.float64)
        noisy = to_pcm(clean + noise(rate, len(clean) / rate, -30.0))
        assert_speech(feed(SileroVad(rate), noisy, rate), f"{lang} at {rate} Hz in -30 dBFS noise")


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize(
    ("name", "make", "energy_fires"),
    [
        ("digital silence", lambda rate: np.zeros(rate * 2), False),
        ("white noise at -30 dBFS", lambda rate: noise(rate, 2.0, -30.0), True),
        ("1 kHz tone at -20 dBFS", lambda rate: tone(rate, 2.0, -20.0), True),
    ],
)
def test_non_speech_stays_low_where_energy_fires(
    rate: int, name: str, make: Callable[[int], np.ndarray], energy_fires: bool
) -> None:
    pcm = to_pcm(make(rate))
    silero = feed(SileroVad(rate), pcm, rate)
    assert max(silero) < 0.5, f"Silero on {name} at {rate} Hz: max {max(silero):.3f}"
    energy = feed(EnergyVad(rate), pcm, rate)
    if energy_fires:  # the contrast: a level detector calls this speech all the way through
        assert min(energy) > 0.9, f"EnergyVad on {name}: min {min(energy):.3f}"
    else:
        assert max(energy) < 0.1


@pytest.mark.parametrize("rate", RATES)
def test_probability_falls_soon_after_speech_ends(
    speech_24k: dict[str, tuple[bytes, int]], rate: int
) -> None:
    """Turn ends: after the last word the probability drops below 0.5 within 300 ms."""
    pcm = speech_at(speech_24k, "en", rate)
    samples = np.frombuffer(pcm, dtype="<i2")
    loud = np.nonzero(np.abs(samples) > 300)[0]
    speech = pcm[: (int(loud[-1]) + 1) * 2]  # cut right after the last sound
    vad = SileroVad(rate)
    feed(vad, speech, rate)
    after = feed(vad, bytes(rate * 2), rate)  # one second of silence
    below = next(i for i, p in enumerate(after) if p < 0.5)
    assert below * 20 <= 300, f"still above 0.5 after {below * 20} ms of silence"


@pytest.mark.parametrize("rate", RATES)
def test_per_frame_cost(speech_24k: dict[str, tuple[bytes, int]], rate: int) -> None:
    """Cheap enough for the event loop; the figure is printed for the record (pytest -s)."""
    pcm = speech_at(speech_24k, "ru", rate)
    size = rate // 50 * 2
    chunks = [pcm[i : i + size] for i in range(0, len(pcm) - size + 1, size)]
    vad = SileroVad(rate)
    best = math.inf
    for _ in range(3):
        vad.reset()
        start = time.perf_counter()
        for chunk in chunks:
            vad.speech_probability(chunk)
        best = min(best, (time.perf_counter() - start) / len(chunks))
    print(f"Silero VAD at {rate} Hz: {best * 1e6:.0f} us per 20 ms frame")
    assert best < 0.002  # a tenth of the frame, with ample room for a loaded machine
