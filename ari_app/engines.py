"""Builds the speech engines the config names and loads them once at start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ari_app.config import Config, SttRemoteConfig, VoiceConfig
from ari_app.errors import ConfigError
from ari_app.models import whisper_model_dir
from ari_app.stt.base import SpeechToText
from ari_app.stt.factory import build_streaming_stt, build_stt
from ari_app.stt.remote import RemoteFirstStt, RemoteStt, RemoteSttOptions
from ari_app.stt.streaming import StreamingStt
from ari_app.stt.vosk import packaged_vosk_model
from ari_app.stt.whisper import WhisperOptions
from ari_app.tts.base import TextToSpeech
from ari_app.tts.factory import FallbackTts, build_tts
from ari_app.tts.phrase_cache import PhraseCache
from ari_app.turn.end_of_turn import TurnEndModel
from ari_app.turn.smart_turn import SmartTurn, default_model_path


@dataclass
class Engines:
    stt: SpeechToText | None  # batch: the finished turn
    tts: dict[str, TextToSpeech]  # language -> voice (with its fallback)
    streaming: StreamingStt | None = None  # streaming: fed while the caller speaks
    turn_end: TurnEndModel | None = None  # has the caller finished? (turn.end_of_turn)
    # line -> (its language, its own voice with the language's fallback): lines.<line>.voice
    line_tts: dict[str, tuple[str, TextToSpeech]] = field(default_factory=dict)

    async def load(self) -> None:
        if self.stt is not None:
            await self.stt.load()
        if self.streaming is not None:
            await self.streaming.load()
        loaded: set[int] = set()  # a line's voice may be the very object a language uses
        for tts in [*self.tts.values(), *(tts for _, tts in self.line_tts.values())]:
            if id(tts) not in loaded:
                loaded.add(id(tts))
                await tts.load()

    def voice(self, language: str, line: str | None = None) -> TextToSpeech:
        """The line's own voice when it has one and the call speaks the line's language (a
        dialplan's SECRETARY_LANG may choose another), else the language's."""
        if line is not None and line in self.line_tts:
            line_language, tts = self.line_tts[line]
            if line_language == language:
                return tts
        return self.tts[language]


def remote_first(remote: SttRemoteConfig, local: SpeechToText,
                 env: Mapping[str, str] | None = None) -> RemoteFirstStt:
    """The inference server asked first, `local` behind it (stt/remote.py)."""
    key = None
    if remote.api_key_env is not None:
        key = (os.environ if env is None else env).get(remote.api_key_env)
        if not key:
            raise ConfigError(f"stt.remote.api_key_env: {remote.api_key_env} is not set")
    options = RemoteSttOptions(remote.base_url, remote.model, remote.timeout_s, key,
                               remote.retry_after_s)
    return RemoteFirstStt(RemoteStt(options), local)


def build_engines(cfg: Config, env: Mapping[str, str] | None = None) -> Engines:
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
        if cfg.stt.remote is not None:
            stt = remote_first(cfg.stt.remote, stt, env)
    built: dict[tuple[VoiceConfig, VoiceConfig | None], TextToSpeech] = {}

    def chain_of(voice: VoiceConfig, lang: str) -> TextToSpeech:
        """The voice with its language's fallback behind it; one object per such pair."""
        fallback = cfg.tts.fallback.get(lang)
        key = (voice, fallback)
        if key not in built:
            primary: TextToSpeech = build_tts(voice.engine, voice.voice)
            if cfg.tts.cache_phrases:
                primary = PhraseCache(primary, max_phrases=cfg.tts.cache_phrases)
            chain = [primary]
            if fallback is not None:
                chain.append(build_tts(fallback.engine, fallback.voice))
            built[key] = FallbackTts(chain) if len(chain) > 1 else chain[0]
        return built[key]

    voices = {lang: chain_of(voice, lang) for lang, voice in cfg.tts.voices.items()}
    line_tts: dict[str, tuple[str, TextToSpeech]] = {}
    for name, line in cfg.lines.items():
        if line.voice is not None:
            lang = cfg.language_for(name)
            line_tts[name] = (lang, chain_of(line.voice, lang))
    turn_end = None
    if cfg.turn.end_of_turn == "smart":  # a missing model is an error at start, with the fix
        turn_end = TurnEndModel(SmartTurn(default_model_path(cfg.paths.models_dir)))
    return Engines(stt=stt, tts=voices, streaming=streaming, turn_end=turn_end,
                   line_tts=line_tts)
