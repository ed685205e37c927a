"""Has the caller finished? Judged at a pause from the sound of the turn, not only from
the length of the silence.

A fixed silence (`turn.end_silence_ms`, 600 ms) is most of the time between the caller's
last word and our answer, and people leave about 200 ms. At a pause of
`turn.speculate_after_ms` (150 ms) the words are guessed; once the same pause has lasted
`turn.judge_after_ms` (250 ms) the end-of-turn model (Smart Turn v3.2, `smart_turn.py`)
hears the turn so far, that pause included; when it says the caller has finished, the
listener ends the turn there. The words count too: a whole question ("... в субботу?")
ends the turn as soon as they are in, whatever the model says, and so does a goodbye
("Спасибо, до свидания!") (`turn/rules.says_all`). When neither says the caller has
finished, or neither is done yet, the silence rule still ends the turn.

The words start earlier than the model because Whisper takes 250-450 ms on a long turn on
a small CPU: started at 250 ms they were often still running when the 600 ms silence ended
the turn. The model keeps its longer pause (at 120-150 ms it calls more unfinished English
ends finished), and is asked once the guess at the words is in, and only when they do not
already end the turn. Both at once slow each other (on 2 cores a guess took 40-50 ms longer
with the model beside it), and the reply waits for the words in any case, so asking the
model after them costs a turn the model ends about 30 ms (its own time on a free core) and
saves every turn the words end the whole of it.

The model alone is not trusted with what the words say: a turn ended early whose
transcript ends in a conjunction, a preposition or a number waits for the rest
(`turn/rules.py`, in `Turn.hear`), and a caller who goes on before hearing our answer
has it withdrawn and both parts answered as one (`turn/timings.withdrawn_unheard`).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from ari_app.stt.base import Transcript
from ari_app.turn.endpointing import Utterance
from ari_app.turn.rules import says_all
from ari_app.turn.smart_turn import SmartTurn, TurnEndGuess

log = logging.getLogger(__name__)


class TurnEndModel:
    """The end-of-turn model shared by every call: one worker thread, so a guess never
    takes a core from more than one other guess."""

    def __init__(self, model: SmartTurn) -> None:
        self.model = model
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="turn-end")

    async def predict(self, pcm: bytes, rate: int) -> TurnEndGuess:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.model.predict, pcm, rate)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class TurnEndJudge:
    """One call's guesses: at most one in flight; each is kept by the speech end of the
    pause it was made at, so a guess about an earlier pause never ends a later one."""

    def __init__(self, model: TurnEndModel, rate: int, threshold: float, call_id: str,
                 language: str) -> None:
        self.model = model
        self.language = language
        self.rate = rate
        self.threshold = threshold
        self.call_id = call_id
        self._pending: asyncio.Task[TurnEndGuess] | None = None
        self._verdicts: dict[float, bool] = {}  # the model's, by the pause's speech end
        self._asked: float | None = None  # speech end of a pause whose words say all
        self._words: tuple[float, asyncio.Future[Transcript]] | None = None
        self._closed = False

    def guessed(self, speech_end: float, words: asyncio.Future[Transcript]) -> None:
        """The guess at the words started at the pause after `speech_end` (earlier than
        the model's pause): once in, they may end the turn (`heard`), and the model,
        asked at the same pause later, waits for them."""
        self._words = (speech_end, words)
        words.add_done_callback(lambda done: self.heard(speech_end, _text(done)))

    def at_pause(self, snapshot: Utterance,
                 words: asyncio.Future[Transcript] | None = None) -> None:
        """A pause long enough for the model: judge whether the turn so far is complete.
        `words`, the guess at the turn's words for this pause (else the one `guessed`
        for it, if any): the model waits for it, and is not asked when the words already
        say the caller has finished."""
        if words is None and self._words is not None and (
            self._words[0] == snapshot.speech_end
        ):
            words = self._words[1]
        if words is None:
            self._predict(snapshot)
            return

        def judge(done: asyncio.Future[Transcript]) -> None:
            self.heard(snapshot.speech_end, _text(done))
            if self._asked != snapshot.speech_end and not self._closed:
                self._predict(snapshot)

        words.add_done_callback(judge)

    def _predict(self, snapshot: Utterance) -> None:
        if self._pending is not None and not self._pending.done():
            return
        speech_end = snapshot.speech_end
        task = asyncio.ensure_future(self.model.predict(snapshot.pcm, self.rate))
        self._pending = task

        def keep(done: asyncio.Task[TurnEndGuess]) -> None:
            if done.cancelled():
                return
            error = done.exception()
            if error is not None:
                log.warning("call %s: end-of-turn model failed: %s", self.call_id, error)
                return
            guess = done.result()
            self._verdicts = {speech_end: guess.probability >= self.threshold}
            log.debug("call %s: turn complete p=%.2f (%.0f ms)", self.call_id,
                      guess.probability, guess.elapsed_s * 1000)

        task.add_done_callback(keep)

    def heard(self, speech_end: float, text: str) -> None:
        """The words guessed at the pause after `speech_end`."""
        self._asked = speech_end if says_all(text, self.language) else None

    def finished(self, speech_end: float) -> bool:
        """The pause after `speech_end` ends the turn: the model heard it and said the
        caller has finished, or the words guessed there ask a whole question or say
        goodbye."""
        return self._verdicts.get(speech_end, False) or self._asked == speech_end

    async def close(self) -> None:
        self._closed = True
        self._words = None
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()
            await asyncio.gather(self._pending, return_exceptions=True)


def _text(words: asyncio.Future[Transcript]) -> str:
    """A finished guess's words; nothing for one that failed or was dropped."""
    if words.cancelled() or words.exception() is not None:
        return ""
    return words.result().text
