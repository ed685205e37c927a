"""The real speech engines: RHVoice, Piper and espeak-ng speak, Whisper base hears them back.

Needs the Debian packages rhvoice, rhvoice-russian, rhvoice-english and espeak-ng, and the
Python packages of pyproject.toml. The Whisper model is assembled by scripts/setup-models
(run here if models/whisper-base is missing). No Asterisk needed.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soxr

from ari_app.errors import EngineUnavailable
from ari_app.models import whisper_base_expected_size, whisper_dir_problem, whisper_model_dir
from ari_app.stt.whisper import WhisperStt
from ari_app.tts import FallbackTts, TextToSpeech, build_tts
from ari_app.tts.base import WavStreamReader
from ari_app.tts.espeak import EspeakTts
from ari_app.tts.rhvoice import RhvoiceLibraryTts, RhvoiceTts, rhvoice_library

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"

RU_HOURS = "Здравствуйте! Мы работаем с понедельника по пятницу, с девяти утра до шести вечера."
EN_HOURS = (
    "Hello! Our office is open from Monday to Friday. "
    "Please leave your name and phone number after the tone."
)


@pytest.fixture(scope="module")
def whisper() -> WhisperStt:
    """Whisper base from models/whisper-base, assembled first if needed (loaded lazily)."""
    model_dir = whisper_model_dir(MODELS)
    if whisper_dir_problem(model_dir, whisper_base_expected_size()) is not None:
        setup = subprocess.run(
            [sys.executable, str(REPO / "scripts" / "setup-models"), "--models-dir", str(MODELS)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        problem = whisper_dir_problem(model_dir)
        assert problem is None, f"{problem}\n{setup.stdout}\n{setup.stderr}"
    return WhisperStt(model_dir)


def to_16k(pcm: bytes, rate: int) -> bytes:
    samples = np.frombuffer(pcm, dtype="<i2")
    return np.asarray(soxr.resample(samples, rate, 16000), dtype="<i2").tobytes()


async def speak(tts: TextToSpeech, text: str) -> tuple[list[bytes], int]:
    await tts.load()
    chunks = [c async for c in tts.synthesize(text)]
    return chunks, tts.sample_rate


def assert_plain_pcm(chunks: list[bytes], rate: int, min_s: float, max_s: float) -> None:
    assert chunks, "no audio"
    assert not chunks[0].startswith(b"RIFF"), "a WAV header was yielded as audio"
    assert all(len(c) % 2 == 0 for c in chunks)
    pcm = b"".join(chunks)
    assert b"RIFF" not in pcm[:64] and b"WAVEfmt" not in pcm
    duration = len(pcm) / 2 / rate
    assert min_s < duration < max_s, duration
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    rms = float(np.sqrt(np.mean(samples**2)))
    assert rms > 300, f"audio is (nearly) silent, rms={rms:.0f}"


def assert_words(text: str, words: list[str]) -> None:
    lowered = text.lower()
    missing = [w for w in words if w not in lowered]
    assert not missing, f"missing {missing} in transcript {text!r}"


async def test_rhvoice_anna_russian_round_trip(whisper: WhisperStt) -> None:
    tts = build_tts("rhvoice", "anna")
    chunks, rate = await speak(tts, RU_HOURS)
    assert rate == 24000
    assert_plain_pcm(chunks, rate, 3.0, 15.0)
    transcript = await whisper.transcribe(to_16k(b"".join(chunks), rate), "ru")
    assert transcript.language == "ru"
    assert transcript.audio_s > 3.0
    assert transcript.text == transcript.text.strip()
    assert_words(
        transcript.text, ["здравствуйте", "работаем", "понедельник", "пятниц", "утра", "вечера"]
    )


async def test_rhvoice_in_process_speaks_as_the_program_does() -> None:
    """scripts/setup installs libRHVoice, so the voice is spoken in this process; it makes
    the same audio as one RHVoice-test process per sentence, and its first audio comes
    before a new process could have loaded the voice (a ratio in one run, not a time)."""
    tts = build_tts("rhvoice", "anna")
    assert isinstance(tts, RhvoiceLibraryTts), "libRHVoice (librhvoice5) is not installed"
    program = RhvoiceTts("anna")
    await tts.load()
    await program.load()
    text = "Мы работаем с понедельника по четверг."
    mine, rate = await speak(tts, text)
    theirs, their_rate = await speak(program, text)
    assert rate == their_rate == 24000
    a = np.frombuffer(b"".join(mine), dtype=np.int16).astype(np.float64)
    b = np.frombuffer(b"".join(theirs), dtype=np.int16).astype(np.float64)
    assert abs(len(a) - len(b)) <= 0.02 * len(b)
    n = min(len(a), len(b))
    assert np.corrcoef(a[:n], b[:n])[0, 1] > 0.9

    async def first_audio(voice: TextToSpeech) -> float:
        started = time.perf_counter()
        async with contextlib.aclosing(voice.synthesize("Да.")) as stream:
            async for _chunk in stream:
                return time.perf_counter() - started
        raise AssertionError("no audio")

    assert await first_audio(tts) < await first_audio(program)


async def test_rhvoice_in_process_stops_when_the_listener_does() -> None:
    """A barge-in closes the reply's audio stream mid sentence; the next sentence is spoken
    whole."""
    library = rhvoice_library()
    assert library is not None
    tts = RhvoiceLibraryTts("anna", library)
    async with contextlib.aclosing(tts.synthesize(RU_HOURS)) as stream:
        async for _chunk in stream:
            break
    chunks, rate = await speak(tts, "Секретарь сейчас ответит.")
    assert_plain_pcm(chunks, rate, 0.8, 6.0)


def test_without_librhvoice_rhvoice_runs_the_program() -> None:
    assert rhvoice_library("libRHVoice-not-installed.so.0") is None


async def test_unknown_rhvoice_voice_is_refused_in_process_too() -> None:
    library = rhvoice_library()
    assert library is not None
    with pytest.raises(EngineUnavailable, match="apt-get install"):
        await RhvoiceLibraryTts("no-such-voice", library).load()


async def test_piper_joe_english_round_trip(whisper: WhisperStt) -> None:
    tts = build_tts("piper", "en_US-joe-medium")
    chunks, rate = await speak(tts, EN_HOURS)
    assert rate == 22050
    assert_plain_pcm(chunks, rate, 3.0, 15.0)
    transcript = await whisper.transcribe(to_16k(b"".join(chunks), rate), "en")
    assert_words(transcript.text, ["office", "monday", "friday", "name", "phone number"])


async def test_piper_first_chunk_arrives_before_the_rest_is_synthesized() -> None:
    tts = build_tts("piper", "en_US-joe-medium")
    await tts.load()
    text = (
        "Thank you for calling. "
        "Our office is open from Monday to Friday, from nine in the morning to six in the "
        "evening. On Saturdays we work until two in the afternoon, and on Sundays we are "
        "closed. If you would like to book an appointment, please tell me your name, your "
        "phone number and a convenient time. We will call you back as soon as possible."
    )
    started = time.perf_counter()
    arrivals: list[float] = []
    sizes: list[int] = []
    async for chunk in tts.synthesize(text):
        arrivals.append(time.perf_counter() - started)
        sizes.append(len(chunk))
    total = time.perf_counter() - started
    assert len(arrivals) >= 4, "expected one chunk per sentence at least"
    # The first sentence's audio was handed over while later sentences were still being
    # synthesized: it arrived before the last chunk, and carried only part of the audio.
    assert arrivals[0] < arrivals[-1] <= total
    assert sizes[0] < sum(sizes) / 3


async def test_espeak_produces_audio_of_plausible_duration() -> None:
    for voice, text in (
        ("en", "This is the backup voice of the secretary."),
        ("ru", "Это запасной голос секретаря."),
    ):
        tts = EspeakTts(voice)
        chunks, rate = await speak(tts, text)
        assert rate == 22050
        # about six words: one to six seconds at espeak-ng's default 175 words per minute
        assert_plain_pcm(chunks, rate, 1.0, 6.0)


async def test_missing_whisper_dir_names_setup_models(tmp_path: Path) -> None:
    stt = WhisperStt(tmp_path / "no-such-model")
    with pytest.raises(EngineUnavailable, match="setup-models") as info:
        await stt.load()
    assert "Whisper model not found at" in str(info.value)
    assert str(tmp_path / "no-such-model") in str(info.value)


async def test_unknown_rhvoice_voice_is_refused_with_the_package_to_install() -> None:
    # RHVoice-test itself would silently speak with another voice.
    with pytest.raises(EngineUnavailable, match="apt-get install"):
        await RhvoiceTts("no-such-voice").load()


async def test_fallback_to_espeak_when_rhvoice_voice_is_missing() -> None:
    tts = FallbackTts([RhvoiceTts("no-such-voice"), EspeakTts("ru")], sample_rate=16000)
    chunks = [c async for c in tts.synthesize("Секретарь сейчас ответит.")]
    assert tts.last_engine is not None and tts.last_engine.name == "espeak:ru"
    assert tts.failures and tts.failures[0][0] == "rhvoice:no-such-voice"
    assert_plain_pcm(chunks, 16000, 0.8, 6.0)


def test_wav_reader_strips_a_real_streaming_header_fed_byte_by_byte() -> None:
    wav = subprocess.run(
        ["espeak-ng", "-v", "en", "--stdout", "Testing the header."],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    assert wav[:4] == b"RIFF"
    whole = WavStreamReader()
    expected = whole.feed(wav)
    trickle = WavStreamReader()
    got = b"".join(trickle.feed(wav[i : i + 1]) for i in range(len(wav)))
    trickle.finish()
    assert trickle.format == whole.format
    assert trickle.format is not None and trickle.format.sample_rate == 22050
    assert got == expected == wav[44 : 44 + len(expected)]
    assert len(expected) >= len(wav) - 45
