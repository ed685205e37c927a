"""A short turn is decoded at several lead-ins of silence in one batch and the likeliest
reading kept; a long turn once. The decoder is a fake (named so) whose reading and score
depend on how much silence precedes the word, as Whisper's do on a one-word turn."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import ari_app.stt.whisper as whisper_module
from ari_app.stt.whisper import SHORT_TURN_LEADS_S, WhisperOptions, WhisperStt
from ari_app.stt.whisper_window import WindowedResult

RATE = 16000


class FakeWindows:
    """prepare_fitted and decode_fitted_batch: the job keeps its audio; the reading is
    "Hamal" unless 0.15 s of added silence precedes the word, then "Hello." (likelier)."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def prepare(self, model: Any, audio: np.ndarray, language: str, *args: Any) -> Any:
        return SimpleNamespace(audio=audio, frames=600)

    def decode(self, model: Any, jobs: list[Any]) -> list[WindowedResult | None]:
        self.batches.append(len(jobs))
        results: list[WindowedResult | None] = []
        for job in jobs:
            lead = int(np.argmax(np.abs(job.audio) > 0)) / RATE
            good = abs(lead - 0.15) < 0.01
            results.append(WindowedResult("Hello." if good else "Hamal", 600, "",
                                          -1.2 if good else -1.4))
        return results


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> tuple[WhisperStt, FakeWindows]:
    fake = FakeWindows()
    monkeypatch.setattr(whisper_module, "prepare_fitted", fake.prepare)
    monkeypatch.setattr(whisper_module, "decode_fitted_batch", fake.decode)
    stt = WhisperStt(Path("/nonexistent"), WhisperOptions(window="fitted"))
    stt._model = object()
    return stt, fake


def word(seconds: float) -> np.ndarray:
    return np.full(int(seconds * RATE), 0.1, np.float32)


def test_a_short_turn_keeps_its_likeliest_reading(engine: tuple[WhisperStt, FakeWindows]
                                                  ) -> None:
    stt, fake = engine
    [result] = stt._decode_batch_sync([(word(0.6), "en")])
    assert result is not None and result.text == "Hello."
    assert fake.batches == [len(SHORT_TURN_LEADS_S)]  # every lead-in in one batch


def test_a_long_turn_is_decoded_once_beside_a_short_one(engine: tuple[WhisperStt, FakeWindows]
                                                       ) -> None:
    stt, fake = engine
    long_result, short_result = stt._decode_batch_sync([(word(4.0), "en"), (word(0.6), "en")])
    assert long_result is not None and long_result.text == "Hamal"  # as it is, no variants
    assert short_result is not None and short_result.text == "Hello."
    assert fake.batches == [1 + len(SHORT_TURN_LEADS_S)]
