"""A reply prepared while the caller pauses, before their turn is judged over.

At a pause the words so far are guessed (`Turn.at_pause`). If the turn ends there, its
words are that guess, and so, most often, is the answer. A `ReplyDraft` asks the mind what
it would answer to the guess (undoing what the asking changed: `checkpoint`/`restore`) and
starts synthesising the answer's first sentence at once. When the turn is over and its real
answer begins with that same sentence, the sentence's audio is already made (or under way)
and the reply starts at once; otherwise the draft is dropped and nothing of it is heard.

Only an answer known in full is drafted: a language model's answer is a request still to
be made, and making it on a guess would spend the provider's time on words that may not
be wanted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from ari_app.mind.mind import Mind
from ari_app.tts.base import TextToSpeech
from ari_app.tts.chunker import reply_pieces

log = logging.getLogger(__name__)


def first_sentence(text: str) -> str | None:
    """The first piece the speaker will synthesise of a reply known in full."""
    first = reply_pieces(text)[0]
    return first if first.strip() else None


class ReplyDraft:
    """The first sentence of the answer to a guessed turn, being synthesised."""

    def __init__(self, heard: str, piece: str, tts: TextToSpeech) -> None:
        self.heard = heard  # the guessed words it answers
        self.piece = piece  # the sentence being synthesised
        self.tts = tts
        self._chunks: list[bytes] = []
        self._more = asyncio.Event()
        self._done = False
        self._error: Exception | None = None
        self._task = asyncio.create_task(self._synthesise(), name="reply-draft")

    @classmethod
    async def of(cls, mind: Mind[Any], heard: str, tts: TextToSpeech) -> ReplyDraft | None:
        """A draft of the answer to `heard`, or None when there is nothing to draft (a
        model's answer, an empty one). The mind is left as it was."""
        before = mind.checkpoint()
        try:
            answer = mind.answer(heard)
        finally:
            mind.restore(before)
        if not isinstance(answer.words, str):
            close = getattr(answer.words, "aclose", None)  # never started: nothing to undo
            if close is not None:
                await close()
            return None
        piece = first_sentence(answer.words)
        return None if piece is None else cls(heard, piece, tts)

    async def _synthesise(self) -> None:
        try:
            async for chunk in self.tts.synthesize(self.piece):
                self._chunks.append(chunk)
                self._more.set()
        except Exception as exc:  # told to whoever plays it; a dropped draft has no one
            self._error = exc
        finally:
            self._done = True
            self._more.set()

    def voice(self) -> TextToSpeech:
        """The synthesiser to speak the real answer with: the drafted sentence comes from
        the draft, every other from the synthesiser itself."""
        return DraftedVoice(self)

    async def replay(self) -> AsyncIterator[bytes]:
        """The drafted sentence's audio: what is made, then the rest as it comes."""
        sent = 0
        while True:
            while sent < len(self._chunks):
                sent += 1
                yield self._chunks[sent - 1]
            if self._done:
                break
            self._more.clear()
            if sent == len(self._chunks) and not self._done:
                await self._more.wait()
        if self._error is not None:
            raise self._error

    async def drop(self) -> None:
        """The turn went on, or its answer is another: stop synthesising."""
        if not self._task.done():
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class DraftedVoice:
    """A synthesiser whose first use on the drafted sentence plays the draft."""

    def __init__(self, draft: ReplyDraft) -> None:
        self.draft = draft
        self.used = False  # the draft was played

    @property
    def name(self) -> str:
        return self.draft.tts.name

    @property
    def sample_rate(self) -> int:
        return self.draft.tts.sample_rate

    async def load(self) -> None:
        await self.draft.tts.load()

    def synthesize(self, text: str) -> AsyncIterator[bytes]:
        if not self.used and text == self.draft.piece:
            self.used = True
            return self.draft.replay()
        return self.draft.tts.synthesize(text)
