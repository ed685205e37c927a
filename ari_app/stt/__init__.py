"""Speech to text. Heavy engine libraries are imported only when an engine loads."""

from ari_app.stt.base import SpeechToText, Transcript
from ari_app.stt.factory import STT_ENGINES, build_stt

__all__ = ["STT_ENGINES", "SpeechToText", "Transcript", "build_stt"]
