"""Text to speech. Engine libraries (piper/onnxruntime) load only when an engine is built."""

from ari_app.tts.base import TextToSpeech
from ari_app.tts.factory import TTS_ENGINES, FallbackTts, build_tts
from ari_app.tts.text import split_sentences

__all__ = ["TTS_ENGINES", "FallbackTts", "TextToSpeech", "build_tts", "split_sentences"]
