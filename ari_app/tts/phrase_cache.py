"""Short phrases said again are played from memory instead of being synthesised again.

A secretary says the same few pieces over and over: the greeting, "До свидания!", "Одну
минуту", the re-prompt, the answer to the commonest question. The speaker synthesises a
reply piece by piece (`tts/chunker.py`), and the first piece's synthesis is part of the time
between the caller's last word and our first (about 240 ms for Piper's first clause on this
CPU, seconds for XTTS). `PhraseCache` wraps one engine and keeps the audio of short pieces
it spoke in full, least recently used first out, bounded in pieces and in bytes.

Only audio the engine finished is kept: a piece cut short by a barge-in (the consumer closes
the stream), or one whose synthesis failed, is not. The cache wraps an engine, not a
`FallbackTts` chain, so what a fallback engine said is never replayed as the first
engine's voice.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator

from ari_app.tts.base import TextToSpeech

MAX_PHRASE_CHARS = 120
"""A piece longer than this is not kept: long pieces are rarely said twice word for word."""


class PhraseCache:
    """One engine with a memory of the short pieces it has spoken (see the module)."""

    def __init__(
        self,
        tts: TextToSpeech,
        max_phrases: int = 64,
        max_bytes: int = 16 * 1024 * 1024,
        max_chars: int = MAX_PHRASE_CHARS,
    ) -> None:
        if max_phrases < 1:
            raise ValueError(f"max_phrases must be at least 1, got {max_phrases}")
        self.tts = tts
        self.max_phrases = max_phrases
        self.max_bytes = max_bytes
        self.max_chars = max_chars
        self._kept: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    @property
    def name(self) -> str:
        return self.tts.name

    @property
    def sample_rate(self) -> int:
        return self.tts.sample_rate

    async def load(self) -> None:
        await self.tts.load()

    def __len__(self) -> int:
        return len(self._kept)

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        key = text.strip()
        audio = self._kept.get(key)
        if audio is not None:
            self._kept.move_to_end(key)
            self.hits += 1
            yield audio
            return
        kept = bool(key) and len(key) <= self.max_chars
        self.misses += kept
        chunks: list[bytes] = []
        stream = self.tts.synthesize(text)
        try:
            async for chunk in stream:
                if kept:
                    chunks.append(chunk)
                yield chunk
        finally:  # a listener who stops early stops the engine too (a barge-in)
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        # reached only when the engine finished and the listener took every chunk
        if kept:
            self._keep(key, b"".join(chunks))

    def _keep(self, key: str, audio: bytes) -> None:
        if not audio or len(audio) > self.max_bytes:
            return
        old = self._kept.pop(key, None)
        if old is not None:
            self._bytes -= len(old)
        self._kept[key] = audio
        self._bytes += len(audio)
        while len(self._kept) > self.max_phrases or self._bytes > self.max_bytes:
            _, dropped = self._kept.popitem(last=False)
            self._bytes -= len(dropped)
