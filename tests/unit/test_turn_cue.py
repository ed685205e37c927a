"""When the test caller's next line is due (testkit/turn_cue.py): after the secretary has
spoken since the caller began to wait and has then been quiet long enough, or after the
longest wait. Times are a virtual clock in seconds; frames are 20 ms."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from human_clips import recorded_clips

from ari_app.media.codecs import get_codec
from ari_app.media.loudness import frame_dbfs
from ari_app.media.tones import ringback_cycle
from testkit import human_speech
from testkit.scenario import CallerLine, build_uac_scenario
from testkit.turn_cue import SPEECH_DBFS, CueGiver, ReplyWatch, is_tone

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


def test_the_cue_giver_reads_each_wait_the_scenario_announces(tmp_path: Path) -> None:
    """The twin commands build_uac_scenario writes, as sipp sends them: the giver knows the
    line, what it waits after and its quiet from the command alone."""
    audio = tmp_path / "a.ulaw"
    audio.write_bytes(b"\xff" * 800)
    xml = build_uac_scenario([
        CallerLine(audio, after_reply_quiet_ms=900, replies=2),
        CallerLine(audio, dtmf="5", after_keys_quiet_ms=700),
    ])
    commands = [(e.text or "").replace("[call_id]", "abc@host")
                for e in ET.fromstring(xml) if e.tag == "sendCmd"]
    giver = CueGiver(pcap=tmp_path / "call.pcap", media_port=4000, codec="ulaw",
                     max_wait_s=5)
    waits = [w for command in commands for w in giver._waits(command)]
    assert [(key, call_id, watch.quiet_s, watch.replies) for key, call_id, watch in waits] == [
        ((0, "reply"), "abc@host", 0.9, 2), ((1, "keys"), "abc@host", 0.7, 1)]
    assert giver._waits("Call-ID: abc@host\n") == []


def test_a_second_reply_is_waited_for_through_a_ring_back() -> None:
    """"Connecting you", the ring-back (tone frames), then "they cannot answer": with two
    replies to wait for, the caller speaks only after the second and its quiet."""
    watch = ReplyWatch(since=0.0, quiet_ms=1000, max_wait_s=30, replies=2)
    speak(watch, 0.5, 2.5)
    for start in (3.0, 7.0):  # 0.8 s of ring-back every 4 s
        t = start
        while t < start + 0.8:
            watch.heard(t, -15.0, tone=True)
            t += 0.02
    assert watch.due(4.0) is None and watch.due(9.0) is None  # one reply only, so far
    speak(watch, 9.5, 13.0)
    speak(watch, 13.0, 14.0, QUIET)
    assert watch.due(13.9) is None
    assert watch.due(14.0) == "quiet"


def test_two_clicks_are_not_two_replies() -> None:
    watch = ReplyWatch(since=0.0, quiet_ms=500, max_wait_s=30, replies=2)
    speak(watch, 1.0, 1.1)
    speak(watch, 3.0, 3.1)
    speak(watch, 5.0, 6.0)
    assert watch.due(6.6) is None  # one reply: the clicks before it do not count
    speak(watch, 7.0, 8.0)
    assert watch.due(8.5) == "quiet"


def test_ring_back_is_a_tone_and_human_speech_is_not(tmp_path: Path) -> None:
    """The ring-back the secretary sends while a staff member is rung, through the line's
    G.711, is a tone frame by frame; human announcers' speech (testkit.human_speech) is a
    tone only now and then, never for 0.3 s on end (a reply's pause is not made longer)."""
    ulaw = get_codec("ulaw")
    ring = ulaw.decode(ulaw.encode(ringback_cycle(8000)))
    frames = [ring[i : i + 320] for i in range(0, len(ring) - 319, 320)]
    loud = [f for f in frames if frame_dbfs(f) > SPEECH_DBFS]
    assert len(loud) >= 35 and all(is_tone(f) for f in loud[1:-1])
    speech, longest = 0, 0
    tones: list[int] = []
    for pcm in human_clips(tmp_path):
        run = 0
        for frame in (pcm[i : i + 320] for i in range(0, len(pcm) - 319, 320)):
            if frame_dbfs(frame) <= SPEECH_DBFS:
                run = 0
                continue
            speech += 1
            run = run + 1 if is_tone(frame) else 0
            if run:
                tones.append(run)
            longest = max(longest, run)
    assert speech > 500
    assert len(tones) / speech < 0.3, len(tones) / speech
    assert longest < 15, longest


def human_clips(outdir: Path) -> list[bytes]:
    """8 kHz 16-bit speech of the human announcers in the test set."""
    assert human_speech.SAMPLE_RATE == 8000
    return [clip.pcm() for clip in recorded_clips(outdir).values() if clip.human][:20]
