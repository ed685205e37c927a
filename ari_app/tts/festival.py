"""Festival (`text2wave`) with the Russian male voice msu_ru_nsh from Debian's festvox-ru.

One `text2wave` subprocess per sentence (UTF-8 text on stdin, WAV on stdout). text2wave writes
its WAV only when the sentence is done, so the next sentence is synthesized while the current
one is being played: the gap between sentences is hidden behind playback.

Festival's Russian front end is fragile: a token it has no letter-to-sound rule for (quotes,
brackets, "%", "9:30", a lone dash, emoji, accented Latin) makes it write nothing at all while
still exiting 0. `festival_text` rewrites text into what the voice can read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import unicodedata
from collections.abc import AsyncIterator

from ari_app.errors import EngineUnavailable
from ari_app.tts.base import (
    SubprocessTts,
    SubprocessTtsError,
    WavFormatError,
    WavStreamReader,
    wav_of_subprocess,
)
from ari_app.tts.text import split_sentences

log = logging.getLogger(__name__)

TEXT2WAVE_BINARY = "text2wave"
DEFAULT_VOICE = "msu_ru_nsh_clunits"
DEFAULT_RATE = 16000  # msu_ru_nsh; confirmed from the WAV header on load()
FIX = "install the Debian packages: apt-get install festival festvox-ru"

_VOICE_NAME = re.compile(r"^[a-z0-9_]+$")
# Characters the voice reads (letters, digits, and punctuation attached to a word).
_KEEP = re.compile(r"[^0-9A-Za-zА-Яа-яЁё\s.,?!'\-]")
_REPLACE = {
    "%": " процентов ",
    "№": " номер ",
    "&": " и ",
    "…": ".",
    "—": ",",
    "–": ",",
    ":": ",",
    ";": ",",
    "\u00a0": " ",
}
_PUNCT_RUN = re.compile(r"\s*([.,?!])[\s.,?!]*")
_PLUS_DIGIT = re.compile(r"\+\s*(?=\d)")
_DIGIT_COLON_DIGIT = re.compile(r"(?<=\d)[:.](?=\d\d\b)")
_DECIMAL = re.compile(r"(?<=\d)[.,](?=\d)")
_LONE_DASH = re.compile(r"(?<!\w)[-']+|[-']+(?!\w)")


def _strip_latin_accents(text: str) -> str:
    """é -> e, ß stays unknown (dropped later); Cyrillic й and ё are left alone."""
    out: list[str] = []
    for ch in text:
        if "\u00c0" <= ch <= "\u024f":
            base = unicodedata.normalize("NFD", ch)[0]
            out.append(base if base.isascii() else ch)
        else:
            out.append(ch)
    return "".join(out)


def festival_text(text: str) -> str:
    """Rewrite `text` so every token has a letter-to-sound rule in the msu_ru_nsh voice.

    Keeps letters (Cyrillic, Latin), digits and . , ? ! attached to words; turns
    "%", "№", "+7", "9:30", "3,5" into words or plain numbers; clause punctuation (: ; —) becomes a
    comma; quotes, brackets, emoji and other symbols are dropped. "" if nothing is readable.
    """
    text = _strip_latin_accents(unicodedata.normalize("NFC", text))
    text = _PLUS_DIGIT.sub(" плюс ", text)
    text = _DIGIT_COLON_DIGIT.sub(" ", text)
    text = _DECIMAL.sub(" запятая ", text)
    for src, dst in _REPLACE.items():
        text = text.replace(src, dst)
    text = _KEEP.sub(" ", text)
    text = _LONE_DASH.sub(" ", text)
    # Punctuation only right after a word, one mark per run: "слово , ,слово" -> "слово, слово".
    text = _PUNCT_RUN.sub(lambda m: m.group(1) + " ", text)
    words = text.split()
    while words and all(not ch.isalnum() for ch in words[0]):
        words.pop(0)
    text = " ".join(words)
    if not any(ch.isalnum() for ch in text):
        return ""
    return text


def _strict_text(text: str) -> str:
    """Last resort: letters and digits only, one final period."""
    words = re.sub(r"[^0-9A-Za-zА-Яа-яЁё]+", " ", text).split()
    return " ".join(words) + "." if words else ""


class FestivalTts(SubprocessTts):
    """Festival voice (default msu_ru_nsh_clunits, Russian male) as s16le at 16000 Hz."""

    engine = "Festival"

    def __init__(self, voice: str = DEFAULT_VOICE, binary: str = TEXT2WAVE_BINARY) -> None:
        if not _VOICE_NAME.match(voice):
            raise EngineUnavailable(
                f"invalid Festival voice name {voice!r} (letters, digits and _ only); {FIX}"
            )
        super().__init__(f"festival:{voice}", voice, binary, DEFAULT_RATE)

    def _fix(self) -> str:
        return FIX

    def _argv(self, exe: str) -> list[str]:
        return [exe, "-eval", f"(voice_{self.voice})"]

    async def _probe(self, exe: str) -> None:
        """Check the voice, and learn the rate from a one-word probe."""
        try:
            proc = await asyncio.create_subprocess_exec(
                *self._argv(exe),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err_bytes = await asyncio.wait_for(proc.communicate("да.\n".encode()), 60)
        except (OSError, TimeoutError) as exc:
            raise EngineUnavailable(f"Festival failed to start ({exc}); {FIX}") from exc
        err = err_bytes.decode("utf-8", "replace").strip()
        # An unknown voice function is reported on stderr only; text2wave still exits 0.
        if proc.returncode != 0 or "SIOD ERROR" in err:
            raise EngineUnavailable(
                f"Festival voice {self.voice!r} is not installed or failed "
                f"({err[:200] or f'exit status {proc.returncode}'}); {FIX}"
            )
        reader = WavStreamReader()
        try:
            pcm = reader.feed(out)
            reader.finish()
        except WavFormatError as exc:
            raise EngineUnavailable(
                f"Festival voice {self.voice!r} wrote no audio ({exc}); {FIX}"
            ) from exc
        if reader.format is None or len(pcm) < 2 * 800:
            raise EngineUnavailable(f"Festival voice {self.voice!r} produced no audio; {FIX}")
        self.sample_rate = reader.format.sample_rate

    async def _speak(self, text: str) -> bytes:
        """One text2wave run: the whole sentence as s16le."""
        assert self._exe is not None
        argv = self._argv(self._exe)
        return b"".join([
            pcm async for pcm in wav_of_subprocess(argv, text + "\n", self.sample_rate, "Festival")
        ])

    async def _sentence(self, sentence: str) -> bytes:
        """Speak one sentence; retry once with letters and digits only if Festival balks."""
        text = festival_text(sentence)
        if not text:
            return b""
        try:
            return await self._speak(text)
        except SubprocessTtsError as exc:
            strict = _strict_text(text)
            if not strict or strict == text:
                raise
            log.warning("Festival could not read %r (%s); retrying as %r", text, exc, strict)
            return await self._speak(strict)

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        await self.load()
        sentences = split_sentences(text)
        if not sentences:
            return
        # Synthesize sentence i+1 while sentence i is yielded (and played by the consumer).
        pending: asyncio.Task[bytes] | None = asyncio.ensure_future(self._sentence(sentences[0]))
        try:
            for i in range(len(sentences)):
                assert pending is not None
                pcm = await pending
                pending = (
                    asyncio.ensure_future(self._sentence(sentences[i + 1]))
                    if i + 1 < len(sentences)
                    else None
                )
                if pcm:
                    yield pcm
        finally:
            if pending is not None and not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pending
