"""When the box is saturated, a new call goes to the line's fallback (staff, voicemail)
instead of joining a queue where its caller would wait in silence for every answer.

Saturated means any of: `capacity.max_calls` calls in progress (no limit by default); the
recogniser has `capacity.max_recogniser_queue` transcriptions waiting or running (6); or
the replies of the last minute came, at the 95th percentile, later than
`capacity.max_v2v_ms` after the caller stopped speaking (off by default: a slow language
model would trip it). The reason is logged and counted in /metrics.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

RECENT_S = 60.0  # replies older than this do not count
RECENT_MIN = 5  # fewer replies than this in the last minute say nothing about load


class CapacityConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_calls: int | None = Field(default=None, ge=1)  # None: no limit on calls
    max_recogniser_queue: int | None = Field(default=6, ge=1)  # None: not watched
    max_v2v_ms: float | None = Field(default=None, gt=0)  # e.g. 3000; None: not watched


@dataclass(frozen=True)
class Refusal:
    kind: str  # max_calls, recogniser_queue, v2v: a label in /metrics
    why: str  # for the log


class Capacity:
    def __init__(self, cfg: CapacityConfig, queue_depth: Callable[[], int],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.cfg = cfg
        self.queue_depth = queue_depth
        self.clock = clock
        self._replies: deque[tuple[float, float]] = deque(maxlen=200)  # (when, v2v ms)

    def reply_heard(self, v2v_ms: float | None) -> None:
        """A reply began `v2v_ms` after its caller stopped speaking."""
        if v2v_ms is not None:
            self._replies.append((self.clock(), v2v_ms))

    def recent_v2v_p95(self) -> float | None:
        since = self.clock() - RECENT_S
        recent = sorted(ms for at, ms in self._replies if at >= since)
        if len(recent) < RECENT_MIN:
            return None
        return recent[min(len(recent) - 1, round(0.95 * (len(recent) - 1)))]

    def refusal(self, calls_in_progress: int) -> Refusal | None:
        """Why a new call should not be taken now; None when it can be."""
        cfg = self.cfg
        if cfg.max_calls is not None and calls_in_progress >= cfg.max_calls:
            return Refusal("max_calls", f"{calls_in_progress} calls in progress "
                                        f"(capacity.max_calls: {cfg.max_calls})")
        depth = self.queue_depth()
        if cfg.max_recogniser_queue is not None and depth >= cfg.max_recogniser_queue:
            return Refusal("recogniser_queue", f"{depth} transcriptions waiting for the "
                           f"recogniser (capacity.max_recogniser_queue: "
                           f"{cfg.max_recogniser_queue})")
        p95 = self.recent_v2v_p95()
        if cfg.max_v2v_ms is not None and p95 is not None and p95 > cfg.max_v2v_ms:
            return Refusal("v2v", f"replies of the last minute came {p95:.0f} ms after the "
                                  f"caller stopped (p95; capacity.max_v2v_ms: "
                                  f"{cfg.max_v2v_ms:.0f})")
        return None
