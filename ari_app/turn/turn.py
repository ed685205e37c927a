"""One caller turn, from the moment the secretary listens for it to the reply it got.

A `Turn` owns the turn's audio (one cut of the call's tape, `docs/architecture.md`, "A turn
never loses audio"), the guesses at its words made at pauses, its words, its typed timings,
and whether it was withdrawn: the caller went on before hearing our reply, so the next
turn continues this one and the two are answered as one.

Its words come from the call's `TurnStream` (stt/turn_stream.py), whatever the engine. When
the words end mid phone number or mid phrase, or the caller already went on, the turn waits
for the rest (from the end of the caller's speech, so the wait does not depend on how fast
the recogniser is) and takes it in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from ari_app.mind.intents import only_greeting
from ari_app.stt.base import Transcript
from ari_app.stt.turn_stream import Audio, Heard, TurnStream
from ari_app.turn.endpointing import Utterance
from ari_app.turn.listener import Listener
from ari_app.turn.rules import ends_mid_number, ends_mid_phrase
from ari_app.turn.timings import CallerFigures, TurnTimings

log = logging.getLogger(__name__)

WENT_ON_WAIT_S = 0.5  # speech resumed while the words were made: how long to wait for it


@dataclass(frozen=True)
class RestWaits:
    """How long after the caller's speech to wait for the rest of words that are not whole
    (ms; 0 turns the wait off): a number being dictated, a phrase stopped mid way, a bare
    greeting (the silence that ends a turn, `turn.end_silence_ms`: a turn the end-of-turn
    model ended sooner waits that long). After our own greeting a caller's "Здравствуйте!"
    nearly always comes before what they want, often after a pause the model takes for the
    end ("Здравствуйте! [0.4 s] Подскажите, ...")."""

    digit_ms: int
    phrase_ms: int = 0
    greeting_ms: int = 0

    def after(self, text: str) -> tuple[int, str]:
        """How long to wait for more after words `text` (ms; 0: they are whole), and why."""
        if self.digit_ms and ends_mid_number(text):
            return self.digit_ms, "ends mid number"
        if self.phrase_ms and ends_mid_phrase(text):
            return self.phrase_ms, "ends mid phrase"
        if self.greeting_ms and only_greeting(text):
            return self.greeting_ms, "only greets"
        return 0, ""


class Turn:
    """One caller turn (see the module's docstring). `continues` is a turn withdrawn
    unheard: this one goes on from it, and its rows in the record are replaced."""

    def __init__(
        self,
        stream: TurnStream,
        listener: Listener,
        waits: RestWaits,
        call_id: str,
        *,
        continues: Turn | None = None,
    ) -> None:
        self.stream = stream
        self.listener = listener
        self.waits = waits
        self.call_id = call_id
        self.continues = continues
        self.audio: Utterance | None = None  # the whole turn's audio, once heard
        self.heard: Heard | None = None  # its words
        self.timings = TurnTimings()
        self.rows: list[int] = []  # this turn's rows in the call record
        self.withdrawn = False
        self.words_awaited = False  # the recogniser is making the words of speech it has

    @property
    def replaces(self) -> list[int]:
        """Rows of the record this turn's answer replaces (the turn it continues)."""
        return self.continues.rows if self.continues is not None else []

    @property
    def transcript(self) -> Transcript:
        assert self.heard is not None, "the turn has not been heard yet"
        return self.heard.transcript

    @property
    def text(self) -> str:
        return self.transcript.text

    def at_pause(self, snapshot: Utterance) -> asyncio.Future[Transcript] | None:
        """A pause in the caller's speech: the whole turn so far may end here, so its words
        may be started on. Returns the guess at them, if one was started."""
        return self.stream.guess(_audio(self._whole(snapshot)))

    def _whole(self, more: Utterance) -> Utterance:
        before = self.audio if self.audio is not None else (
            self.continues.audio if self.continues is not None else None
        )
        return more if before is None else self._join(before, more)

    async def hear(self, utterance: Utterance | None,
                   on_more: Callable[[Utterance], None] | None = None) -> Transcript:
        """The turn's words. `utterance` is the speech that ended it; None when nothing more
        came after the turn this one continues (its own words stand). `on_more` is told of
        each further speech the turn takes in (the caller went on), once it has ended."""
        started = self.listener.loop.time()
        prior = self.continues
        if utterance is None:
            assert prior is not None, "a turn with no speech continues a withdrawn one"
            self.audio, self.heard = prior.audio, prior.heard
        elif prior is None:
            self.words_awaited = True
            try:
                self.audio, self.heard = utterance, await self.stream.words(_audio(utterance))
            finally:
                self.words_awaited = False
        else:
            assert prior.audio is not None and prior.heard is not None
            await self._take_in(prior.heard, prior.audio, utterance)
        while (wait_s := self._rest_wait()) is not None:
            more = await self.listener.next_utterance(wait_s, on_pause=self.at_pause)
            if more is None:
                break
            if on_more is not None:
                on_more(more)
            assert self.audio is not None and self.heard is not None
            await self._take_in(self.heard, self.audio, more)
        audio, heard = self.audio, self.heard
        assert audio is not None and heard is not None
        self.timings.heard_by = heard.by
        self.timings.stt_remote_ms = heard.transcript.remote_ms
        self.timings.stt_remote = heard.transcript.source == "remote"
        self.timings.endpoint_ms = (audio.detected_at - audio.speech_end) * 1000
        self.timings.stt_ms = (self.listener.loop.time() - max(started, audio.detected_at)) * 1000
        return heard.transcript

    async def _take_in(self, first: Heard, before: Utterance, more: Utterance) -> None:
        """The caller went on: the turn is now its first part and `more`, heard as one."""
        whole = self._join(before, more)
        self.words_awaited = True
        try:
            self.heard = await self.stream.extend(first, _audio(more), _audio(whole))
        finally:
            self.words_awaited = False
        self.audio = whole
        self.timings.merged = True

    def _rest_wait(self) -> float | None:
        """How long to wait for more of this turn, or None when it is whole."""
        audio, heard = self.audio, self.heard
        assert audio is not None and heard is not None
        if self.listener.last_voiced_at > audio.detected_at:
            log.info("call %s: caller went on after %r", self.call_id, heard.text)
            return WENT_ON_WAIT_S
        wait_ms, why = self.waits.after(heard.text)
        if wait_ms:
            wait_s = max(0.0, audio.speech_end + wait_ms / 1000 - self.listener.loop.time())
            log.info("call %s: %r %s; waiting %.1f s for more",
                     self.call_id, heard.text, why, wait_s)
            return wait_s
        return None

    def _join(self, before: Utterance, more: Utterance) -> Utterance:
        """One turn out of two: one cut of the call's tape from the first part's pre-roll
        to the end of the second, so the pause between them is the caller's own audio."""
        return Utterance(
            pcm=self.listener.tape.cut(before.audio_start, more.audio_end),
            speech_start=before.speech_start,
            speech_end=more.speech_end,
            detected_at=more.detected_at,
            audio_start=before.audio_start,
            audio_end=more.audio_end,
        )

    def caller_figures(self, recording_origin: float | None) -> CallerFigures:
        """Where the turn's audio (what the recogniser heard) lies in the call's recording,
        in seconds from its start: to play a turn back, or to check what was heard."""
        if recording_origin is None or self.audio is None:
            return CallerFigures()
        return CallerFigures(round(self.audio.audio_start - recording_origin, 3),
                             round(self.audio.audio_end - recording_origin, 3))

    def withdraw(self, rows: list[int]) -> None:
        """Our reply to this turn went unheard: the caller was still speaking. The next
        turn continues this one and replaces `rows` (the turn's and the reply's)."""
        self.withdrawn = True
        self.rows = rows


def _audio(utterance: Utterance) -> Audio:
    return Audio(utterance.pcm, (utterance.audio_start, utterance.audio_end))
