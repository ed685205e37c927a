"""RHVoice voices: in this process through libRHVoice when it is installed
(`RhvoiceLibraryTts`), otherwise through `RHVoice-test`, one subprocess per sentence, its
WAV streamed from stdout (`RhvoiceTts`). `rhvoice(voice)` picks."""

from __future__ import annotations

import asyncio
import ctypes
import functools
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ari_app.errors import EngineUnavailable
from ari_app.models import rhvoice_fix, rhvoice_voices
from ari_app.tts.base import (
    SubprocessTts,
    TextToSpeech,
    WavFormatError,
    stream_pushed,
    stream_wav_subprocess,
)
from ari_app.tts.text import split_sentences

RHVOICE_BINARY = "RHVoice-test"
DEFAULT_RATE = 24000  # what RHVoice's voices produce; confirmed from the WAV header on load()


class RhvoiceTts(SubprocessTts):
    """RHVoice voice (anna, aleksandr, slt, ...) as s16le at the voice's own rate (24 kHz)."""

    engine = "RHVoice"

    def __init__(self, voice: str, binary: str = RHVOICE_BINARY) -> None:
        super().__init__(f"rhvoice:{voice.lower()}", voice.lower(), binary, DEFAULT_RATE)

    def _fix(self) -> str:
        return rhvoice_fix(self.voice)

    async def _probe(self, exe: str) -> None:
        """Check the voice, and learn the output rate from a short probe."""
        # RHVoice-test silently falls back to another voice for an unknown name: check first.
        if self.voice not in rhvoice_voices():
            raise EngineUnavailable(
                f"RHVoice voice {self.voice!r} is not installed; {rhvoice_fix(self.voice)}"
            )
        rate = None
        try:
            async for fmt, _pcm in stream_wav_subprocess(self._argv(exe), "a"):
                rate = fmt.sample_rate
        except (OSError, RuntimeError, WavFormatError) as exc:
            raise EngineUnavailable(
                f"RHVoice voice {self.voice!r} failed to speak ({exc}); {rhvoice_fix(self.voice)}"
            ) from exc
        if rate is None:
            raise EngineUnavailable(f"RHVoice voice {self.voice!r} produced no audio")
        self.sample_rate = rate

    def _argv(self, exe: str) -> list[str]:
        return [exe, "-p", self.voice, "-o", "-"]


# --- in process, through libRHVoice ---------------------------------------------------------

RHVOICE_LIBRARY = "libRHVoice.so.5"  # Debian: librhvoice5 (scripts/setup installs it)
RHVOICE_DATA = "/usr/share/RHVoice"
RHVOICE_CONFIG = "/etc/RHVoice"

_SetSampleRate = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
_PlaySpeech = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_uint, ctypes.c_void_p
)


class _Callbacks(ctypes.Structure):  # RHVoice.h: RHVoice_callbacks
    _fields_ = [
        ("set_sample_rate", _SetSampleRate),
        ("play_speech", _PlaySpeech),
        ("process_mark", ctypes.c_void_p),  # optional ones: NULL
        ("word_starts", ctypes.c_void_p),
        ("word_ends", ctypes.c_void_p),
        ("sentence_starts", ctypes.c_void_p),
        ("sentence_ends", ctypes.c_void_p),
        ("play_audio", ctypes.c_void_p),
        ("done", ctypes.c_void_p),
    ]


class _InitParams(ctypes.Structure):  # RHVoice_init_params
    _fields_ = [
        ("data_path", ctypes.c_char_p),
        ("config_path", ctypes.c_char_p),
        ("resource_paths", ctypes.POINTER(ctypes.c_char_p)),
        ("callbacks", _Callbacks),
        ("options", ctypes.c_uint),
    ]


class _SynthParams(ctypes.Structure):  # RHVoice_synth_params
    _fields_ = [
        ("voice_profile", ctypes.c_char_p),
        ("absolute_rate", ctypes.c_double),
        ("absolute_pitch", ctypes.c_double),
        ("absolute_volume", ctypes.c_double),
        ("relative_rate", ctypes.c_double),
        ("relative_pitch", ctypes.c_double),
        ("relative_volume", ctypes.c_double),
        ("punctuation_mode", ctypes.c_int),
        ("punctuation_list", ctypes.c_char_p),
        ("capitals_mode", ctypes.c_int),
        ("flags", ctypes.c_int),
    ]


_MESSAGE_TEXT = 0  # RHVoice_message_text


def rhvoice_library(name: str = RHVOICE_LIBRARY) -> ctypes.CDLL | None:
    """libRHVoice, or None when it is not installed."""
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.RHVoice_get_version.restype = ctypes.c_char_p
    lib.RHVoice_new_tts_engine.restype = ctypes.c_void_p
    lib.RHVoice_new_tts_engine.argtypes = [ctypes.POINTER(_InitParams)]
    lib.RHVoice_delete_tts_engine.argtypes = [ctypes.c_void_p]
    lib.RHVoice_new_message.restype = ctypes.c_void_p
    lib.RHVoice_new_message.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint, ctypes.c_int,
        ctypes.POINTER(_SynthParams), ctypes.c_void_p,
    ]
    lib.RHVoice_delete_message.argtypes = [ctypes.c_void_p]
    lib.RHVoice_speak.restype = ctypes.c_int
    lib.RHVoice_speak.argtypes = [ctypes.c_void_p]
    return lib


class RhvoiceLibraryTts:
    """An RHVoice voice spoken in this process through libRHVoice's C API (ctypes).

    The voice's data is loaded once, at `load`: a sentence's first audio then comes in a
    few milliseconds, where a new `RHVoice-test` process spends about 125 ms loading it
    (measured on the 2-core test machine; docs/decisions.md). Sentences are spoken one at a
    time on the voice's own worker thread; a consumer that stops listening (a barge-in)
    stops the synthesis at its next block of samples.
    """

    engine = "libRHVoice"

    def __init__(self, voice: str, library: ctypes.CDLL) -> None:
        self.name = f"rhvoice:{voice.lower()}"
        self.voice = voice.lower()
        self.sample_rate = DEFAULT_RATE
        self._lib = library
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rhvoice")
        self._engine: int | None = None
        self._emit: Callable[[bytes], bool] | None = None  # the sentence being spoken
        # the callbacks must outlive the engine: ctypes frees a callback it no longer holds
        self._callbacks = _Callbacks(
            set_sample_rate=_SetSampleRate(self._on_sample_rate),
            play_speech=_PlaySpeech(self._on_samples),
        )

    def _on_sample_rate(self, rate: int, _user: object) -> int:
        self.sample_rate = rate
        return 1

    def _on_samples(self, samples: Any, count: int, _user: object) -> int:
        emit = self._emit
        if emit is None:
            return 0
        return 1 if emit(ctypes.string_at(samples, count * 2)) else 0

    async def load(self) -> None:
        if self._engine is not None:
            return
        if self.voice not in rhvoice_voices():
            raise EngineUnavailable(
                f"RHVoice voice {self.voice!r} is not installed; {rhvoice_fix(self.voice)}"
            )
        loop = asyncio.get_running_loop()
        self._engine = await loop.run_in_executor(self._executor, self._new_engine)
        probe = b"".join([chunk async for chunk in self.synthesize("a")])
        if not probe:
            raise EngineUnavailable(f"RHVoice voice {self.voice!r} produced no audio")

    def _new_engine(self) -> int:
        params = _InitParams(
            data_path=RHVOICE_DATA.encode(), config_path=RHVOICE_CONFIG.encode(),
            resource_paths=None, callbacks=self._callbacks, options=0,
        )
        engine = self._lib.RHVoice_new_tts_engine(ctypes.byref(params))
        if not engine:
            raise EngineUnavailable(
                f"libRHVoice could not start (data {RHVOICE_DATA}, config {RHVOICE_CONFIG}); "
                f"{rhvoice_fix(self.voice)}"
            )
        return int(engine)

    def _speak(self, sentence: str, emit: Callable[[bytes], bool], _stop: object) -> None:
        text = sentence.encode()
        params = _SynthParams(
            voice_profile=self.voice.encode(), relative_rate=1.0, relative_pitch=1.0,
            relative_volume=1.0,
        )
        message = self._lib.RHVoice_new_message(
            self._engine, text, len(text), _MESSAGE_TEXT, ctypes.byref(params), None
        )
        if not message:
            raise RuntimeError(f"libRHVoice refused the text {sentence!r}")
        self._emit = emit
        try:
            self._lib.RHVoice_speak(message)
        finally:
            self._emit = None
            self._lib.RHVoice_delete_message(message)

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        if self._engine is None:
            await self.load()
        for sentence in split_sentences(text):
            speak = functools.partial(self._speak, sentence)
            async for pcm in stream_pushed(self._executor, speak):
                yield pcm


def rhvoice(voice: str) -> TextToSpeech:
    """The RHVoice engine for `voice`: in process when libRHVoice is installed, otherwise
    one `RHVoice-test` process per sentence."""
    library = rhvoice_library()
    return RhvoiceLibraryTts(voice, library) if library is not None else RhvoiceTts(voice)
