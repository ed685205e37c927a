"""Build the configured STT engine by name."""

from __future__ import annotations

from pathlib import Path

from ari_app.errors import EngineUnavailable
from ari_app.stt.base import SpeechToText

STT_ENGINES = ("whisper",)


def build_stt(
    engine: str,
    model_dir: Path,
    *,
    device: str = "cpu",
    compute_type: str = "int8",
    threads: int = 0,
    window: str = "full",
    min_window_s: float = 10.0,
) -> SpeechToText:
    """Return an (unloaded) engine; call `await engine.load()` before the first call."""
    if engine == "whisper":
        from ari_app.stt.whisper import WhisperStt

        return WhisperStt(
            model_dir, device=device, compute_type=compute_type, threads=threads,
            window=window, min_window_s=min_window_s,
        )
    raise EngineUnavailable(
        f"unknown STT engine {engine!r}; known engines: {', '.join(STT_ENGINES)}"
    )
