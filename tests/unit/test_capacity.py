"""Capacity: when a new call is refused (sent to the line's fallback), on a fake clock."""

from __future__ import annotations

import pytest

from ari_app.capacity import RECENT_MIN, RECENT_S, Capacity, CapacityConfig


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def capacity(queue: list[int], **cfg: float | None) -> tuple[Capacity, FakeClock]:
    clock = FakeClock()
    return Capacity(CapacityConfig(**cfg), lambda: queue[0], clock), clock


def test_an_idle_box_takes_calls() -> None:
    cap, _ = capacity([0])
    assert cap.refusal(calls_in_progress=50) is None  # no call limit by default


def test_the_call_limit() -> None:
    cap, _ = capacity([0], max_calls=3)
    assert cap.refusal(2) is None
    refusal = cap.refusal(3)
    assert refusal is not None and refusal.kind == "max_calls"
    assert "capacity.max_calls: 3" in refusal.why


def test_the_recogniser_queue() -> None:
    queue = [5]
    cap, _ = capacity(queue)  # default bound 6
    assert cap.refusal(1) is None
    queue[0] = 6
    refusal = cap.refusal(1)
    assert refusal is not None and refusal.kind == "recogniser_queue"
    assert "6 transcriptions" in refusal.why
    off, _ = capacity(queue, max_recogniser_queue=None)
    assert off.refusal(1) is None


def test_late_replies_of_the_last_minute() -> None:
    cap, clock = capacity([0], max_v2v_ms=2000)
    for _ in range(RECENT_MIN - 1):
        cap.reply_heard(5000)
    assert cap.refusal(1) is None  # too few replies to judge
    cap.reply_heard(5000)
    refusal = cap.refusal(1)
    assert refusal is not None and refusal.kind == "v2v" and "5000 ms" in refusal.why
    clock.now += RECENT_S + 1  # a minute later those replies no longer count
    assert cap.refusal(1) is None


@pytest.mark.parametrize(("late", "refused"), [(0, False), (1, False), (2, True)])
def test_the_95th_percentile_not_the_worst(late: int, refused: bool) -> None:
    """Of 20 replies, one late one is the odd slow turn; two are above the p95."""
    cap, _ = capacity([0], max_v2v_ms=2000)
    for i in range(20):
        cap.reply_heard(4000 if i < late else 700)
    cap.reply_heard(None)  # a reply without a measure (a greeting) counts for nothing
    assert (cap.refusal(1) is not None) is refused
