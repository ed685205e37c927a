"""The speech engines behind the API: loaded in the background, part by part.

Each engine (the STT, and the voice of each language) loads on its own, so one missing
voice leaves the others usable; until a part is loaded, or if it failed, the endpoints that
need it answer 503 with the reason. Inference runs where the engines run it (worker
threads, subprocesses); resampling uploads runs in a thread too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from ari_app.api.audio import Audio
from ari_app.media.resample import resample
from ari_app.stt.base import SpeechToText, Transcript
from ari_app.stt.streaming import StreamingStt
from ari_app.tts.base import TextToSpeech
from ari_app.tts.factory import FallbackTts

log = logging.getLogger(__name__)

_FEED_S = 0.5  # streaming engines get the upload in pieces of this length


class SpeechEngines(Protocol):
    """What the API needs of `ari_app.engines.Engines` (tests pass a FakeEngines)."""

    stt: SpeechToText | None
    streaming: StreamingStt | None
    tts: dict[str, TextToSpeech]


class NotReady(Exception):
    """An engine is still loading or failed to load (HTTP 503)."""


class UnknownChoice(ValueError):
    """A language or voice the configuration does not have (HTTP 400)."""


class EngineFailed(Exception):
    """A loaded engine failed on this request (HTTP 503); the message names it and why."""


class NothingToSay(ValueError):
    """The text gave no audio (only punctuation, say) (HTTP 422)."""


@dataclass
class PartStatus:
    name: str
    loaded: bool = False
    error: str | None = None


def _name(engine: object) -> str:
    return str(getattr(engine, "name", type(engine).__name__))


class Speech:
    def __init__(self, engines: SpeechEngines) -> None:
        self.engines = engines
        recogniser = self._recogniser()
        self.stt_status = PartStatus(_name(recogniser)) if recogniser is not None else None
        self.tts_status = {lang: PartStatus(_name(t)) for lang, t in engines.tts.items()}
        self.loading = True

    @property
    def languages(self) -> list[str]:
        return sorted(self.engines.tts)

    @property
    def all_loaded(self) -> bool:
        parts = [*self.tts_status.values()]
        if self.stt_status is not None:
            parts.append(self.stt_status)
        return not self.loading and all(p.loaded for p in parts)

    def _recogniser(self) -> SpeechToText | StreamingStt | None:
        return self.engines.stt if self.engines.stt is not None else self.engines.streaming

    async def load(self) -> None:
        """Load every part; failures are recorded (and logged), never raised."""
        try:
            recogniser = self._recogniser()
            if recogniser is not None and self.stt_status is not None:
                await self._load_part(self.stt_status, recogniser.load)
            for lang, tts in self.engines.tts.items():
                await self._load_part(self.tts_status[lang], tts.load)
        finally:
            self.loading = False

    @staticmethod
    async def _load_part(status: PartStatus, load: Callable[[], Awaitable[None]]) -> None:
        try:
            await load()
        except Exception as exc:
            status.error = str(exc) or type(exc).__name__
            log.error("api: %s failed to load: %s", status.name, status.error)
        else:
            status.loaded = True

    def _require(self, status: PartStatus | None, what: str) -> None:
        if status is None:
            raise NotReady(f"no {what} is configured")
        if status.loaded:
            return
        if status.error is not None:
            raise NotReady(f"{what} ({status.name}) failed to load: {status.error}")
        raise NotReady(f"{what} ({status.name}) is still loading; try again shortly")

    def check_language(self, language: str) -> None:
        if language not in self.engines.tts:
            have = ", ".join(self.languages) or "none"
            raise UnknownChoice(f"unknown language {language!r} (configured: {have})")

    def require_stt(self) -> None:
        """Raises NotReady unless the recogniser is loaded."""
        self._require(self.stt_status, "speech recognition")

    async def transcribe(self, audio: Audio, language: str) -> Transcript:
        self.check_language(language)
        self.require_stt()
        try:
            return await self._transcribe(audio, language)
        except Exception as exc:
            name = self.stt_status.name if self.stt_status is not None else "stt"
            log.warning("api: %s failed to transcribe: %s", name, exc)
            raise EngineFailed(f"{name} could not transcribe: {exc}") from exc

    async def _transcribe(self, audio: Audio, language: str) -> Transcript:
        stt, streaming = self.engines.stt, self.engines.streaming
        if stt is not None:
            pcm = await asyncio.to_thread(resample, audio.pcm, audio.sample_rate, stt.sample_rate)
            return await stt.transcribe(pcm, language)
        assert streaming is not None
        rate = streaming.sample_rate
        pcm = await asyncio.to_thread(resample, audio.pcm, audio.sample_rate, rate)
        stream = streaming.open_stream(language)
        try:
            step = int(rate * _FEED_S) * 2
            for start in range(0, len(pcm), step):
                await stream.accept(pcm[start : start + step])
            return await stream.finish()
        finally:
            await stream.close()

    def voice_for(self, language: str, voice: str | None) -> TextToSpeech:
        """The language's voice (with its fallback), or the one of its engines named `voice`."""
        self.check_language(language)
        tts = self.engines.tts[language]
        self._require(self.tts_status[language], f"the {language} voice")
        if voice is None:
            return tts
        chain = tts.engines if isinstance(tts, FallbackTts) else [tts]
        for engine in chain:
            if voice in (engine.name, engine.name.split(":", 1)[-1]):
                return engine
        have = ", ".join(e.name for e in chain)
        raise UnknownChoice(f"unknown voice {voice!r} for {language!r} (configured: {have})")

    async def synthesize(
        self, text: str, language: str, voice: str | None = None
    ) -> tuple[bytes, int, str]:
        """(s16le mono PCM, its rate, the engine that spoke)."""
        engine = self.voice_for(language, voice)
        try:
            pcm = b"".join([chunk async for chunk in engine.synthesize(text)])
        except Exception as exc:
            log.warning("api: %s failed to speak: %s", engine.name, exc)
            raise EngineFailed(f"{engine.name} could not speak: {exc}") from exc
        if not pcm:
            raise NothingToSay(f"the text gives no speech: {text[:60]!r}")
        spoke = engine.last_engine if isinstance(engine, FallbackTts) else engine
        return pcm, engine.sample_rate, _name(spoke if spoke is not None else engine)
