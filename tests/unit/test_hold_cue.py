"""The hold cue (call/hold_cue.py): a caller whose words are slow to come (a busy
recogniser) hears "Секунду." `turn.hold_cue_ms` after their last word, then the
answer; the record keeps both in the answer's row. Words that come in time, a turn that
waits for the rest of a dictated number, and the cue turned off say nothing before the
answer.

Whole calls through the real `CallSession` on a virtual clock, with the fake parts of
test_session_clock.py (named there): the recogniser's `delay_s` is how long each of its
transcriptions takes."""

from __future__ import annotations

import pytest
from test_session_clock import END_SILENCE_S, PHRASES, Call, on_virtual_clock

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
