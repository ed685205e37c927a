"""Builds the speech engines the config names and loads them once at start."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ari_app.config import Config
from ari_app.models import whisper_model_dir
from ari_app.stt.base import SpeechToText
from ari_app.stt.factory import build_stt
from ari_app.tts.base import TextToSpeech
from ari_app.tts.factory import FallbackTts, build_tts

log = logging.getLogger(__name__)


@dataclass
class Engines:
    stt: SpeechToText
    tts: dict[str, TextToSpeech]  # language -> voice (with its fallback)

    async def load(self) -> None:
        await self.stt.load()
        for tts in self.tts.values():
            await tts.load()

    def voice(self, language: str) -> TextToSpeech:
        return self.tts[language]


def build_engines(cfg: Config) -> Engines:
    stt = build_stt(
        cfg.stt.engine,
        whisper_model_dir(cfg.paths.models_dir, cfg.stt.model),
        device=cfg.stt.device,
        compute_type=cfg.stt.compute_type,
        threads=cfg.stt.threads,
    )
    voices: dict[str, TextToSpeech] = {}
    for lang, voice in cfg.tts.voices.items():
        chain = [build_tts(voice.engine, voice.voice)]
        fallback = cfg.tts.fallback.get(lang)
        if fallback is not None:
            chain.append(build_tts(fallback.engine, fallback.voice))
        tts: TextToSpeech = FallbackTts(chain) if len(chain) > 1 else chain[0]
        voices[lang] = tts
    return Engines(stt=stt, tts=voices)
