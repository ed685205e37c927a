"""One caller turn in text, through any `Mind` (mind.py): what the HTTP API's /chat and
/process_call and `secretary chat` use instead of a telephone.

A text turn is never cut short: the answer's words are read to the end (a model's pieces as
they are written), the mind is told the caller "heard" all of them, and its `Reply` is what
to act on, as on a call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ari_app.mind.mind import Mind, Reply
from ari_app.tts.chunker import FLUSH


@dataclass(frozen=True)
class TextTurn:
    reply: Reply  # what to act on: its text, intent and actions
    said: str  # every word of the answer, a filler phrase included (a model was slow)


async def text_turn(mind: Mind[Any], caller_text: str) -> TextTurn:
    """Ask `mind` for its answer to `caller_text`, read its words in full, and tell it they
    were all heard. A model that fails is the mind's business (the rules answer instead)."""
    answer = mind.answer(caller_text)
    if isinstance(answer.words, str):
        said = answer.words
    else:
        pieces = [" " if piece == FLUSH else piece async for piece in answer.words]
        said = "".join(pieces).strip()  # a filler phrase ends with FLUSH: a space here
    reply = mind.heard(answer, said, interrupted=False, failed=False)
    return TextTurn(reply, said)
