"""CallRecorder: two aligned WAV tracks on one timeline."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from ari_app.call.recorder import CallRecorder

RATE = 8000


def tone(n: int, value: int) -> bytes:
    return np.full(n, value, dtype="<i2").tobytes()


def read(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def test_sides_are_aligned(tmp_path: Path) -> None:
    rec = CallRecorder(tmp_path / "rec", "call-1", RATE, origin=0.0)
    frame = RATE // 50  # 20 ms
    # secretary speaks for 0.5 s from t=0, the caller answers at t=1.0 for 0.2 s
    for i in range(25):
        rec.secretary(tone(frame, 1000), i * 0.02)
    for i in range(10):
        rec.caller(tone(frame, -2000), 1.0 + i * 0.02)
    caller_path, secretary_path = rec.close()
    assert caller_path == tmp_path / "rec" / "call-1-caller.wav"
    assert secretary_path == tmp_path / "rec" / "call-1-secretary.wav"

    caller, secretary = read(caller_path), read(secretary_path)
    assert len(caller) == len(secretary) == int(1.2 * RATE)
    start = int(1.0 * RATE)
    assert not caller[:start].any()
    assert caller[start] == -2000 and (caller[start:] == -2000).all()
    assert (secretary[: RATE // 2] == 1000).all() and not secretary[RATE // 2 :].any()


def test_origin_defaults_to_first_chunk(tmp_path: Path) -> None:
    rec = CallRecorder(tmp_path, "c2", RATE)
    rec.secretary(tone(160, 5), 1000.0)
    rec.caller(tone(160, 7), 1001.5)
    caller_path, secretary_path = rec.close()
    caller, secretary = read(caller_path), read(secretary_path)
    assert len(caller) == len(secretary) == int(1.5 * RATE) + 160
    assert caller[int(1.5 * RATE)] == 7 and not caller[: int(1.5 * RATE)].any()
    assert secretary[0] == 5


def test_jitter_does_not_insert_gaps_or_lose_audio(tmp_path: Path) -> None:
    rec = CallRecorder(tmp_path, "c3", RATE, origin=0.0)
    # frames arriving a little late or early: all audio kept, contiguous
    for i, jitter in enumerate([0.0, 0.004, -0.003, 0.002, 0.0]):
        rec.caller(tone(160, i + 1), i * 0.02 + jitter)
    caller_path, _ = rec.close()
    caller = read(caller_path)
    assert len(caller) == 5 * 160
    assert [int(caller[i * 160]) for i in range(5)] == [1, 2, 3, 4, 5]


def test_close_is_idempotent_and_late_frames_dropped(tmp_path: Path) -> None:
    rec = CallRecorder(tmp_path, "c4", RATE, origin=0.0)
    rec.caller(tone(160, 1), 0.0)
    paths = rec.close()
    rec.caller(tone(160, 1), 0.02)  # after close: ignored
    assert rec.close() == paths
    assert len(read(paths[0])) == len(read(paths[1])) == 160


def test_empty_recording(tmp_path: Path) -> None:
    caller_path, secretary_path = CallRecorder(tmp_path, "c5", RATE).close()
    assert len(read(caller_path)) == len(read(secretary_path)) == 0


def test_bad_input(tmp_path: Path) -> None:
    rec = CallRecorder(tmp_path, "c6", RATE)
    with pytest.raises(ValueError):
        rec.caller(b"\x00\x01\x02", 0.0)
    rec.close()
    with pytest.raises(ValueError):
        CallRecorder(tmp_path, "../evil", RATE)
