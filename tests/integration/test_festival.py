"""Festival with the Russian voice msu_ru_nsh (Debian festival + festvox-ru), heard by Whisper.

Needs `apt-get install festival festvox-ru` and models/whisper-base (scripts/setup-models).
No Asterisk needed.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from ari_app.errors import EngineUnavailable
from ari_app.tts import build_tts
from ari_app.tts.festival import FestivalTts, festival_text

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
WHISPER_DIR = REPO / "models" / "whisper-base"

RU_HOURS = "Мы работаем с понедельника по пятницу, с девяти утра до шести вечера."
RU_LONG = (
    "Здравствуйте, вы позвонили в компанию Ромашка. "
    "Мы работаем с понедельника по пятницу, с девяти утра до шести вечера. "
    "В субботу мы работаем до двух часов дня, а в воскресенье у нас выходной. "
    "Если вы хотите записаться на приём, назовите, пожалуйста, ваше имя и номер телефона. "
    "Мы перезвоним вам в ближайшее время."
)


@pytest.fixture(scope="module")
def whisper() -> Any:
    from faster_whisper import WhisperModel

    if not (WHISPER_DIR / "model.bin").is_file():
        pytest.fail(f"{WHISPER_DIR} is missing: run .venv/bin/python scripts/setup-models")
    return WhisperModel(str(WHISPER_DIR), device="cpu", compute_type="int8")


def transcribe(model: Any, pcm: bytes, rate: int) -> str:
    assert rate == 16000, "Whisper takes 16 kHz"
    audio = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    segments, _info = model.transcribe(
        audio, language="ru", beam_size=1, temperature=0, condition_on_previous_text=False
    )
    return " ".join(s.text.strip() for s in segments).lower()


def festival_children() -> list[int]:
    """Festival processes started by this test process (text2wave runs as `festival`)."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            if ppid == me and comm in ("festival", "text2wave"):
                found.append(int(entry.name))
    return found


async def test_russian_opening_hours_round_trip(whisper: Any) -> None:
    tts = build_tts("festival", "msu_ru_nsh_clunits")
    assert isinstance(tts, FestivalTts)
    await tts.load()
    assert tts.name == "festival:msu_ru_nsh_clunits"
    assert tts.sample_rate == 16000
    started = time.perf_counter()
    chunks = [c async for c in tts.synthesize(RU_HOURS)]
    elapsed = time.perf_counter() - started
    assert chunks and all(len(c) % 2 == 0 for c in chunks)
    pcm = b"".join(chunks)
    assert not pcm.startswith(b"RIFF")
    duration = len(pcm) / 2 / tts.sample_rate
    assert 3.0 < duration < 10.0, duration
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    assert float(np.sqrt(np.mean(samples**2))) > 300, "audio is (nearly) silent"
    text = transcribe(whisper, pcm, tts.sample_rate)
    print(f"\nfestival: {duration:.2f} s audio in {elapsed:.2f} s; whisper heard: {text!r}")
    for word in ("работаем", "понедельник", "пятниц", "утра", "вечера"):
        assert word in text, f"{word!r} missing in {text!r}"


async def test_first_sentence_arrives_before_the_rest_is_done(whisper: Any) -> None:
    tts = FestivalTts()
    await tts.load()
    started = time.perf_counter()
    first_at: float | None = None
    chunks: list[bytes] = []
    async for chunk in tts.synthesize(RU_LONG):
        if first_at is None:
            first_at = time.perf_counter() - started
        chunks.append(chunk)
    total = time.perf_counter() - started
    assert first_at is not None
    audio_s = sum(len(c) for c in chunks) / 2 / tts.sample_rate
    print(
        f"\nfestival TTFA {first_at:.2f} s, total {total:.2f} s for {audio_s:.1f} s of audio "
        f"(RTF {total / audio_s:.3f}), {len(chunks)} chunks"
    )
    assert len(chunks) >= 4  # one per sentence
    assert first_at < 0.5 * total, (first_at, total)
    assert 12.0 < audio_s < 40.0
    text = transcribe(whisper, b"".join(chunks), tts.sample_rate)
    for word in ("понедельник", "суббот", "выходной", "перезвоним"):
        assert word in text, f"{word!r} missing in {text!r}"


async def test_stopping_early_kills_festival() -> None:
    tts = FestivalTts()
    await tts.load()
    gen = cast(AsyncGenerator[bytes, None], tts.synthesize(RU_LONG))
    first = await anext(gen)
    assert first
    await gen.aclose()  # a caller barged in: the sentence being prepared is dropped
    assert festival_children() == []


@pytest.mark.parametrize(
    "text",
    [
        "Он сказал «привет» — и ушёл.",
        "Скидка 10% на услугу №5.",
        "Приходите в 9:30, звоните: +7 (495) 123-45-67.",
        "Цена 3,5 тысячи рублей 😀!",
        "Компания «Café Ромашка» & партнёры; e-mail: info@romashka.ru",
        "...",
    ],
)
async def test_text_festival_cannot_read_is_rewritten(text: str) -> None:
    tts = FestivalTts()
    chunks = [c async for c in tts.synthesize(text)]
    if festival_text(text):
        assert sum(len(c) for c in chunks) / 2 / tts.sample_rate > 0.5
    else:
        assert chunks == []


async def test_missing_voice_names_the_packages() -> None:
    with pytest.raises(EngineUnavailable, match=r"apt-get install festival festvox-ru"):
        await FestivalTts("no_such_voice").load()
    with pytest.raises(EngineUnavailable, match=r"not found.*apt-get install festival festvox-ru"):
        await FestivalTts(binary="no-such-text2wave").load()
    with pytest.raises(EngineUnavailable, match="invalid Festival voice name"):
        FestivalTts("x) (system \"rm -rf /\")")
