"""Two-track call recording: `<call_id>-caller.wav` and `<call_id>-secretary.wav`.

Both files are 16-bit mono at one sample rate on one common timeline: each chunk is placed at
the time it started (the `at` argument, loop/monotonic seconds), with silence written where a
side was quiet, so the two files line up sample for sample when mixed. Writes go straight to
open `wave` handles, cheap enough for every 20 ms frame.
"""

from __future__ import annotations

import wave
from pathlib import Path

_SILENCE_CHUNK = 64 * 1024  # bytes of zeros written at a time for long gaps


class _Track:
    def __init__(self, path: Path, sample_rate: int) -> None:
        self.path = path
        self.samples = 0  # samples written so far
        self._wav = wave.open(str(path), "wb")  # kept open for the call
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(sample_rate)

    def silence(self, samples: int) -> None:
        remaining = samples * 2
        while remaining > 0:
            n = min(remaining, _SILENCE_CHUNK)
            self._wav.writeframesraw(bytes(n))
            remaining -= n
        self.samples += max(samples, 0)

    def write(self, pcm: bytes) -> None:
        self._wav.writeframesraw(pcm)
        self.samples += len(pcm) // 2

    def close(self) -> None:
        self._wav.close()  # patches the header with the final length


class CallRecorder:
    """Records both sides of one call into `directory`.

    `origin` is the timeline's zero in the same clock as `at`; by default it is the start of
    the first chunk recorded on either side. A chunk that starts later than the end of what its
    side has so far is preceded by silence; one that starts before that end (arrival jitter) is
    appended right after it, so no audio is lost or overwritten. Gaps up to `jitter_s` are not
    filled, which avoids clicks from timestamp jitter.
    """

    def __init__(
        self,
        directory: Path,
        call_id: str,
        sample_rate: int,
        *,
        origin: float | None = None,
        jitter_s: float = 0.03,
    ) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        if not call_id or "/" in call_id or call_id.startswith("."):
            raise ValueError(f"call_id is not usable in a file name: {call_id!r}")
        self.sample_rate = sample_rate
        self.origin = origin
        self._jitter = max(0, round(jitter_s * sample_rate))
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.caller_path = directory / f"{call_id}-caller.wav"
        self.secretary_path = directory / f"{call_id}-secretary.wav"
        self._caller = _Track(self.caller_path, sample_rate)
        try:
            self._secretary = _Track(self.secretary_path, sample_rate)
        except BaseException:
            self._caller.close()
            raise
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def duration_s(self) -> float:
        """The length of the longer track so far."""
        return max(self._caller.samples, self._secretary.samples) / self.sample_rate

    def caller(self, pcm: bytes, at: float) -> None:
        """Record a chunk heard from the caller that started at `at`."""
        self._add(self._caller, pcm, at)

    def secretary(self, pcm: bytes, at: float) -> None:
        """Record a chunk the secretary played that started at `at`."""
        self._add(self._secretary, pcm, at)

    def _add(self, track: _Track, pcm: bytes, at: float) -> None:
        if self._closed or not pcm:
            return  # late frames after the end of the call are dropped
        if len(pcm) % 2:
            raise ValueError(f"PCM chunk has an odd length ({len(pcm)} bytes); expected s16le")
        if self.origin is None:
            self.origin = at
        position = max(0, round((at - self.origin) * self.sample_rate))
        gap = position - track.samples
        if gap > self._jitter:
            track.silence(gap)
        track.write(pcm)

    def close(self) -> tuple[Path, Path]:
        """Pad the shorter track with silence, close both; returns (caller_wav, secretary_wav)."""
        if not self._closed:
            self._closed = True
            try:
                length = max(self._caller.samples, self._secretary.samples)
                for track in (self._caller, self._secretary):
                    track.silence(length - track.samples)
            finally:
                self._caller.close()
                self._secretary.close()
        return self.caller_path, self.secretary_path
