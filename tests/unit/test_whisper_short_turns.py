"""A short turn whose reading comes out unsure is decoded again at other lead-ins of silence,
in one batch, and the likeliest reading kept; a sure one, and a long turn, once. The decoder
is a fake (named so) whose reading and score depend on how much silence precedes the word,
as Whisper's do on a one-word turn."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import ari_app.stt.whisper as whisper_module
from ari_app.stt.whisper import (
    SHORT_TURN_LEADS_S,
    SHORT_TURN_SURE_SCORE,
    WhisperOptions,
    WhisperStt,
)
from ari_app.stt.whisper_window import WindowedResult

RATE = 16000


class FakeWindows:
    """prepare_fitted and decode_fitted_batch: the job keeps its audio; the reading is
    "Hamal" (unsure) unless 0.15 s of added silence precedes the word, then "Hello."
    (likelier); with `sure_as_is`, "Hello." already with no added silence."""

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.sure_as_is = False

    def prepare(self, model: Any, audio: np.ndarray, language: str, *args: Any) -> Any:
        return SimpleNamespace(audio=audio, frames=600)

    def decode(self, model: Any, jobs: list[Any]) -> list[WindowedResult | None]:
        self.batches.append(len(jobs))
        results: list[WindowedResult | None] = []
        for job in jobs:
            lead = int(np.argmax(np.abs(job.audio) > 0)) / RATE
            if self.sure_as_is and lead == 0:
                results.append(WindowedResult("Hello.", 600, "", SHORT_TURN_SURE_SCORE + 0.2))
                continue
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
    # as it is, then (unsure) every other lead-in in one batch
    assert fake.batches == [1, len(SHORT_TURN_LEADS_S)]


def test_a_sure_reading_of_a_short_turn_is_kept_at_once(
        engine: tuple[WhisperStt, FakeWindows]) -> None:
    stt, fake = engine
    fake.sure_as_is = True
    [result] = stt._decode_batch_sync([(word(0.6), "en")])
    assert result is not None and result.text == "Hello."
    assert fake.batches == [1]


def test_a_long_turn_is_decoded_once_beside_a_short_one(engine: tuple[WhisperStt, FakeWindows]
                                                       ) -> None:
    stt, fake = engine
    long_result, short_result = stt._decode_batch_sync([(word(4.0), "en"), (word(0.6), "en")])
    assert long_result is not None and long_result.text == "Hamal"  # as it is, no variants
    assert short_result is not None and short_result.text == "Hello."
    assert fake.batches == [2, len(SHORT_TURN_LEADS_S)]  # both as they are, then the short
