"""Turning a caller's turn into text: speculative Whisper runs at pauses, the streaming
recogniser's final, and the merge of turns: the caller went on (while we transcribed, or
before hearing our answer), or stopped mid phone number."""

from __future__ import annotations

import asyncio
import logging
import re

from ari_app.media.resample import resample
from ari_app.stt.base import SpeechToText, Transcript
from ari_app.turn.endpointing import Utterance
from ari_app.turn.listener import Listener
from ari_app.turn.rules import ends_mid_number, ends_mid_phrase
from ari_app.turn.streaming import StreamingTurn

log = logging.getLogger(__name__)


def _retrieve(task: asyncio.Future[Transcript]) -> None:
    """Mark a dropped speculative transcription's outcome as seen."""
    if not task.cancelled():
        task.exception()


class TurnTranscriber:
    def __init__(
        self,
        stt: SpeechToText | None,
        stream: StreamingTurn | None,
        listener: Listener,
        rate: int,
        language: str,
        digit_wait_ms: int,
        call_id: str,
        phrase_wait_ms: int = 0,
    ) -> None:
        self.stt = stt
        self.stream = stream
        self.listener = listener
        self.rate = rate
        self.language = language
        self.digit_wait_ms = digit_wait_ms
        self.phrase_wait_ms = phrase_wait_ms
        self.call_id = call_id
        self._speculation: tuple[float, asyncio.Future[Transcript]] | None = None
        self._held: tuple[Utterance, Transcript] | None = None

    def speculate(self, snapshot: Utterance) -> None:
        """A pause in the caller's speech: start transcribing what was said so far. If the
        turn ends at this pause, the transcript is ready sooner; if the caller goes on, it
        is dropped."""
        if self._speculation is not None and not self._speculation[1].done():
            return  # Whisper cannot be interrupted: never queue a second guess behind one
        stt = self.stt
        assert stt is not None
        if self._held is not None:  # the turn goes on from the one held back
            snapshot = self._join(self._held[0], snapshot)
        pcm = resample(snapshot.pcm, self.rate, stt.sample_rate)
        task = asyncio.ensure_future(stt.transcribe(pcm, self.language))
        task.add_done_callback(_retrieve)
        self._speculation = (snapshot.speech_end, task)

    async def _first_transcript(self, utterance: Utterance, timings: dict[str, float]
                                ) -> Transcript:
        if self.stream is not None:
            timings["stt_streaming"] = 1.0
            return await self.stream.final()
        stt = self.stt
        assert stt is not None
        speculation, self._speculation = self._speculation, None
        if speculation is not None and speculation[0] == utterance.speech_end:
            try:
                transcript = await speculation[1]
                timings["stt_speculative"] = 1.0
                return transcript
            except Exception as exc:
                log.warning("call %s: speculative transcription failed: %s", self.call_id, exc)
        pcm = resample(utterance.pcm, self.rate, stt.sample_rate)
        return await stt.transcribe(pcm, self.language)

    def hold(self, utterance: Utterance, transcript: Transcript) -> None:
        """The caller went on before hearing our answer to this turn: the next turn is
        transcribed with it, as one."""
        self._held = (utterance, transcript)

    @property
    def holding(self) -> bool:
        return self._held is not None

    def release(self) -> tuple[Utterance, Transcript] | None:
        """The turn held back, if any (no more speech came: answer it after all)."""
        held, self._held = self._held, None
        return held

    async def transcribe(
        self, utterance: Utterance, timings: dict[str, float]
    ) -> tuple[Utterance, Transcript]:
        """Transcribe a turn. If the caller went on speaking meanwhile, or the words end
        mid phone number, wait for the rest and transcribe the whole again (a streaming
        recogniser has heard the rest already: its words are added). The wait for the
        rest of a number runs from the end of the caller's speech, not from the
        transcript, so it does not depend on how fast the recogniser is."""
        held = self.release()
        if held is None:
            transcript = await self._first_transcript(utterance, timings)
        else:
            timings["merged_turns"] = 1.0
            utterance = self._join(held[0], utterance)
            transcript = await self._first_transcript(utterance, timings)
            if self.stream is not None:  # it heard only the rest
                transcript = _added(held[1], transcript)
        while True:
            if self.listener.last_voiced_at > utterance.detected_at:
                wait_s = 0.5  # speech already resumed: take it into this turn
                log.info("call %s: caller went on after %r", self.call_id, transcript.text)
            elif wait_ms := self._more_coming(transcript.text):
                deadline = utterance.speech_end + wait_ms / 1000
                wait_s = max(0.0, deadline - self.listener.loop.time())
                log.info("call %s: %r ends mid phrase or number; waiting %.1f s for more",
                         self.call_id, transcript.text, wait_s)
            else:
                return utterance, transcript
            more = await self.listener.next_utterance(wait_s)
            if more is None:
                return utterance, transcript
            utterance, transcript = await self._joined((utterance, transcript), more)

    def _more_coming(self, text: str) -> int:
        """How long after the caller's speech to wait for the rest of these words (ms):
        a number being dictated, or a phrase stopped mid way; 0 when they may be whole."""
        if self.digit_wait_ms and ends_mid_number(text):
            return self.digit_wait_ms
        if self.phrase_wait_ms and ends_mid_phrase(text):
            return self.phrase_wait_ms
        return 0

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

    async def _joined(
        self, first: tuple[Utterance, Transcript], more: Utterance
    ) -> tuple[Utterance, Transcript]:
        """The turn with its rest: transcribed again as a whole, or, from a streaming
        recogniser, the words of the rest added.

        Whisper may stop at a long pause inside the audio and leave out all that follows
        (seen on a real call: "мой номер 896." for a number whose second half came 2.2 s
        later). So the rest is also transcribed on its own, and if the whole does not end
        with the rest's words, the turn is the first part's words and the rest's."""
        utterance = self._join(first[0], more)
        if self.stream is not None:
            return utterance, _added(first[1], await self.stream.final())
        stt = self.stt
        assert stt is not None
        whole = await stt.transcribe(resample(utterance.pcm, self.rate, stt.sample_rate),
                                     self.language)
        rest = await stt.transcribe(resample(more.pcm, self.rate, stt.sample_rate),
                                    self.language)
        if ends_with(whole.text, rest.text):
            return utterance, whole
        log.warning("call %s: the whole turn %r left out its rest %r; joining the parts",
                    self.call_id, whole.text, rest.text)
        return utterance, _added(first[1], rest)


def ends_with(whole: str, rest: str) -> bool:
    """`whole` ends with the words of `rest`, as far as two passes of a recogniser agree:
    its last digits (numbers are written "123 45 67" one time, "1234567" another), or its
    last word (by its first four letters)."""
    rest_digits = "".join(re.findall(r"[0-9]", rest))
    if rest_digits:
        return "".join(re.findall(r"[0-9]", whole)).endswith(rest_digits[-2:])
    rest_words = re.findall(r"[^\W\d_]+", rest.lower())
    if not rest_words:
        return True
    tail = {w[:4] for w in re.findall(r"[^\W\d_]+", whole.lower())[-len(rest_words) - 2 :]}
    return rest_words[-1][:4] in tail


def _added(first: Transcript, rest: Transcript) -> Transcript:
    return Transcript(
        f"{first.text} {rest.text}".strip(), first.language,
        first.audio_s + rest.audio_s, first.elapsed_s + rest.elapsed_s,
    )
