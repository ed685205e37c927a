"""A whole call through the real `CallSession` (test_session_clock's fakes, virtual clock)
told to the console's live bus: its start, who speaks, each turn as it happens, an
operator's transfer (rung the secretary's way) and hang-up, its end."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from test_session_clock import Call, on_virtual_clock, tone

from ari_app.call.ending import EndReason
from ari_app.call.observer import OperatorError, UnknownTarget
from ari_app.console.live import LiveBus


def live_call() -> tuple[Call, LiveBus]:
    bus = LiveBus()
    c = Call()  # its task has not run yet: the bus is in place before the call opens
    c.session.ctx = dataclasses.replace(c.session.ctx, observer=bus)
    return c, bus


def events(bus: LiveBus, sub: Any) -> list[dict[str, Any]]:
    out = []
    while sub._events:
        out.append(sub._events.popleft())
    return out


def test_the_call_is_told_live_and_an_operator_transfers_then_hangs_up() -> None:
    async def call() -> None:
        c, bus = live_call()
        sub = bus.subscribe()
        await c.greeted()
        stopped, _ = await c.ask(1.2, 440)
        await c.line.quiet(after=stopped)
        seen = events(bus, sub)
        kinds = [e["type"] for e in seen]
        assert kinds[:2] == ["snapshot", "call_started"]
        call_id = seen[1]["call"]["call_id"]
        assert seen[1]["call"]["caller"] == "+79161234567"
        turns = [(e["turn"]["who"], e["turn"]["text"]) for e in seen if e["type"] == "turn"]
        assert turns[0][0] == "secretary" and turns[1] == ("caller", "Когда вы работаете?")
        assert turns[2][0] == "secretary" and len(turns) == 3
        speaking = [e["who"] for e in seen if e["type"] == "speaking"]
        assert speaking[:3] == ["secretary", None, "caller"] and speaking[-1] is None
        # the caller's turn is told before the reply is spoken
        caller_at = kinds.index("turn", kinds.index("turn") + 1)
        assert "secretary" in speaking and kinds.index("speaking", caller_at) > caller_at
        assert bus.snapshot()["calls"][0]["turns"][1]["text"] == "Когда вы работаете?"

        with pytest.raises(UnknownTarget):
            c.session.operator_transfer("nobody at all", "rita")
        assert c.session.operator_transfer("100", "rita") == "100"
        with pytest.raises(OperatorError):  # one transfer at a time
            await asyncio.sleep(0.2)
            c.session.operator_transfer("100", "rita")
        for _ in range(200):
            if any(e["type"] == "transfer" for e in events(bus, sub)):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("no transfer event")
        staff = f"secretary-staff-{call_id}-1"
        for _ in range(600):  # nobody answers the fake staff line; the call goes on
            if c.ari.made("hangup", staff):
                break
            await asyncio.sleep(0.1)
        assert c.ari.made("originate", staff) and c.ari.made("hangup", staff)
        assert c.task.done() is False
        c.session.operator_hangup("rita")
        await c.ended()
        assert c.store.ended_by == EndReason.OPERATOR_HANGUP.value
        assert c.ari.made("hangup", "chan-1")
        ended = [e for e in events(bus, sub) if e["type"] == "call_ended"]
        assert ended == [{"type": "call_ended", "call_id": call_id,
                          "ended_by": "operator_hangup", "ended_at": ended[0]["ended_at"]}]
        assert bus.snapshot()["calls"] == []
    on_virtual_clock(call)


def test_an_operator_transfer_asked_while_the_caller_speaks_comes_before_any_answer() -> None:
    async def call() -> None:
        c, _ = live_call()
        await c.greeted()
        c.line.say(tone(1.2, 440))
        await asyncio.sleep(0.4)  # mid-question
        asked_at = c.now()
        assert c.session.operator_transfer("Мария Смирнова", "rita") == "202"
        staff = f"secretary-staff-{c.session.call_id}-1"
        for _ in range(100):
            if c.ari.made("originate", staff):
                break
            await asyncio.sleep(0.1)
        assert c.ari.made("originate", staff, "Local/202@secretary-staff/n")
        # the question was not answered first: the greeting is all the secretary said, and
        # what the line carried since is the ringback (once the transfer began)
        assert len(c.store.said("secretary")) == 1, c.store.said("secretary")
        assert [start - asked_at > 0.5 for start, _ in c.line.replies(after=asked_at)] == [True]
        c.session.operator_hangup("rita")
        await c.ended()
        assert c.store.ended_by == EndReason.OPERATOR_HANGUP.value
    on_virtual_clock(call)


def test_an_operator_transfer_cuts_the_reply_being_said() -> None:
    async def call() -> None:
        c, _ = live_call()
        await c.greeted()
        _, answering = await c.ask(1.2, 440)
        await asyncio.sleep(0.5)
        asked_at = c.now()
        c.session.operator_transfer("accounting", "rita")
        await asyncio.sleep(0.3)
        [(_, stopped)] = c.line.replies(after=answering)
        assert stopped - asked_at < 0.1  # cut at once, not said to its end
        c.session.operator_hangup("rita")
        await c.ended()
    on_virtual_clock(call)
