"""Whisper with turns of several calls decoded as one batch (`stt.batch`), on the real
packaged Whisper base and the real human speech set: a batch hears what one utterance
at a time hears (91 of 91 clips alike when measured), and turns that waited together
were batched."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
import soxr

from ari_app.models import whisper_model_dir
from ari_app.stt.whisper import WhisperOptions, WhisperStt
from testkit.human_speech import HumanClip
from testkit.transcripts import edits, words

pytestmark = pytest.mark.integration

MODELS = Path(__file__).resolve().parents[2] / "models"


def pcm16k(clip: HumanClip) -> bytes:
    samples = np.frombuffer(clip.pcm(), "<i2").astype(np.float32)
    return np.asarray(soxr.resample(samples, 8000, 16000), dtype="<i2").tobytes()


async def hear_all(batch: int, clips: list[HumanClip]) -> tuple[list[str], WhisperStt]:
    stt = WhisperStt(whisper_model_dir(MODELS), WhisperOptions(window="fitted", batch=batch))
    await stt.load()
    heard = await asyncio.gather(*(stt.transcribe(pcm16k(c), c.language) for c in clips))
    stt.close()
    return [t.text for t in heard], stt


async def test_a_batch_hears_what_one_at_a_time_hears(
    human_speech: dict[str, HumanClip],
) -> None:
    # every kind and both languages, some of one window length (batched together) and
    # some of others (batched by length)
    clips = sorted((c for c in human_speech.values() if c.human),
                   key=lambda c: c.id)[::6][:16]
    assert len({c.language for c in clips}) == 2 and len(clips) >= 10
    alone, single = await hear_all(1, clips)
    together, batched = await hear_all(8, clips)
    # the same words (the batch's int8 sums may round differently: a word at most, rarely)
    assert all(edits(words(a), words(b)) <= 1 for a, b in zip(alone, together, strict=True))
    assert sum(a == b for a, b in zip(alone, together, strict=True)) >= len(clips) - 2
    assert sum(bool(t.strip()) for t in together) >= len(clips) - 2  # speech was heard
    assert single._batcher.batches == 0  # batch 1: the old path, one at a time
    # 16 turns at once: some decoded together, in batches of at most 8
    assert 2 <= batched._batcher.largest <= 8
    assert batched._batcher.batches < len(clips)
