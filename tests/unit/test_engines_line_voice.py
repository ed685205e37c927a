"""A line's own voice (lines.<line>.voice): built with its language's fallback behind it,
spoken on that line's calls instead of the language's voice, loaded once at start, and the
language's very object when both name the same voice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from ari_app import engines as engines_module
from ari_app.config import parse_config
from ari_app.engines import Engines, build_engines
from ari_app.tts.factory import FallbackTts
from ari_app.tts.phrase_cache import PhraseCache


class FakeTts:
    """Stands in for a TTS engine: remembers its engine and voice, counts its loads."""

    sample_rate = 8000

    def __init__(self, engine: str, voice: str) -> None:
        self.engine, self.voice = engine, voice
        self.loads = 0

    @property
    def name(self) -> str:
        return f"{self.engine}:{self.voice}"

    async def load(self) -> None:
        self.loads += 1

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        yield b"\x00\x00"


def fake_build_stt(*args: Any) -> None:
    return None


def engines_for(monkeypatch: pytest.MonkeyPatch, lines: dict[str, Any],
                cache_phrases: int = 64) -> Engines:
    built: list[FakeTts] = []

    def fake_build_tts(engine: str, voice: str) -> FakeTts:
        built.append(FakeTts(engine, voice))
        return built[-1]

    monkeypatch.setattr(engines_module, "build_tts", fake_build_tts)
    monkeypatch.setattr(engines_module, "build_stt", fake_build_stt)
    cfg = parse_config({
        "ari": {"password": "pw"}, "turn": {"end_of_turn": "silence"},
        "tts": {"voices": {"ru": {"engine": "rhvoice", "voice": "anna"},
                           "en": {"engine": "piper", "voice": "en_US-joe-medium"}},
                "fallback": {"ru": {"engine": "espeak", "voice": "ru"}},
                "cache_phrases": cache_phrases},
        "lines": lines,
    }, "test")
    return build_engines(cfg)


def parts_of(tts: object) -> list[object]:
    """The engines of a voice, each out of its phrase cache."""
    assert isinstance(tts, FallbackTts | PhraseCache | FakeTts), tts
    parts = tts.engines if isinstance(tts, FallbackTts) else [tts]
    return [part.tts if isinstance(part, PhraseCache) else part for part in parts]


def chain_of(tts: object) -> list[str]:
    return [getattr(part, "name", "?") for part in parts_of(tts)]


def test_a_line_speaks_with_its_own_voice(monkeypatch: pytest.MonkeyPatch) -> None:
    engines = engines_for(monkeypatch, {
        "sales": {"voice": {"engine": "rhvoice", "voice": "aleksandr"}},  # default_language ru
        "intl": {"language": "en", "voice": {"engine": "espeak", "voice": "en-us"}},
        "support": {"language": "ru"},
    })
    assert chain_of(engines.voice("ru", "sales")) == ["rhvoice:aleksandr", "espeak:ru"]
    assert chain_of(engines.voice("en", "intl")) == ["espeak:en-us"]  # en has no fallback
    assert engines.voice("ru", "support") is engines.voice("ru") is engines.tts["ru"]
    assert engines.voice("ru", "unknown-line") is engines.tts["ru"]
    assert chain_of(engines.voice("ru")) == ["rhvoice:anna", "espeak:ru"]
    # a call the dialplan set to another language (SECRETARY_LANG) speaks that language's
    assert engines.voice("en", "sales") is engines.tts["en"]


async def test_a_voice_named_twice_is_built_and_loaded_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    engines = engines_for(monkeypatch, {
        "same": {"voice": {"engine": "rhvoice", "voice": "anna"}},
        "other": {"voice": {"engine": "rhvoice", "voice": "aleksandr"}},
        "other-too": {"voice": {"engine": "rhvoice", "voice": "aleksandr"}},
    })
    assert engines.voice("ru", "same") is engines.tts["ru"]
    assert engines.voice("ru", "other") is engines.voice("ru", "other-too")
    assert engines.voice("ru", "other") is not engines.tts["ru"]
    await engines.load()
    parts = [part for tts in {id(t): t for t in [*engines.tts.values(),
                                                 *(t for _, t in engines.line_tts.values())]
                              }.values()
             for part in parts_of(tts)]
    assert {getattr(part, "name", "?") for part in parts} == {
        "rhvoice:anna", "rhvoice:aleksandr", "espeak:ru", "piper:en_US-joe-medium"}
    assert all(isinstance(p, FakeTts) and p.loads == 1 for p in parts), \
        [(p.name, getattr(p, "loads", None)) for p in parts]


def test_a_voice_keeps_its_phrases_in_front_of_its_first_engine_only(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """What a fallback engine said is never replayed as the first engine's voice."""
    voice = engines_for(monkeypatch, {}).voice("ru")
    assert isinstance(voice, FallbackTts)
    first, fallback = voice.engines
    assert isinstance(first, PhraseCache) and first.max_phrases == 64
    assert not isinstance(fallback, PhraseCache)
    build = engines_for(monkeypatch, {}, cache_phrases=0)
    assert not any(isinstance(part, PhraseCache) for tts in build.tts.values()
                   for part in (tts.engines if isinstance(tts, FallbackTts) else [tts]))
