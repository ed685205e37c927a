"""PhraseCache: a short piece spoken in full is played again from memory; a long one, one cut
short by the listener, or one whose synthesis failed is not kept; the memory is bounded."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from ari_app.tts.phrase_cache import PhraseCache


class FakeEngine:
    """Stands in for a TTS engine: each piece comes as two chunks that differ from one
    synthesis to the next (a run counter in them), so replayed audio can be told apart
    from audio made again. `fail_after` chunks into a run, it raises."""

    name = "fake:voice"
    sample_rate = 8000

    def __init__(self, fail_after: int | None = None) -> None:
        self.runs: list[str] = []
        self.loads = 0
        self.closed = 0  # runs stopped before their end
        self.fail_after = fail_after

    async def load(self) -> None:
        self.loads += 1

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        self.runs.append(text)
        run = len(self.runs)
        finished = False
        try:
            for part in range(2):
                if self.fail_after is not None and part >= self.fail_after:
                    raise RuntimeError("engine died mid-piece")
                yield bytes([run, part]) * 40
            finished = True
        finally:
            self.closed += not finished


async def spoken(tts: PhraseCache, text: str) -> bytes:
    return b"".join([chunk async for chunk in tts.synthesize(text)])


async def test_a_short_piece_said_again_comes_from_memory() -> None:
    engine = FakeEngine()
    cache = PhraseCache(engine)
    first = await spoken(cache, "До свидания!")
    again = await spoken(cache, " До свидания! ")
    assert again == first
    assert engine.runs == ["До свидания!"]
    assert (cache.hits, cache.misses) == (1, 1)
    other = await spoken(cache, "Одну минуту.")
    assert other != first and engine.runs == ["До свидания!", "Одну минуту."]


async def test_a_long_piece_is_synthesised_every_time() -> None:
    engine = FakeEngine()
    cache = PhraseCache(engine, max_chars=20)
    text = "Мы работаем с девяти до шести, в субботу закрыты."
    one, two = await spoken(cache, text), await spoken(cache, text)
    assert one != two and engine.runs == [text, text] and len(cache) == 0


async def test_a_piece_cut_short_by_the_listener_is_not_kept() -> None:
    engine = FakeEngine()
    cache = PhraseCache(engine)
    stream = cache.synthesize("Здравствуйте!")
    async with contextlib.aclosing(stream):
        async for _chunk in stream:
            break  # a barge-in: the speaker stops after the first chunk
    assert len(cache) == 0 and engine.closed == 1  # the engine was stopped too
    await spoken(cache, "Здравствуйте!")
    assert engine.runs == ["Здравствуйте!", "Здравствуйте!"]


async def test_a_piece_whose_synthesis_failed_is_not_kept() -> None:
    engine = FakeEngine(fail_after=1)
    cache = PhraseCache(engine)
    with pytest.raises(RuntimeError, match="mid-piece"):
        await spoken(cache, "Соединяю.")
    assert len(cache) == 0
    engine.fail_after = None
    await spoken(cache, "Соединяю.")
    assert len(cache) == 1 and len(engine.runs) == 2


async def test_the_least_recently_said_piece_goes_first() -> None:
    engine = FakeEngine()
    cache = PhraseCache(engine, max_phrases=2)
    for text in ("Да.", "Нет.", "Да.", "Спасибо."):  # "Нет." is the least recently said
        await spoken(cache, text)
    assert len(cache) == 2
    await spoken(cache, "Да.")
    await spoken(cache, "Нет.")
    assert engine.runs == ["Да.", "Нет.", "Спасибо.", "Нет."]


async def test_memory_is_bounded_in_bytes_too() -> None:
    engine = FakeEngine()  # 160 bytes a piece
    cache = PhraseCache(engine, max_bytes=400)
    for text in ("Один.", "Два.", "Три."):
        await spoken(cache, text)
    assert len(cache) == 2  # a third piece would make 480 bytes


async def test_it_speaks_as_its_engine() -> None:
    engine = FakeEngine()
    cache = PhraseCache(engine)
    await cache.load()
    assert (cache.name, cache.sample_rate, engine.loads) == ("fake:voice", 8000, 1)
    with pytest.raises(ValueError, match="max_phrases"):
        PhraseCache(engine, max_phrases=0)
