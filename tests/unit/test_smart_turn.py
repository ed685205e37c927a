"""Smart Turn v3.2 on the real model (models/smart-turn, put there by scripts/setup-models).

The input window and its features are checked on synthetic audio; whether the model tells a
finished sentence from one cut off mid-word is checked on human announcers' recordings
(testkit.human_speech), by the mean probability of each group, never by one clip's value.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np
import pytest
from human_clips import recorded_clips

from ari_app.errors import EngineUnavailable
from ari_app.turn.smart_turn import (
    MODEL_RATE,
    N_FRAMES,
    N_MELS,
    WINDOW_SAMPLES,
    SmartTurn,
    TurnEndGuess,
    default_model_path,
    window_16k,
)
from testkit import human_speech

REPO = Path(__file__).resolve().parents[2]
MODEL = default_model_path(REPO / "models")

needs_model = pytest.mark.skipif(
    not MODEL.is_file(), reason=f"{MODEL} is missing: run .venv/bin/python scripts/setup-models"
)


def voice_like(rate: int, seconds: float, seed: int = 0) -> bytes:
    """A buzzy 140 Hz harmonic tone with syllable-rate loudness changes and a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    f0 = 140 + 20 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    x = sum(np.sin(k * phase) / k for k in range(1, 12))
    x = x * (0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)) + 0.02 * rng.standard_normal(len(t))
    x = 8000 * x / np.max(np.abs(x))
    return x.astype("<i2").tobytes()


@pytest.fixture(scope="module")
def smart_turn() -> SmartTurn:
    return SmartTurn(MODEL)


def test_default_model_path() -> None:
    assert default_model_path(Path("models")) == Path("models/smart-turn/smart-turn-v3.2-cpu.onnx")


def test_missing_model_names_the_path_and_the_fix(tmp_path: Path) -> None:
    path = default_model_path(tmp_path)
    with pytest.raises(EngineUnavailable, match="scripts/setup-models") as info:
        SmartTurn(path)
    assert str(path) in str(info.value)


def test_window_pads_a_short_turn_at_the_start() -> None:
    one_s = voice_like(MODEL_RATE, 1.0)
    window = window_16k(one_s, MODEL_RATE)
    assert window.shape == (WINDOW_SAMPLES,) and window.dtype == np.float32
    assert not window[: WINDOW_SAMPLES - MODEL_RATE].any()
    expected = np.frombuffer(one_s, dtype="<i2").astype(np.float32) / 32768.0
    np.testing.assert_array_equal(window[-MODEL_RATE:], expected)


def test_window_keeps_the_last_8_seconds() -> None:
    twelve_s = voice_like(MODEL_RATE, 12.0)
    window = window_16k(twelve_s, MODEL_RATE)
    expected = np.frombuffer(twelve_s, dtype="<i2")[-WINDOW_SAMPLES:].astype(np.float32)
    np.testing.assert_array_equal(window, expected / 32768.0)


def test_window_resamples_8k_phone_audio() -> None:
    one_s = window_16k(voice_like(8000, 1.0), 8000)
    assert one_s.shape == (WINDOW_SAMPLES,)
    assert not one_s[: WINDOW_SAMPLES - MODEL_RATE - 50].any()
    assert np.abs(one_s[-MODEL_RATE:]).max() > 0.1
    twelve_s = window_16k(voice_like(8000, 12.0), 8000)
    assert twelve_s.shape == (WINDOW_SAMPLES,)
    assert np.abs(twelve_s[:1600]).max() > 0.1  # no padding: the window is all speech
    assert window_16k(b"", 8000).shape == (WINDOW_SAMPLES,)
    with pytest.raises(ValueError):
        window_16k(b"\0\0", 0)


@needs_model
@pytest.mark.parametrize("rate", [8000, 16000])
def test_features_of_1s_and_12s(smart_turn: SmartTurn, rate: int) -> None:
    short = smart_turn.features(voice_like(rate, 1.0), rate)
    long = smart_turn.features(voice_like(rate, 12.0), rate)
    for f in (short, long):
        assert f.shape == (1, N_MELS, N_FRAMES) and f.dtype == np.float32
        # Whisper's scaling: log10 clipped to 8 below the peak, then (x + 4) / 4
        assert f.max() - f.min() <= 2.0 + 1e-5
    # 1 s of audio is the last 100 frames; the 700 before it are the zero padding, all alike
    padded = short[0, :, : N_FRAMES - 100 - 3]
    np.testing.assert_allclose(padded, np.repeat(short[0, :, :1], padded.shape[1], axis=1))
    assert not np.allclose(short[0, :, -50:], short[0, :, :1])
    # 12 s: no padding, and only the last 8 s count
    assert not np.allclose(long[0, :, :50], long[0, :, :1])
    if rate == MODEL_RATE:
        twelve_s = voice_like(rate, 12.0)
        last_8s = twelve_s[-2 * WINDOW_SAMPLES :]
        np.testing.assert_array_equal(long, smart_turn.features(last_8s, rate))


@needs_model
@pytest.mark.parametrize("rate", [8000, 16000])
def test_predict_gives_a_probability(smart_turn: SmartTurn, rate: int) -> None:
    times = []
    for pcm in (voice_like(rate, 1.5), voice_like(rate, 12.0, seed=1), b""):
        guess = smart_turn.predict(pcm, rate)
        assert isinstance(guess, TurnEndGuess)
        assert 0.0 <= guess.probability <= 1.0
        assert guess.complete == (guess.probability > 0.5)
        assert guess.elapsed_s > 0
        times.append(guess.elapsed_s)
    with pytest.raises(AttributeError):
        guess.probability = 0.0  # type: ignore[misc]
    print(f"\nSmart Turn at {rate} Hz: {statistics.median(times) * 1000:.0f} ms per call")


# --- human speech -------------------------------------------------------------------------

TAIL_S = 0.2  # the silence after the last word that the listener has heard when it asks


def _cut_mid_word(pcm: bytes, rate: int, start: int, end: int) -> bytes:
    """The audio up to the loudest 20 ms between 40 % and 75 % of the speech span
    [start, end) (samples): the middle of a vowel, so the middle of a word."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    step = rate // 50
    lo = start + int(0.40 * (end - start)) // step * step
    hi = start + int(0.75 * (end - start)) // step * step
    n = max(1, (hi - lo) // step)
    frames = x[lo : lo + n * step].reshape(n, step)
    at = lo + int(np.argmax((frames**2).mean(axis=1))) * step + step // 2
    return pcm[: 2 * at]


def _human_turn_ends(outdir: Path) -> dict[str, list[tuple[str, bytes, int]]]:
    """Finished and unfinished turns from the human announcers' clips of testkit.human_speech
    whose last part is a sentence (at least 1 s of speech): "complete" is the clip up to its
    last word plus 0.2 s, "cut" the same clip cut in the middle of a word of that sentence.
    Each item: (language, pcm, rate). (The pauses the clips label incomplete are left out:
    they are most of the set, and a finished sentence before a pause sounds complete.)"""
    clips = recorded_clips(outdir)
    rate = human_speech.SAMPLE_RATE
    groups: dict[str, list[tuple[str, bytes, int]]] = {"complete": [], "cut": []}
    for clip in clips.values():
        last = clip.parts[-1]
        if not clip.human or last.end != "complete" or last.end_sample - last.start_sample < rate:
            continue
        pcm = clip.pcm()
        stop = min(last.end_sample + int(TAIL_S * rate), clip.samples)
        groups["complete"].append((clip.language, pcm[: 2 * stop], rate))
        cut = _cut_mid_word(pcm, rate, last.start_sample, last.end_sample)
        groups["cut"].append((clip.language, cut, rate))
    if len(groups["complete"]) < 4:
        pytest.skip(f"only {len(groups['complete'])} human clips end in a sentence of 1 s or more")
    return groups


@needs_model
def test_human_speech_complete_turns_score_higher_than_cut_ones(
    smart_turn: SmartTurn, tmp_path: Path
) -> None:
    groups = _human_turn_ends(tmp_path)
    guesses = {
        name: [(lang, smart_turn.predict(pcm, rate)) for lang, pcm, rate in items]
        for name, items in groups.items()
    }
    lines = []
    for lang in sorted({lang for items in groups.values() for lang, _, _ in items}):
        figures = []
        for name, items in guesses.items():
            ps = [g.probability for la, g in items if la == lang]
            if ps:
                called = (
                    sum(p > 0.5 for p in ps) if name == "complete" else sum(p <= 0.5 for p in ps)
                )
                figures.append(
                    f"{name} {len(ps)}: mean p {statistics.fmean(ps):.2f}, {called}/{len(ps)} right"
                )
        lines.append(f"  {lang}: " + "; ".join(figures))
    every = [g for items in guesses.values() for _, g in items]
    ms = statistics.median(g.elapsed_s for g in every) * 1000
    print(
        "\nSmart Turn on human speech (right = called as labelled at 0.5):\n"
        + "\n".join(lines)
        + f"\n  {ms:.0f} ms per call (median of {len(every)})"
    )
    p_complete = statistics.fmean(g.probability for _, g in guesses["complete"])
    p_cut = statistics.fmean(g.probability for _, g in guesses["cut"])
    assert p_complete > p_cut
