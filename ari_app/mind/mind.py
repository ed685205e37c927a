"""The one interface the call session talks to: the secretary's mind, whether the rules
alone (dialogue.py) or the rules with a language model (llm_dialogue.py).

Per caller turn the session asks for an `Answer` (words to speak: a text, or pieces of a
text still being written), speaks it, then tells the mind what the caller heard of it
(`heard`) and gets back the `Reply` to act on: its intent and its actions (a message to
keep, a transfer, the end of the call). A reply withdrawn before the caller heard it is
undone with `checkpoint`/`restore`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar, runtime_checkable

from ari_app.mind.message import Message
from ari_app.mind.staff import TransferRequest

FailReason = Literal["busy", "no_answer", "declined", "failed"]  # why a transfer did not happen


@dataclass(frozen=True)
class Reply:
    """What the secretary says and does in one turn."""

    text: str
    intent: str
    end_call: bool = False
    transfer: TransferRequest | None = None  # put the caller through to this
    message: Message | None = None  # a finished message to hand on


@dataclass
class MindFigures:
    """What the mind measured while it answered (a language model's, when one wrote)."""

    first_event_ms: float | None = None  # request sent -> first event of any kind
    first_token_ms: float | None = None  # the provider's own time to its first text
    filler: bool = False  # a filler phrase was said while the model was slow
    unavailable: bool = False  # no model answered: the rules did


class Answer:
    """The mind's answer to one caller turn, before it is spoken.

    `words` is the text known in full, or its pieces as they are written (a model
    streaming). `reply` holds the intent and actions: at once for a text, and for pieces
    once they have all been written (None until then, or for good if they were cut short).
    """

    def __init__(
        self, words: str | AsyncIterator[str], intent: str, reply: Reply | None = None
    ) -> None:
        self.words = words
        self.intent = intent
        self.reply = reply
        self.figures = MindFigures()

    @classmethod
    def of(cls, reply: Reply) -> Answer:
        """A reply known in full."""
        return cls(reply.text, reply.intent, reply)


State = TypeVar("State")  # a mind's own snapshot of its conversation


@runtime_checkable
class Mind(Protocol[State]):
    """One call's conversation, in one language."""

    def greeting(self) -> str: ...

    def reprompt(self) -> str:
        """Said when the caller has been silent for a while."""
        ...

    def goodbye(self) -> str:
        """Said when the secretary ends the call herself."""
        ...

    def handing_back(self, to_staff: bool) -> str:
        """Said when the app stops mid-call: the caller goes to the line's staff, or (a
        line without them) is asked to call again."""
        ...

    def hold_on(self) -> str:
        """Said when the caller's words are slow to come (the box is busy): they know
        they were heard. Not part of the conversation's history."""
        ...

    def answer(self, caller_text: str) -> Answer:
        """The answer to what the caller said; its `figures` get the mind's own
        measurements (a model's first token, say) as it is made."""
        ...

    def heard(self, answer: Answer, said: str, *, interrupted: bool, failed: bool) -> Reply:
        """What the caller heard of `answer`: `said`, the sentences played in full;
        `interrupted`, the caller cut it short; `failed`, its speech could not be made
        to the end. The mind keeps to what was heard; the Reply returned is what to act
        on."""
        ...

    def awaits_number(self) -> bool:
        """The secretary has just asked for a phone number: the caller's next turn is most
        likely one (the recogniser is told so)."""
        ...

    def on_dtmf(self, digit: str) -> Reply | None:
        """A key pressed; None when the conversation has no use for it."""
        ...

    def transfer_failed(self, request: TransferRequest, reason: FailReason) -> Reply:
        """The caller is back after a transfer that did not happen."""
        ...

    def unfinished(self) -> Message | None:
        """Asked once when the call ends: a message the caller had begun and not confirmed
        (they hung up, the line dropped, the app stopped), with what was gathered so far;
        None when there is none or it holds nothing to act on."""
        ...

    def checkpoint(self) -> State:
        """The conversation's state now, to `restore` if the answer about to be made is
        withdrawn unheard (the caller went on speaking)."""
        ...

    def restore(self, state: State) -> None: ...
