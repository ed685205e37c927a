"""What a call tells whoever watches it live (the console's live view, docs/console.md): its
start, each turn, who is speaking, barge-ins, transfers, its end, and both sides' audio; and
what an operator may do to it (`CallControl`). A call knows only these protocols; with no
watcher it tells `NOBODY`. Every method is called on the call's path, so none may block."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from ari_app.media.transport import MediaTransport, TransportStats

Who = Literal["caller", "secretary"]


@dataclass(frozen=True)
class LiveCall:
    call_id: str
    line: str
    caller: str
    started_at: float  # unix time


class OperatorError(Exception):
    """An operator's action that the call cannot carry out; the message says why."""


class UnknownTarget(OperatorError):
    """The operator named no staff member, department or extension."""


class CallControl(Protocol):
    """What the console's operators may do to a live call."""

    def operator_hangup(self, by: str) -> None: ...

    def operator_transfer(self, to: str, by: str) -> str:
        """Put the caller through to `to` (a staff member's or department's name or key, or
        an extension); returns what is dialled. OperatorError when it cannot be done."""
        ...


class CallWatch(Protocol):
    """One call's live events. Times are unix times."""

    def turn(self, who: Who, text: str, started_at: float, ended_at: float) -> None: ...

    def speaking(self, who: Who | None) -> None: ...

    def barge_in(self, at: float) -> None: ...

    def transferred(self, to: str, by: str | None) -> None: ...

    def ended(self, ended_by: str, ended_at: float) -> None: ...

    def caller_audio(self, pcm: bytes, sample_rate: int) -> None: ...

    def secretary_audio(self, pcm: bytes, sample_rate: int) -> None: ...


class CallObserver(Protocol):
    def call_started(self, call: LiveCall, control: CallControl) -> CallWatch: ...


class _Nobody:
    def turn(self, who: Who, text: str, started_at: float, ended_at: float) -> None:
        pass

    def speaking(self, who: Who | None) -> None:
        pass

    def barge_in(self, at: float) -> None:
        pass

    def transferred(self, to: str, by: str | None) -> None:
        pass

    def ended(self, ended_by: str, ended_at: float) -> None:
        pass

    def caller_audio(self, pcm: bytes, sample_rate: int) -> None:
        pass

    def secretary_audio(self, pcm: bytes, sample_rate: int) -> None:
        pass


NOBODY: CallWatch = _Nobody()


class Speaking:
    """Who is heard now, told to the watch on each change only."""

    def __init__(self, watch: CallWatch) -> None:
        self.watch = watch
        self.who: Who | None = None

    def set(self, who: Who | None) -> None:
        if who != self.who:
            self.who = who
            self.watch.speaking(who)


class TappedTransport:
    """A media transport whose received frames are also given to `tap` (the listener's
    incoming audio, for the live listen-in); everything else is the transport's own."""

    def __init__(self, inner: MediaTransport, tap: MediaTap) -> None:
        self.inner = inner
        self.tap = tap
        self.sample_rate: int = inner.sample_rate
        self.stats: TransportStats = inner.stats
        self.paced: bool = inner.paced

    async def start(self) -> None:
        await self.inner.start()

    async def read_frame(self) -> bytes | None:
        frame = await self.inner.read_frame()
        if frame is not None:
            self.tap(frame)
        return frame

    async def write_frame(self, pcm: bytes) -> None:
        await self.inner.write_frame(pcm)

    def flush(self) -> int:
        return self.inner.flush()

    async def flush_far_end(self) -> None:
        await self.inner.flush_far_end()

    async def drained(self) -> None:
        await self.inner.drained()

    def take_send_jitter(self) -> list[float]:
        return self.inner.take_send_jitter()

    async def close(self) -> None:
        await self.inner.close()


class MediaTap(Protocol):
    def __call__(self, frame: bytes) -> None: ...
