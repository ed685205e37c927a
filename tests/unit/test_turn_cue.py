"""When the test caller's next line is due (testkit/turn_cue.py): after the secretary has
spoken since the caller began to wait and has then been quiet long enough, or after the
longest wait. Times are a virtual clock in seconds; frames are 20 ms."""

from __future__ import annotations

from testkit.turn_cue import ReplyWatch

LOUD, QUIET = -20.0, -70.0


def speak(watch: ReplyWatch, start: float, end: float, dbfs: float = LOUD) -> None:
    t = start
    while t < end - 1e-9:
        watch.heard(t, dbfs)
        t += 0.02


def test_the_caller_goes_on_once_the_reply_has_been_quiet_long_enough() -> None:
    watch = ReplyWatch(since=0.0, quiet_ms=1000, max_wait_s=30)
    assert watch.due(0.4) is None  # nothing said yet
    speak(watch, 0.5, 3.0)
    assert watch.due(3.0) is None  # still speaking
    speak(watch, 3.0, 5.0, QUIET)  # the line's own quiet frames are not speech
    assert watch.due(3.9) is None  # quiet for 0.92 s only
    assert watch.due(4.0) == "quiet"


def test_a_pause_inside_the_reply_shorter_than_the_quiet_does_not_end_it() -> None:
    watch = ReplyWatch(since=0.0, quiet_ms=1000, max_wait_s=30)
    speak(watch, 0.5, 2.0)
    assert watch.due(2.7) is None  # a 0.7 s gap between two sentences
    speak(watch, 2.7, 4.0)
    assert watch.due(4.5) is None
    assert watch.due(5.0) == "quiet"


def test_what_came_before_the_wait_and_a_click_are_not_a_reply() -> None:
    watch = ReplyWatch(since=10.0, quiet_ms=500, max_wait_s=8)
    speak(watch, 6.0, 9.9)  # the previous reply, over before this wait began
    speak(watch, 10.2, 10.3)  # 100 ms: a click, not an answer
    assert watch.due(12.0) is None
    assert watch.due(17.9) is None
    assert watch.due(18.0) == "no reply"  # the longest wait, counted from the wait's start


def test_packets_read_late_still_count_at_their_own_time() -> None:
    # the capture is read in batches: frames arrive in the watch after their time
    watch = ReplyWatch(since=0.0, quiet_ms=800, max_wait_s=30)
    speak(watch, 1.0, 2.0)
    assert watch.due(2.5) is None
    speak(watch, 2.0, 2.4)  # heard at 2.6, said at 2.0-2.4
    assert watch.due(2.6) is None
    assert watch.due(3.1) is None  # 0.72 s after the last loud frame
    assert watch.due(3.2) == "quiet"
