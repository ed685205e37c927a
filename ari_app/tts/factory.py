"""Build TTS engines by name, and chain them with a fallback."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

from ari_app.errors import EngineUnavailable
from ari_app.media.resample import Resampler
from ari_app.tts.base import TextToSpeech

log = logging.getLogger(__name__)

TTS_ENGINES = ("rhvoice", "piper", "espeak", "festival", "xtts")
# the pause between the fragment an engine said before it failed and the next engine's
# whole text: heard as a restart, not as one garbled word
RESTART_PAUSE_S = 0.25


def build_tts(engine: str, voice: str) -> TextToSpeech:
    """Return an (unloaded) engine.

    engine: rhvoice (voice: anna, aleksandr, slt, ...), piper (voice: the packaged voice name
    en_US-joe-medium, or a path to an .onnx voice), espeak (voice: ru, en, ...), xtts (voice:
    "MODEL_DIR|VOICE_DIR|LANGUAGE[|DEVICE]", see docs/xtts.md).
    """
    if engine == "rhvoice":
        from ari_app.tts.rhvoice import rhvoice

        return rhvoice(voice)
    if engine == "piper":
        from ari_app.models import piper_voice_path
        from ari_app.tts.piper import PiperTts

        try:
            return PiperTts(piper_voice_path(voice))
        except EngineUnavailable as exc:
            # Fail at load/synthesize time, so a FallbackTts chain can still speak.
            return UnavailableTts(f"piper:{voice}", 22050, str(exc))
    if engine == "espeak":
        from ari_app.tts.espeak import EspeakTts

        return EspeakTts(voice)
    if engine == "festival":
        from ari_app.tts.festival import DEFAULT_VOICE, FestivalTts

        return FestivalTts(voice or DEFAULT_VOICE)
    if engine == "xtts":
        # voice: "MODEL_DIR|VOICE_DIR|LANGUAGE[|DEVICE]", e.g. "models/xtts-v2|voices/anna|ru"
        from ari_app.tts.xtts import xtts_from_voice

        return xtts_from_voice(voice)
    raise EngineUnavailable(
        f"unknown TTS engine {engine!r}; known engines: {', '.join(TTS_ENGINES)}"
    )


class UnavailableTts:
    """Stands in for an engine that cannot be built; raises its reason when used."""

    def __init__(self, name: str, sample_rate: int, reason: str) -> None:
        self.name = name
        self.sample_rate = sample_rate
        self.reason = reason

    async def load(self) -> None:
        raise EngineUnavailable(self.reason)

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        await self.load()
        yield b""  # pragma: no cover - load() always raises


class FallbackTts:
    """Tries engines in order; moves to the next when one fails.

    An engine that fails before any audio is skipped silently. One that fails after part of
    its audio (its process killed, a GPU out of memory mid-sentence) leaves the caller with
    a fragment: after a short pause the next engine says the whole text again from its
    start, so the caller hears every word once in full rather than the rest of the reply
    going silent (docs/decisions.md). Only when the last engine fails does the error
    propagate. Each request starts again with the first engine. All output is at
    `sample_rate` (the first engine's rate unless given): audio from an engine at another
    rate is resampled.
    One object serves every call: what a request decides on is its own; `last_engine` (the
    engine that spoke last) and `failures` (what the last request skipped, and why) are
    only for reports.
    """

    def __init__(self, engines: Sequence[TextToSpeech], sample_rate: int | None = None) -> None:
        if not engines:
            raise ValueError("FallbackTts needs at least one engine")
        self.engines = list(engines)
        self._rate = sample_rate
        self.last_engine: TextToSpeech | None = None
        self.failures: list[tuple[str, str]] = []

    @property
    def name(self) -> str:
        return " > ".join(e.name for e in self.engines)

    @property
    def sample_rate(self) -> int:
        return self._rate if self._rate is not None else self.engines[0].sample_rate

    async def load(self) -> None:
        """Load every engine; fails only if none of them can be loaded."""
        errors: list[str] = []
        for engine in self.engines:
            try:
                await engine.load()
            except Exception as exc:
                log.warning("TTS engine %s unavailable: %s", engine.name, exc)
                errors.append(f"{engine.name}: {exc}")
        if len(errors) == len(self.engines):
            raise EngineUnavailable("no TTS engine could be loaded: " + "; ".join(errors))
        if self._rate is None:
            # Freeze the output rate now that the first engine knows its real rate.
            self._rate = self.engines[0].sample_rate

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        failures: list[tuple[str, str]] = []
        self.failures = failures
        for engine in self.engines:
            started = False
            gen = engine.synthesize(text)
            try:
                resampler: Resampler | None = None
                async for chunk in gen:
                    if not chunk:
                        continue
                    if resampler is None:
                        resampler = Resampler(engine.sample_rate, self.sample_rate)
                        self.last_engine = engine
                    started = True
                    out = resampler.process(chunk)
                    if out:
                        yield out
                if resampler is not None:
                    tail = resampler.flush()
                    if tail:
                        yield tail
                if started:
                    return
                failures.append((engine.name, "no audio"))
            except Exception as exc:
                if not started:
                    log.warning(
                        "TTS engine %s failed before audio, trying the next: %s", engine.name, exc
                    )
                    failures.append((engine.name, str(exc)))
                    continue
                if engine is self.engines[-1]:
                    raise
                log.warning(
                    "TTS engine %s failed after part of its audio, the next engine says %r "
                    "again from its start: %s", engine.name, text, exc,
                )
                failures.append((engine.name, f"failed after audio: {exc}"))
                yield bytes(2 * int(self.sample_rate * RESTART_PAUSE_S))
            finally:
                aclose = getattr(gen, "aclose", None)
                if aclose is not None:
                    await aclose()
        if not failures or all(reason == "no audio" for _, reason in failures):
            return  # nothing to say (e.g. text was only punctuation)
        raise EngineUnavailable(
            "every TTS engine failed: "
            + "; ".join(f"{name}: {reason}" for name, reason in failures)
        )
