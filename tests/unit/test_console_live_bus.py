"""The console's live event bus: a snapshot first, the events of each call in order, an
overflowing subscriber told how many it lost, and a call gone from the snapshot once over."""

from __future__ import annotations

import asyncio

from ari_app.call.observer import LiveCall
from ari_app.console.live import LiveBus


class Control:
    def __init__(self) -> None:
        self.hung_up_by: list[str] = []
        self.transfers: list[tuple[str, str]] = []

    def operator_hangup(self, by: str) -> None:
        self.hung_up_by.append(by)

    def operator_transfer(self, to: str, by: str) -> str:
        self.transfers.append((to, by))
        return "200"


CALL = LiveCall("c1", "ru-gsm", "+79161234567", 1000.0)


async def drain(subscriber: object, n: int) -> list[dict[str, object]]:
    return [await asyncio.wait_for(subscriber.next(), 1) for _ in range(n)]  # type: ignore[attr-defined]


async def test_a_subscriber_gets_the_snapshot_then_each_event() -> None:
    bus = LiveBus()
    watch = bus.call_started(CALL, Control())
    watch.turn("secretary", "Здравствуйте!", 1001.0, 1002.5)
    sub = bus.subscribe()
    watch.speaking("caller")
    watch.turn("caller", "соедините с Анной", 1003.0, 1004.0)
    watch.barge_in(1005.0)
    watch.transferred("200", "rita")
    watch.ended("transferred", 1010.0)
    events = await drain(sub, 6)
    assert events[0] == {"type": "snapshot", "calls": [{
        "call_id": "c1", "line": "ru-gsm", "caller": "+79161234567", "started_at": 1000.0,
        "turns": [{"who": "secretary", "text": "Здравствуйте!", "started_at": 1001.0,
                   "ended_at": 1002.5}],
        "speaking": None}]}
    assert events[1:] == [
        {"type": "speaking", "call_id": "c1", "who": "caller"},
        {"type": "turn", "call_id": "c1", "turn": {"who": "caller", "text": "соедините с Анной",
                                                   "started_at": 1003.0, "ended_at": 1004.0}},
        {"type": "barge_in", "call_id": "c1", "at": 1005.0},
        {"type": "transfer", "call_id": "c1", "to": "200", "by": "rita"},
        {"type": "call_ended", "call_id": "c1", "ended_by": "transferred", "ended_at": 1010.0},
    ]
    assert bus.snapshot() == {"type": "snapshot", "calls": []}


async def test_call_started_carries_the_call() -> None:
    bus = LiveBus()
    sub = bus.subscribe()
    bus.call_started(CALL, Control())
    events = await drain(sub, 2)
    assert events[1] == {"type": "call_started", "call": {
        "call_id": "c1", "line": "ru-gsm", "caller": "+79161234567", "started_at": 1000.0,
        "turns": [], "speaking": None}}


async def test_a_slow_subscriber_loses_the_oldest_events_and_is_told() -> None:
    bus = LiveBus()
    slow = bus.subscribe(maxlen=4)
    fast = bus.subscribe()
    watch = bus.call_started(CALL, Control())
    for i in range(10):
        watch.turn("caller", f"turn {i}", 1000.0 + i, 1000.5 + i)
    # the snapshot, call_started and 10 turns: 8 dropped, the newest 4 kept
    events = await drain(slow, 5)
    assert events[0] == {"type": "lagged", "dropped": 8}
    assert [e["turn"]["text"] for e in events[1:]] == [  # type: ignore[index]
        "turn 6", "turn 7", "turn 8", "turn 9"]
    assert len(await drain(fast, 12)) == 12  # the other subscriber lost nothing
    watch.speaking(None)
    assert await drain(slow, 1) == [{"type": "speaking", "call_id": "c1", "who": None}]


async def test_unsubscribed_gets_nothing_more() -> None:
    bus = LiveBus()
    sub = bus.subscribe()
    assert bus.subscribers == 1
    bus.unsubscribe(sub)
    assert bus.subscribers == 0
    bus.call_started(CALL, Control())
    assert (await drain(sub, 1))[0]["type"] == "snapshot"
    waiting = asyncio.ensure_future(sub.next())
    await asyncio.sleep(0.05)
    assert not waiting.done()
    waiting.cancel()


async def test_a_second_call_with_a_new_id_stays_when_the_first_ends() -> None:
    bus = LiveBus()
    first = bus.call_started(CALL, Control())
    bus.call_started(LiveCall("c2", "en-sip", "", 1001.0), Control())
    first.ended("caller_hangup", 1002.0)
    assert [c["call_id"] for c in bus.snapshot()["calls"]] == ["c2"]
