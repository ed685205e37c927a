"""The sipp UAC scenario: well-formed XML with the INVITE/ACK/BYE logic and the right timing."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from testkit.scenario import (
    LOG_CALLER,
    LOG_REMOTE,
    CallerLine,
    build_uac_scenario,
    payload_type,
)


def _utt(tmp_path: Path, name: str, n_bytes: int, pause: int) -> CallerLine:
    path = tmp_path / name
    path.write_bytes(b"\xff" * n_bytes)
    return CallerLine(path, pause_before_ms=pause)


@pytest.fixture
def utterances(tmp_path: Path) -> list[CallerLine]:
    return [_utt(tmp_path, "a.ulaw", 16000, 300), _utt(tmp_path, "b.ulaw", 12345, 700)]


def _messages(root: ET.Element) -> list[ET.Element]:
    return list(root)


def _logs(root: ET.Element) -> list[str]:
    return [e.get("message", "") for e in root.iter("log")]


def test_utterance_duration_from_size(tmp_path: Path) -> None:
    assert _utt(tmp_path, "x", 8000, 0).duration_ms == 1000
    assert _utt(tmp_path, "y", 12345, 0).duration_ms == 1543  # 1543.125 ms
    assert CallerLine(tmp_path / "y").pause_before_ms == 500


@pytest.mark.parametrize(("codec", "pt", "name"), [("ulaw", 0, "PCMU"), ("alaw", 8, "PCMA")])
def test_invite_sdp_matches_codec(
    utterances: list[CallerLine], codec: str, pt: int, name: str
) -> None:
    root = ET.fromstring(build_uac_scenario(utterances, codec=codec))
    assert root.tag == "scenario"
    first = root[0]
    assert first.tag == "send"
    invite = first.text or ""
    assert invite.lstrip().startswith("INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0")
    assert "Content-Type: application/sdp" in invite
    assert f"m=audio [media_port] RTP/AVP {pt} 101" in invite
    assert f"a=rtpmap:{pt} {name}/8000" in invite
    assert "a=rtpmap:101 telephone-event/8000" in invite
    assert "a=ptime:20" in invite
    # every rtp_stream plays its file once with the codec's payload type
    streams = [e.get("rtp_stream", "") for e in root.iter("exec")]
    assert [s.rsplit(",", 2)[1:] for s in streams] == [["1", str(pt)], ["1", str(pt)]]
    assert [Path(s.rsplit(",", 2)[0]) for s in streams] == [u.audio.resolve() for u in utterances]


def test_payload_type_rejects_unknown_codec() -> None:
    assert payload_type("ulaw") == 0 and payload_type("alaw") == 8
    with pytest.raises(ValueError, match="g729"):
        payload_type("g729")


def test_call_setup_sequence(utterances: list[CallerLine]) -> None:
    root = ET.fromstring(build_uac_scenario(utterances))
    msgs = _messages(root)
    recvs = [(e.get("response"), e.get("optional")) for e in msgs if e.tag == "recv"]
    assert ("100", "true") in recvs and ("180", "true") in recvs and ("183", "true") in recvs
    ok = next(e for e in msgs if e.tag == "recv" and e.get("response") == "200")
    ack = msgs[msgs.index(ok) + 1]
    assert ack.tag == "send" and (ack.text or "").lstrip().startswith("ACK [next_url] SIP/2.0")
    # a BYE from the remote is accepted anywhere
    glob = [e for e in msgs if e.tag == "recv" and e.get("optional") == "global"]
    assert [(e.get("request"), e.get("next")) for e in glob] == [("BYE", "remote_bye")]


def test_pauses_match_utterances(utterances: list[CallerLine]) -> None:
    root = ET.fromstring(build_uac_scenario(utterances, hangup="remote", hangup_wait_ms=9000))
    msgs = _messages(root)
    first_stream = next(
        i for i, e in enumerate(msgs) if e.tag == "nop" and e.find("action/exec") is not None
    )
    seq = [
        ("stream" if e.find("action/exec") is not None else "pause", e.get("milliseconds"))
        for e in msgs[first_stream - 1 :]
        if e.tag == "pause" or (e.tag == "nop" and e.find("action/exec") is not None)
    ]
    assert seq == [
        ("pause", "300"), ("stream", None), ("pause", "2000"),
        ("pause", "700"), ("stream", None), ("pause", "1543"),
    ]  # fmt: skip


def _labels(root: ET.Element) -> set[str]:
    return {e.get("id", "") for e in root.iter("label")}


def _targets(root: ET.Element) -> set[str]:
    return {v for e in root for k, v in e.attrib.items() if k in ("next", "ontimeout")}


def test_remote_hangup_mode(utterances: list[CallerLine]) -> None:
    root = ET.fromstring(build_uac_scenario(utterances, hangup="remote", hangup_wait_ms=9000))
    assert _targets(root) <= _labels(root)
    msgs = _messages(root)
    last_pause = max(i for i, e in enumerate(msgs) if e.tag == "pause")
    wait = msgs[last_pause + 1]
    assert wait.tag == "recv" and wait.get("request") == "BYE"
    assert wait.get("timeout") == "9000" and wait.get("ontimeout") == "caller_bye"
    _check_endings(root)


def test_caller_hangup_mode(utterances: list[CallerLine]) -> None:
    root = ET.fromstring(build_uac_scenario(utterances, hangup="caller", hangup_wait_ms=4000))
    assert _targets(root) <= _labels(root)
    msgs = _messages(root)
    last_stream = max(i for i, e in enumerate(msgs) if e.find("action/exec") is not None)
    after = msgs[last_stream + 1 :]
    assert [e.get("milliseconds") for e in after[:2]] == ["1543", "4000"]
    assert after[2].tag == "nop" and after[2].get("next") == "caller_bye"
    assert not any(e.tag == "recv" and e.get("timeout") == "4000" for e in msgs)
    _check_endings(root)


def _check_endings(root: ET.Element) -> None:
    """remote_bye answers 200 and logs remote; caller_bye logs caller and sends BYE."""
    msgs = _messages(root)
    ids = [e.get("id") for e in msgs]
    remote = ids.index("remote_bye")
    ok = msgs[remote + 1]
    assert ok.tag == "send" and (ok.text or "").lstrip().startswith("SIP/2.0 200 OK")
    assert "[last_CSeq:]" in (ok.text or "")
    caller = ids.index("caller_bye")
    section = msgs[caller:]
    bye = next(e for e in section if e.tag == "send")
    assert re.match(r"\s*BYE \[next_url\] SIP/2.0", bye.text or "")
    assert "CSeq: 2 BYE" in (bye.text or "")
    assert any(e.tag == "recv" and e.get("response") == "200" for e in section)
    assert LOG_REMOTE in _logs(root) and LOG_CALLER in _logs(root)
    assert _logs(root).index(LOG_REMOTE) < _logs(root).index(LOG_CALLER)
    assert msgs[-1].tag == "label" and msgs[-1].get("id") == "end"


def test_rejects_bad_arguments(utterances: list[CallerLine], tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        build_uac_scenario(utterances, hangup="nobody")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        build_uac_scenario(utterances, codec="opus")
    with pytest.raises(ValueError, match="comma"):
        build_uac_scenario([_utt(tmp_path, "a,b.ulaw", 160, 0)])


def test_zero_pause_and_no_utterances(tmp_path: Path) -> None:
    root = ET.fromstring(
        build_uac_scenario([_utt(tmp_path, "z.ulaw", 800, 0)], hangup="caller", hangup_wait_ms=0)
    )
    assert [e.get("milliseconds") for e in root.iter("pause")] == ["100"]
    root = ET.fromstring(build_uac_scenario([]))
    assert not list(root.iter("exec"))


def test_dtmf_keys_are_sip_info_before_the_audio(tmp_path: Path) -> None:
    audio = tmp_path / "a.ulaw"
    audio.write_bytes(b"\xff" * 1600)
    from testkit.scenario import CallerLine as Utt
    from testkit.scenario import build_uac_scenario as build

    xml = build([Utt(audio, pause_before_ms=100, dtmf="5#", dtmf_gap_ms=700)], "ulaw", "caller", 10)
    assert xml.count("INFO [next_url] SIP/2.0") == 2
    assert "Signal=5" in xml and "Signal=#" in xml
    gap = xml.index('<pause milliseconds="700"/>')
    assert xml.index("Signal=#") < gap < xml.index("rtp_stream")
    assert "CSeq: 2 INFO" in xml and "CSeq: 3 INFO" in xml and "CSeq: 4 BYE" in xml
    with pytest.raises(ValueError, match="DTMF"):
        build([Utt(audio, dtmf="x")], "ulaw", "caller", 10)


def test_a_line_said_after_the_reply_waits_for_its_cue_before_its_pause(tmp_path: Path) -> None:
    quick = _utt(tmp_path, "a.ulaw", 8000, 300)
    after = CallerLine(tmp_path / "a.ulaw", pause_before_ms=400, after_reply_quiet_ms=900)
    root = ET.fromstring(build_uac_scenario([quick, after], cue_max_wait_ms=20000))
    steps = [e for e in root if e.tag in ("sendCmd", "recvCmd", "pause")
             or (e.tag == "nop" and any(x.get("rtp_stream") for x in e.iter("exec")))]
    shapes = [e.tag if e.tag != "pause" else f"pause {e.get('milliseconds')}" for e in steps]
    # line 0: its pause, its audio (and the pause that plays it); line 1: the twin command
    # naming it, the wait for the cue, then its own pause and audio
    assert shapes == ["pause 300", "nop", "pause 1000",
                      "sendCmd", "recvCmd", "pause 400", "nop", "pause 1000"]
    command = steps[3].text or ""
    assert "Call-ID: [call_id]" in command and re.search(r"X-Caller-Line: 1\b", command)
    assert re.search(r"X-Cue-After: reply\b", command)
    assert re.search(r"X-Quiet-Ms: 900\b", command)
    # sipp gives up a little after the cue giver's own longest wait
    assert int(steps[4].get("timeout", "0")) > 20000
    with pytest.raises(ValueError, match="after_reply_quiet_ms"):
        build_uac_scenario([CallerLine(quick.audio, after_reply_quiet_ms=0)])


def test_keys_that_wait_for_their_answer_cue_the_audio_after_them(tmp_path: Path) -> None:
    """A number typed, then the read-back heard, then "да": the wait sits between the keys
    and the line's gap and audio."""
    audio = _utt(tmp_path, "a.ulaw", 8000, 0).audio
    line = CallerLine(audio, pause_before_ms=0, dtmf="12", dtmf_gap_ms=300,
                      after_keys_quiet_ms=700)
    root = ET.fromstring(build_uac_scenario([line], cue_max_wait_ms=20000))
    steps = [e.tag if e.tag != "send" else ("INFO" if "INFO" in (e.text or "") else "send")
             for e in root if e.tag in ("send", "sendCmd", "recvCmd")
             or (e.tag == "pause" and e.get("milliseconds") == "300")
             or (e.tag == "nop" and any(x.get("rtp_stream") for x in e.iter("exec")))]
    assert steps.count("INFO") == 2 and steps.count("sendCmd") == 1, steps
    assert steps.index("sendCmd") > max(i for i, s in enumerate(steps) if s == "INFO")
    assert steps.index("recvCmd") < steps.index("pause") < steps.index("nop")
    command = next(e.text or "" for e in root if e.tag == "sendCmd")
    assert re.search(r"X-Cue-After: keys\b", command)
    assert re.search(r"X-Quiet-Ms: 700\b", command)
    with pytest.raises(ValueError, match="needs keys"):
        build_uac_scenario([CallerLine(audio, after_keys_quiet_ms=700)])
