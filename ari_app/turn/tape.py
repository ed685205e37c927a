"""The caller's audio of the whole call, on the call recording's timeline.

A turn's audio is never assembled from the frames a detector happened to keep: it is cut
from this tape by time, from a pre-roll before the voice onset to the end of the turn. So
whatever the detector decided late (a soft first syllable), whatever was flushed from a
queue, and whatever pause lay between two parts of a merged turn, the recogniser gets what
the call recording holds for that span (docs/architecture.md, "A turn never loses audio").

Frames are placed by the rule of `recorder.CallRecorder`: each at the time it arrived, with
silence where the caller's side sent nothing for longer than the jitter allowance, and a
frame that arrives early is appended right after the previous one (nothing overwritten).
"""

from __future__ import annotations

RETAIN_S = 180.0  # how much of the call is kept: longer than any turn and its merges


class CallerTape:
    def __init__(self, sample_rate: int, *, retain_s: float = RETAIN_S,
                 jitter_s: float = 0.03) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        self.sample_rate = sample_rate
        self.origin: float | None = None  # timeline zero: the arrival of the first frame
        self._retain = int(retain_s * sample_rate)
        self._jitter = max(0, round(jitter_s * sample_rate))
        self._pcm = bytearray()
        self._first = 0  # timeline sample of _pcm[0] (older audio has been let go)

    @property
    def end_sample(self) -> int:
        """Timeline sample just past the last one on the tape."""
        return self._first + len(self._pcm) // 2

    def append(self, frame: bytes, at: float) -> None:
        """A caller frame that arrived at `at` (the clock the recorder is given)."""
        if not frame:
            return
        if len(frame) % 2:
            raise ValueError(f"PCM frame has an odd length ({len(frame)} bytes)")
        if self.origin is None:
            self.origin = at
        gap = self.sample_at(at) - self.end_sample
        if gap > self._jitter:
            self._pcm += bytes(2 * gap)
        self._pcm += frame
        excess = len(self._pcm) // 2 - 2 * self._retain
        if excess > 0:  # let go of old audio in large steps, not per frame
            drop = len(self._pcm) // 2 - self._retain
            del self._pcm[: 2 * drop]
            self._first += drop

    def sample_at(self, t: float) -> int:
        """The timeline sample of clock time `t`."""
        if self.origin is None:
            return 0
        return max(0, round((t - self.origin) * self.sample_rate))

    def time_of(self, sample: int) -> float:
        """The clock time of timeline sample `sample`."""
        return (self.origin or 0.0) + sample / self.sample_rate

    def cut(self, start: float, end: float) -> bytes:
        """The audio from clock time `start` to `end`: what the recording holds there, less
        what has not arrived yet (never padded past the last frame). Before the caller's
        first frame the line sent nothing: that is silence, and a turn that begins with the
        first frame still has its pre-roll (the recording holds silence there too, from
        the start of our greeting)."""
        if self.origin is None:
            return b""
        b = min(self.sample_at(end), self.end_sample)
        if b <= 0:
            return b""
        first = round((start - self.origin) * self.sample_rate)
        before = max(0, min(-first, b))  # samples before the first frame: silence
        a = max(first, self._first)
        if b <= a:
            return bytes(2 * before)
        return bytes(2 * before) + bytes(self._pcm[2 * (a - self._first) : 2 * (b - self._first)])
