"""The voice manager: real WAV files written here, checked, stored and listed."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from ari_app.tts.voices import NOT_PCM16, add_voice, list_voices, main, validate_clip

RNG_SEED = 7


def speech_like(seconds: float, rate: int = 24000, level_dbfs: float = -20.0) -> np.ndarray:
    """Noise shaped by a 4 Hz syllable envelope plus a voiced sweep, at about `level_dbfs` RMS."""
    rng = np.random.default_rng(RNG_SEED)
    t = np.arange(int(seconds * rate)) / rate
    envelope = 0.35 + 0.65 * np.abs(np.sin(2 * np.pi * 2.0 * t))
    f0 = 120 + 40 * np.sin(2 * np.pi * 0.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voiced = np.sin(phase) + 0.5 * np.sin(2 * phase)
    signal = envelope * (voiced + 0.3 * rng.standard_normal(len(t)))
    rms = np.sqrt(np.mean(signal**2))
    return signal / rms * 10 ** (level_dbfs / 20)


def write_wav(path: Path, signal: np.ndarray, rate: int = 24000, channels: int = 1) -> Path:
    """Write float samples in [-1, 1] (shape (n,) or (n, channels)) as 16-bit PCM."""
    pcm = np.clip(np.rint(signal * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())
    return path


def write_float_wav(path: Path, signal: np.ndarray, rate: int = 24000) -> Path:
    """IEEE float WAV (format 3), 32-bit, as sox/Audacity write it."""
    data = signal.astype("<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


@pytest.fixture
def good(tmp_path: Path) -> list[Path]:
    return [
        write_wav(tmp_path / "a.wav", speech_like(4.0)),
        write_wav(tmp_path / "b.wav", speech_like(5.0, rate=22050, level_dbfs=-18), rate=22050),
    ]


def test_good_clip_measured(good: list[Path]) -> None:
    report = validate_clip(good[0])
    assert report.ok, report.problems
    assert report.problems == []
    assert report.sample_rate == 24000 and report.channels == 1
    assert report.duration_s == pytest.approx(4.0, abs=0.01)
    assert report.rms_dbfs == pytest.approx(-20.0, abs=0.5)
    assert report.peak_dbfs < 0
    assert report.clipped_fraction == 0.0
    assert report.silence_fraction < 0.1


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: write_wav(p, speech_like(5, 8000), 8000), ["8000 Hz", "below 16000 Hz"]),
        (lambda p: write_wav(p, speech_like(2.0)), ["too short", "2.0 s", "at least 3 s"]),
        (lambda p: write_wav(p, speech_like(31.0)), ["too long", "31.0 s", "at most 30 s"]),
        (
            lambda p: write_wav(p, speech_like(5, level_dbfs=-50)),
            ["too quiet", "-50.0 dBFS", "below -35 dBFS"],
        ),
        (
            lambda p: write_wav(p, np.clip(speech_like(5, level_dbfs=-3) * 4, -1, 1)),
            ["clipped", "more than 0.1%"],
        ),
    ],
    ids=["8khz", "2s", "31s", "quiet", "clipped"],
)
def test_bad_clip_rejected(tmp_path: Path, make, expected: list[str]) -> None:
    path = make(tmp_path / "bad.wav")
    report = validate_clip(path)
    assert not report.ok
    assert len(report.problems) == 1, report.problems
    for words in expected:
        assert words in report.problems[0]


def test_mostly_silence_rejected(tmp_path: Path) -> None:
    signal = speech_like(10.0)
    signal[: int(0.8 * len(signal))] = 0.0
    signal[: int(0.8 * len(signal))] += 1e-5  # -100 dBFS hiss, not digital zero
    report = validate_clip(write_wav(tmp_path / "quiet_start.wav", signal))
    assert not report.ok
    assert report.silence_fraction == pytest.approx(0.8, abs=0.01)
    assert any("mostly silence: 80%" in p and "more than 50%" in p for p in report.problems)


def test_float_and_text_files_are_not_pcm16(tmp_path: Path) -> None:
    floats = write_float_wav(tmp_path / "float.wav", speech_like(5.0))
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n")
    for path in (floats, text):
        report = validate_clip(path)
        assert not report.ok
        assert report.problems == [NOT_PCM16]
        assert "sox in.xxx -b 16 out.wav" in report.problems[0]


def test_stereo_accepted_and_noted(tmp_path: Path) -> None:
    mono = speech_like(5.0)
    stereo = np.stack([mono, mono * 0.5], axis=1)
    report = validate_clip(write_wav(tmp_path / "st.wav", stereo, channels=2))
    assert report.ok, report.problems
    assert report.channels == 2
    assert any("mixed down to mono" in n for n in report.notes)


def test_missing_file(tmp_path: Path) -> None:
    report = validate_clip(tmp_path / "nope.wav")
    assert not report.ok and "file not found" in report.problems[0]


def test_add_voice_writes_clips_and_json(tmp_path: Path, good: list[Path]) -> None:
    voices = tmp_path / "voices"
    report = add_voice("reception-ru", good, voices)
    assert report.ok, report.problems
    folder = voices / "reception-ru"
    assert report.voice_dir == folder
    meta = json.loads((folder / "voice.json").read_text())
    assert meta["name"] == "reception-ru"
    assert meta["created"]
    assert [c["file"] for c in meta["clips"]] == ["clip-01.wav", "clip-02.wav"]
    assert meta["total_duration_s"] == pytest.approx(9.0, abs=0.01)
    for clip in meta["clips"]:
        path = folder / clip["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == clip["sha256"]
        with wave.open(str(path)) as wav:
            assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
            assert wav.getframerate() == clip["sample_rate"]
    assert [c["sample_rate"] for c in meta["clips"]] == [24000, 22050]
    assert sorted(p.name for p in voices.iterdir()) == ["reception-ru"]  # no staging left
    listed = list_voices(voices)
    assert [v["name"] for v in listed] == ["reception-ru"]
    assert len(listed[0]["clips"]) == 2


def test_stereo_clip_stored_as_mono(tmp_path: Path) -> None:
    mono = speech_like(7.0)
    src = write_wav(tmp_path / "st.wav", np.stack([mono, mono], axis=1), channels=2)
    report = add_voice("stereo", [src], tmp_path / "v")
    assert report.ok, report.problems
    with wave.open(str(tmp_path / "v" / "stereo" / "clip-01.wav")) as wav:
        assert wav.getnchannels() == 1
        assert wav.getnframes() == len(mono)


def test_add_voice_refuses_bad_clip_and_writes_nothing(tmp_path: Path, good: list[Path]) -> None:
    bad = write_wav(tmp_path / "phone.wav", speech_like(5, 8000), 8000)
    voices = tmp_path / "voices"
    report = add_voice("office", [*good, bad], voices)
    assert not report.ok
    assert "phone.wav" in report.problems[0] and "8000 Hz" in report.problems[0]
    assert not (voices / "office").exists()


def test_add_voice_refuses_too_little_audio(tmp_path: Path) -> None:
    clip = write_wav(tmp_path / "a.wav", speech_like(4.0))
    report = add_voice("short", [clip], tmp_path / "voices")
    assert not report.ok
    assert "4.0 s of good audio" in report.problems[0] and "at least 6 s" in report.problems[0]
    assert not (tmp_path / "voices" / "short").exists()


def test_add_voice_refuses_same_clip_twice(tmp_path: Path, good: list[Path]) -> None:
    report = add_voice("twice", [good[0], good[0]], tmp_path / "voices")
    assert not report.ok
    assert "same audio" in report.problems[0]
    assert not (tmp_path / "voices" / "twice").exists()


@pytest.mark.parametrize("name", ["", "Office", "-x", "a b", "a/b", "..", "x" * 41, "офис"])
def test_bad_name_rejected(tmp_path: Path, good: list[Path], name: str) -> None:
    report = add_voice(name, good, tmp_path / "voices")
    assert not report.ok
    assert "invalid voice name" in report.problems[0]
    assert not (tmp_path / "voices").exists()


def test_existing_voice_needs_replace(tmp_path: Path, good: list[Path]) -> None:
    voices = tmp_path / "voices"
    assert add_voice("office", good, voices).ok
    before = (voices / "office" / "voice.json").read_text()
    refused = add_voice("office", good[:1] + good[1:], voices)
    assert not refused.ok
    assert "already exists" in refused.problems[0] and "--replace" in refused.problems[0]
    assert (voices / "office" / "voice.json").read_text() == before
    third = write_wav(tmp_path / "c.wav", speech_like(6.5, level_dbfs=-22))
    replaced = add_voice("office", [third], voices, replace=True)
    assert replaced.ok, replaced.problems
    meta = json.loads((voices / "office" / "voice.json").read_text())
    assert [c["source"] for c in meta["clips"]] == ["c.wav"]
    assert sorted(p.name for p in (voices / "office").iterdir()) == ["clip-01.wav", "voice.json"]
    assert sorted(p.name for p in voices.iterdir()) == ["office"]


def test_main_exit_codes(tmp_path: Path, good: list[Path], capsys) -> None:
    voices = str(tmp_path / "voices")
    out = io.StringIO()
    assert main(["add", "office", *map(str, good), "--voices-dir", voices], out=out) == 0
    text = out.getvalue()
    assert "a.wav" in text and "b.wav" in text and "added" in text

    bad = write_wav(tmp_path / "quiet.wav", speech_like(5, level_dbfs=-50))
    out = io.StringIO()
    assert main(["add", "other", str(bad), str(good[0]), "--voices-dir", voices], out=out) == 1
    text = out.getvalue()
    assert "FAIL" in text and "too quiet" in text and "NOT added" in text

    out = io.StringIO()
    assert main(["add", "office", *map(str, good), "--voices-dir", voices], out=out) == 1
    assert "--replace" in out.getvalue()
    assert main(["add", "office", *map(str, good), "--voices-dir", voices, "--replace"]) == 0

    assert main([]) == 2
    assert main(["add", "office"]) == 2  # no files
    assert main(["frobnicate"]) == 2
    assert main(["add", "Bad Name", str(good[0]), "--voices-dir", voices]) == 2
    assert "invalid voice name" in capsys.readouterr().err

    out = io.StringIO()
    assert main(["list", "--voices-dir", voices], out=out) == 0
    assert out.getvalue().startswith("office: 2 clips, 9.0 s")
