"""Build the configured STT engine by name: batch (`build_stt`) or streaming
(`build_streaming_stt`). Engine modules are imported only for the engine asked for."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ari_app.errors import EngineUnavailable
from ari_app.stt.base import SpeechToText
from ari_app.stt.streaming import StreamingStt

if TYPE_CHECKING:
    from ari_app.stt.whisper import WhisperOptions

STT_ENGINES = ("whisper",)
STREAMING_STT_ENGINES = ("vosk", "whisper")


def build_stt(
    engine: str, model_dir: Path, options: WhisperOptions | None = None
) -> SpeechToText:
    """Return an (unloaded) engine; call `await engine.load()` before the first call."""
    if engine == "whisper":
        from ari_app.stt.whisper import WhisperStt

        return WhisperStt(model_dir, options)
    raise EngineUnavailable(
        f"unknown STT engine {engine!r}; known engines: {', '.join(STT_ENGINES)}"
    )


def build_streaming_stt(engine: str, model_dir: Path, **opts: Any) -> StreamingStt:
    """Return an (unloaded) streaming engine by name.

    vosk: `model_dir` is a Vosk model directory (models/vosk-<lang>); opts: sample_rate.
    whisper: `model_dir` is the faster-whisper model directory; opts: options (WhisperOptions),
    partial_every_s, stt (an existing WhisperStt whose loaded model is shared).
    """
    if engine == "vosk":
        from ari_app.stt.vosk import VoskStt

        return VoskStt(model_dir, **opts)
    if engine == "whisper":
        from ari_app.stt.whisper_stream import WhisperStreamingStt

        return WhisperStreamingStt(model_dir, **opts)
    raise EngineUnavailable(
        f"unknown streaming STT engine {engine!r}; known engines: "
        f"{', '.join(STREAMING_STT_ENGINES)}"
    )
