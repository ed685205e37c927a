"""The hold cue (call/hold_cue.py): a caller whose words are slow to come (a busy
recogniser) hears "Секунду." `turn.hold_cue_ms` after their last word, then the
answer; the record keeps both in the answer's row. Words that come in time, a turn that
waits for the rest of a dictated number, and the cue turned off say nothing before the
answer; a caller who went on after their turn seemed over hears it 2 s after their last
word, not their first part's; a caller who speaks over the cue stops it, and what they
say is the rest of their turn.

Whole calls through the real `CallSession` on a virtual clock, with the fake parts of
test_session_clock.py (named there): the recogniser's `delay_s` is how long each of its
transcriptions takes."""

from __future__ import annotations

import asyncio

import pytest
from test_session_clock import END_SILENCE_S, PHRASES, RATE, Call, on_virtual_clock, tone

from ari_app.mind.phrases import PHRASES as STOCK

CUE = STOCK["hold_on"]["ru"]
CUE_MS = 2000


def test_slow_words_bring_the_cue_then_the_answer() -> None:
    async def call() -> None:
        c = Call(turn={"hold_cue_ms": CUE_MS})
        await c.greeted()
        c.stt.delay_s = 3.5  # every transcription: the turn's words come 3.5 s late
        stopped, first_sound = await c.ask(1.2, 440)
        cue_end = await c.line.quiet(after=first_sound, for_s=0.3)
        answered = await c.line.speaking(after=cue_end)
        await c.line.quiet(after=answered, for_s=1.0)
        assert first_sound - stopped == pytest.approx(CUE_MS / 1000, abs=0.1)
        assert answered - stopped >= 3.5  # the answer still waits for the words
        row = c.store.said("secretary")[1]
        assert row.startswith(CUE) and "понедельник" in row.lower()
        timings = c.store.timings("secretary")[1]
        assert timings["hold_cue_ms"] == pytest.approx(CUE_MS, abs=100)
        assert timings["v2v_ms"] >= 3500  # the answer's own voice to voice, not the cue's
        samples = c.session.ctx.metrics.samples()
        assert sum(v for k, v in samples.items() if k.startswith("secretary_hold_cues_total")) == 1
        c.hangs_up()
        await c.ended()
    on_virtual_clock(call)


@pytest.mark.parametrize(("delay_s", "cue_ms"), [(0.0, CUE_MS), (3.5, 0)])
def test_no_cue_when_the_words_come_in_time_or_it_is_off(delay_s: float, cue_ms: int) -> None:
    async def call() -> None:
        c = Call(turn={"hold_cue_ms": cue_ms})
        await c.greeted()
        c.stt.delay_s = delay_s
        stopped, answered = await c.ask(1.2, 440)
        # the first sound after the question is the answer itself
        assert answered - stopped >= max(END_SILENCE_S, delay_s)
        await c.line.quiet(after=answered, for_s=1.0)
        row = c.store.said("secretary")[1]
        assert CUE not in row and "понедельник" in row.lower()
        assert "hold_cue_ms" not in c.store.timings("secretary")[1]
        c.hangs_up()
        await c.ended()
    on_virtual_clock(call)


def test_no_cue_while_the_turn_waits_for_the_rest_of_a_number() -> None:
    async def call() -> None:
        c = Call(turn={"hold_cue_ms": CUE_MS, "digit_wait_ms": 3000})
        await c.greeted()
        # the words come at once and end in digits: the turn waits up to 3 s for more,
        # past the cue's 2 s; that wait is the caller's, not the recogniser's
        stopped, answered = await c.ask(2.0, 1400)
        assert answered - stopped >= 3.0
        await c.line.quiet(after=answered, for_s=1.0)
        assert c.store.said("caller")[-1] == PHRASES[1400]
        assert not any(CUE in row for row in c.store.said("secretary"))
        c.hangs_up()
        await c.ended()
    on_virtual_clock(call)


def test_the_cue_waits_from_the_last_word_of_a_caller_who_went_on() -> None:
    async def call() -> None:
        c = Call(turn={"hold_cue_ms": CUE_MS})
        await c.greeted()
        c.stt.delay_s = 3.5
        # the turn ends at a pause of 1 s; the caller then goes on, and is quiet again by
        # the time the cue would be due: the wait was theirs as much as the recogniser's.
        # The cue comes 2 s after their last word, the words of the whole still awaited
        c.line.say(tone(1.2, 440))
        await c.line.said.wait()
        stopped = c.line.last_voiced
        await asyncio.sleep(1.0)
        c.line.say(tone(0.6, 880))
        await c.line.said.wait()
        last_word = c.line.last_voiced
        first_sound = await c.line.speaking(after=stopped)
        assert first_sound - last_word == pytest.approx(CUE_MS / 1000, abs=0.1)
        answered = await c.line.speaking(after=first_sound + 0.6)  # a whole cue: 0.48 s
        await c.line.quiet(after=answered, for_s=1.0)
        assert len(c.store.said("caller")) == 1  # one turn, both parts
        row, timings = c.store.said("secretary")[1], c.store.timings("secretary")[1]
        assert row.startswith(CUE) and timings["merged_turns"], (row, timings)
        assert timings["hold_cue_ms"] == pytest.approx(CUE_MS, abs=100), timings
        c.hangs_up()
        await c.ended()
    on_virtual_clock(call)


def test_a_turn_hears_one_whole_cue_at_most() -> None:
    async def call() -> None:
        c = Call(turn={"hold_cue_ms": CUE_MS})
        await c.greeted()
        c.stt.delay_s = 3.5
        _, cue_start = await c.ask(1.2, 440)
        cue_end = await c.line.quiet(after=cue_start, for_s=0.3)
        await asyncio.sleep(0.3)
        c.line.say(tone(0.6, 880))  # after the whole cue: the caller goes on, then waits
        await c.line.said.wait()
        last_word = c.line.last_voiced
        answered = await c.line.speaking(after=cue_end + 0.1)
        # the words of the whole are slow again, but the caller was told to wait already
        assert answered - last_word > CUE_MS / 1000 + 0.5
        await c.line.quiet(after=answered, for_s=1.0)
        row = c.store.said("secretary")[1]
        assert row.startswith(CUE) and row.count(CUE) == 1, row
        c.hangs_up()
        await c.ended()
    on_virtual_clock(call)


def test_the_caller_speaking_over_the_cue_stops_it_and_their_turn_goes_on() -> None:
    async def call() -> None:
        c = Call(turn={"hold_cue_ms": CUE_MS})
        await c.greeted()
        c.stt.delay_s = 3.5
        stopped, cue_start = await c.ask(1.2, 440)
        assert cue_start - stopped == pytest.approx(CUE_MS / 1000, abs=0.1)
        went_on = c.now()
        c.line.say(tone(2.5, 880))  # over the cue, and on past the time the words are in
        await c.line.said.wait()
        cue_end = c.line.replies(after=stopped)[0][1]
        assert cue_end <= went_on + 0.3  # a whole cue lasts 0.48 s
        assert len(c.console.barge_ins) == 1  # the console sees them stop it
        # nothing more is said while the caller speaks; the words of the whole turn are
        # slow again, and the cue, cut before it told them anything, is said again then
        again = await c.line.speaking(after=cue_end + 0.1)
        assert again - c.line.last_voiced == pytest.approx(CUE_MS / 1000, abs=0.1)
        answered = await c.line.speaking(after=again + 0.6)  # a whole cue lasts 0.48 s
        await c.line.quiet(after=answered, for_s=1.0)
        # one turn, both parts of it heard; one answer to it, no answer to its first part
        assert len(c.store.said("caller")) == 1
        assert len(c.stt.given[-1]) / 2 / RATE >= 2.5  # what they said over the cue
        assert len(c.store.said("secretary")) == 2  # the greeting and the one answer
        timings = c.store.timings("secretary")[1]
        assert timings["merged_turns"]
        # the cue that leads the answer in the record is the one said after their last word
        assert c.store.said("secretary")[1].startswith(CUE), c.store.said("secretary")
        assert timings["hold_cue_ms"] == pytest.approx(CUE_MS, abs=100), timings
        c.hangs_up()
        await c.ended()
    on_virtual_clock(call)


def test_the_caller_speaking_over_the_cue_after_their_words_came_is_not_talked_over() -> None:
    async def call() -> None:
        # no guess at a pause: the words come 0.6 + 1.5 s after the question, as the cue plays
        c = Call(turn={"hold_cue_ms": CUE_MS, "speculate_after_ms": 0})
        await c.greeted()
        c.stt.delay_s = 1.5
        stopped, cue_start = await c.ask(1.2, 440)
        assert cue_start - stopped == pytest.approx(CUE_MS / 1000, abs=0.1)
        await asyncio.sleep(0.2)
        went_on = c.now()
        c.line.say(tone(1.5, 880))  # over the cue, the answer ready and waiting for its end
        c.stt.delay_s = 0.0  # the rest's words come at once
        await c.line.said.wait()
        cue_end = c.line.replies(after=stopped)[0][1]
        assert cue_end <= went_on + 0.3
        # the answer to the first part is not begun over them (not even to be cut by a
        # barge-in at once); their turn goes on, and is answered once they stop
        assert not [text for at, text in c.tts.asked if went_on <= at <= c.line.last_voiced]
        answered = await c.line.speaking(after=cue_end + 0.1)
        assert answered > c.line.last_voiced
        await c.line.quiet(after=answered, for_s=1.0)
        assert len(c.store.said("caller")) == 1
        assert len(c.store.said("secretary")) == 2
        assert c.store.timings("secretary")[1]["merged_turns"]
        # the rest was heard from before the caller's onset over the cue
        assert len(c.stt.given[-1]) / 2 / RATE >= c.line.last_voiced - went_on
        c.hangs_up()
        await c.ended()
    on_virtual_clock(call)
