"""Builds the speech engines the config names and loads them once at start."""

from __future__ import annotations

from dataclasses import dataclass

from ari_app.config import Config
from ari_app.models import whisper_model_dir
from ari_app.stt.base import SpeechToText
from ari_app.stt.factory import build_streaming_stt, build_stt
from ari_app.stt.streaming import StreamingStt
from ari_app.stt.vosk import packaged_vosk_model
from ari_app.stt.whisper import WhisperOptions
from ari_app.tts.base import TextToSpeech
from ari_app.tts.factory import FallbackTts, build_tts
from ari_app.turn.end_of_turn import TurnEndModel
from ari_app.turn.smart_turn import SmartTurn, default_model_path


@dataclass
class Engines:
    stt: SpeechToText | None  # batch: the finished turn
    tts: dict[str, TextToSpeech]  # language -> voice (with its fallback)
    streaming: StreamingStt | None = None  # streaming: fed while the caller speaks
    turn_end: TurnEndModel | None = None  # has the caller finished? (turn.end_of_turn)

    async def load(self) -> None:
        if self.stt is not None:
            await self.stt.load()
        if self.streaming is not None:
            await self.streaming.load()
        for tts in self.tts.values():
            await tts.load()

    def voice(self, language: str) -> TextToSpeech:
        return self.tts[language]


def build_engines(cfg: Config) -> Engines:
    stt: SpeechToText | None = None
    streaming: StreamingStt | None = None
    if cfg.stt.engine == "vosk":
        model = cfg.stt.model
        model_dir = (
            packaged_vosk_model(model.removeprefix("packaged:"))
            if model.startswith("packaged:")
            else cfg.paths.models_dir / model
        )
        rate = 8000 if cfg.media.transport == "rtp" else 16000
        streaming = build_streaming_stt("vosk", model_dir, sample_rate=rate)
    else:
        options = WhisperOptions(
            device=cfg.stt.device, compute_type=cfg.stt.compute_type, threads=cfg.stt.threads,
            window=cfg.stt.window, min_window_s=cfg.stt.min_window_s, batch=cfg.stt.batch,
        )  # fmt: skip
        stt = build_stt(cfg.stt.engine, whisper_model_dir(cfg.paths.models_dir, cfg.stt.model),
                        options)
    voices: dict[str, TextToSpeech] = {}
    for lang, voice in cfg.tts.voices.items():
        chain = [build_tts(voice.engine, voice.voice)]
        fallback = cfg.tts.fallback.get(lang)
        if fallback is not None:
            chain.append(build_tts(fallback.engine, fallback.voice))
        tts: TextToSpeech = FallbackTts(chain) if len(chain) > 1 else chain[0]
        voices[lang] = tts
    turn_end = None
    if cfg.turn.end_of_turn == "smart":  # a missing model is an error at start, with the fix
        turn_end = TurnEndModel(SmartTurn(default_model_path(cfg.paths.models_dir)))
    return Engines(stt=stt, tts=voices, streaming=streaming, turn_end=turn_end)
