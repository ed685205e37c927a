"""Cuts a reply that arrives as a token stream (an LLM writing) into speakable pieces, each
given to the synthesiser as soon as it is complete: whole sentences, or, when a sentence
runs long, a clause ending at a comma, semicolon, colon or dash."""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator

from ari_app.tts.text import split_sentences

CLAUSE_CHARS = 90  # a sentence longer than this is spoken clause by clause
_CLAUSE_END = re.compile(r"[,;:]\s+|\s[—–-]\s+")


class SpeakableChunker:
    def __init__(self, clause_chars: int = CLAUSE_CHARS) -> None:
        self.clause_chars = clause_chars
        self._buf = ""

    def push(self, token: str) -> list[str]:
        """Add text; return the pieces that are now complete."""
        self._buf += token
        pieces = split_sentences(self._buf)
        out: list[str] = []
        if len(pieces) > 1:
            # all but the last are complete; the last may still grow
            out = pieces[:-1]
            consumed = self._buf.rfind(pieces[-1])
            self._buf = self._buf[consumed:] if consumed >= 0 else pieces[-1]
        if len(self._buf) > self.clause_chars:
            cut = None
            for match in _CLAUSE_END.finditer(self._buf):
                if match.start() >= 20:  # not a tiny first clause
                    cut = match.end()
            if cut is not None:
                out.append(self._buf[:cut].strip())
                self._buf = self._buf[cut:]
        return [p for p in out if p]

    def flush(self) -> list[str]:
        """The stream ended: whatever is left."""
        rest, self._buf = self._buf.strip(), ""
        return split_sentences(rest) if rest else []


# A token that ends the current piece at once, so that it is spoken now rather than when the
# next words arrive (a filler said while the language model is still thinking).
FLUSH = "\f"


async def speakable_pieces(tokens: AsyncIterable[str]) -> AsyncIterator[str]:
    chunker = SpeakableChunker()
    async for token in tokens:
        if token == FLUSH:
            for piece in chunker.flush():
                yield piece
            continue
        for piece in chunker.push(token):
            yield piece
    for piece in chunker.flush():
        yield piece


FIRST_CLAUSE_MIN_CHARS = 20  # neither part of a first sentence cut in two is shorter


def reply_pieces(text: str, clause_chars: int = CLAUSE_CHARS) -> list[str]:
    """A whole reply known up front, as the pieces it is synthesised in: its sentences,
    the first of them cut after its first clause when it runs long, so that the caller
    hears the answer begin after a clause's synthesis rather than a long sentence's
    ("We are open Monday to Thursday from nine a.m. to six p.m., | Friday ...")."""
    pieces = split_sentences(text) or [text]
    first = pieces[0]
    if len(first) > clause_chars:
        for match in _CLAUSE_END.finditer(first):
            head, rest = first[: match.end()].strip(), first[match.end():].strip()
            if len(head) >= FIRST_CLAUSE_MIN_CHARS and len(rest) >= FIRST_CLAUSE_MIN_CHARS:
                return [head, rest, *pieces[1:]]
    return pieces


async def pieces_of(text: str) -> AsyncIterator[str]:
    """A whole reply known up front, as pieces (`reply_pieces`)."""
    for piece in reply_pieces(text):
        yield piece
