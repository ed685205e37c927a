"""The console's live view of the calls in progress: an in-process publisher (`LiveBus`) that
every call tells what happens (`call/observer.py`), and that each browser connected to
`WS /api/live` subscribes to (docs/console.md, "Live calls").

A subscriber has a bounded queue: a browser that does not keep up loses its oldest events
and is told how many (`lagged`); a call never waits for a browser.
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import asdict, dataclass, field
from typing import Any

from ari_app.call.observer import CallControl, CallWatch, LiveCall, Who
from ari_app.console.listen import ListenMixer

QUEUE_EVENTS = 256  # a subscriber's queue; older events are dropped past it
KEPT_TURNS = 200  # of a call, for the snapshot


@dataclass
class LiveTurn:
    who: Who
    text: str
    started_at: float
    ended_at: float


@dataclass
class CallState:
    """A call in progress as the console sees it."""

    call: LiveCall
    control: CallControl
    turns: collections.deque[LiveTurn] = field(
        default_factory=lambda: collections.deque(maxlen=KEPT_TURNS))
    speaking: Who | None = None
    mixer: ListenMixer | None = None  # while someone listens in

    def as_json(self) -> dict[str, Any]:
        return {
            "call_id": self.call.call_id, "line": self.call.line, "caller": self.call.caller,
            "started_at": self.call.started_at, "turns": [asdict(t) for t in self.turns],
            "speaking": self.speaking,
        }


class Subscriber:
    """One browser's events, oldest first; `lagged` comes first after an overflow."""

    def __init__(self, maxlen: int = QUEUE_EVENTS) -> None:
        self._events: collections.deque[dict[str, Any]] = collections.deque()
        self._maxlen = maxlen
        self._arrived = asyncio.Event()
        self.dropped = 0  # not yet reported

    def push(self, event: dict[str, Any]) -> None:
        if len(self._events) >= self._maxlen:
            self._events.popleft()
            self.dropped += 1
        self._events.append(event)
        self._arrived.set()

    async def next(self) -> dict[str, Any]:
        while True:
            if self.dropped:
                dropped, self.dropped = self.dropped, 0
                return {"type": "lagged", "dropped": dropped}
            if self._events:
                return self._events.popleft()
            self._arrived.clear()
            await self._arrived.wait()


class LiveBus:
    """The calls in progress and who watches them; a `CallObserver` for the call sessions."""

    def __init__(self) -> None:
        self.calls: dict[str, CallState] = {}
        self._subscribers: set[Subscriber] = set()

    # --- browsers ------------------------------------------------------------------------
    def subscribe(self, maxlen: int = QUEUE_EVENTS) -> Subscriber:
        """A new subscriber, whose first event is the snapshot of the calls now."""
        subscriber = Subscriber(maxlen)
        subscriber.push(self.snapshot())
        self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def snapshot(self) -> dict[str, Any]:
        return {"type": "snapshot", "calls": [s.as_json() for s in self.calls.values()]}

    def publish(self, event: dict[str, Any]) -> None:
        for subscriber in self._subscribers:
            subscriber.push(event)

    # --- calls ---------------------------------------------------------------------------
    def call_started(self, call: LiveCall, control: CallControl) -> CallWatch:
        state = CallState(call, control)
        self.calls[call.call_id] = state
        self.publish({"type": "call_started", "call": state.as_json()})
        return _Watch(self, state)

    def listen(self, call_id: str) -> ListenMixer | None:
        """The mixer of a live call's two sides (made on first use), or None."""
        state = self.calls.get(call_id)
        if state is None:
            return None
        if state.mixer is None:
            state.mixer = ListenMixer()
        return state.mixer


class _Watch:
    """One call's events, published on the bus."""

    def __init__(self, bus: LiveBus, state: CallState) -> None:
        self.bus = bus
        self.state = state
        self.call_id = state.call.call_id

    def turn(self, who: Who, text: str, started_at: float, ended_at: float) -> None:
        turn = LiveTurn(who, text, started_at, ended_at)
        self.state.turns.append(turn)
        self.bus.publish({"type": "turn", "call_id": self.call_id, "turn": asdict(turn)})

    def speaking(self, who: Who | None) -> None:
        self.state.speaking = who
        self.bus.publish({"type": "speaking", "call_id": self.call_id, "who": who})

    def barge_in(self, at: float) -> None:
        self.bus.publish({"type": "barge_in", "call_id": self.call_id, "at": at})

    def transferred(self, to: str, by: str | None) -> None:
        self.bus.publish({"type": "transfer", "call_id": self.call_id, "to": to, "by": by})

    def ended(self, ended_by: str, ended_at: float) -> None:
        if self.bus.calls.get(self.call_id) is self.state:
            del self.bus.calls[self.call_id]
        if self.state.mixer is not None:
            self.state.mixer.close()
        self.bus.publish({"type": "call_ended", "call_id": self.call_id,
                          "ended_by": ended_by, "ended_at": ended_at})

    def caller_audio(self, pcm: bytes, sample_rate: int) -> None:
        mixer = self.state.mixer
        if mixer is not None and mixer.listeners:
            mixer.caller(pcm, sample_rate)

    def secretary_audio(self, pcm: bytes, sample_rate: int) -> None:
        mixer = self.state.mixer
        if mixer is not None and mixer.listeners:
            mixer.secretary(pcm, sample_rate)
