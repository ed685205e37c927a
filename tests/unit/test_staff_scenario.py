"""The staff phone's sipp scenario (testkit/staff.py): what it says once it has taken a call
comes after its key press, and only from a phone that presses one."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from testkit.staff import build_staff_scenario


def steps(xml: str) -> list[str]:
    """The scenario's steps in order: the request or response each one sends or waits for,
    or the action it runs."""
    out = []
    for step in ET.fromstring(xml):
        text = (step.text or "").strip()
        action = step.find("action")
        if action is not None and len(action):
            out.append(f"{action[0].tag}:{sorted(action[0].attrib.items())}")
        elif text:
            out.append(f"{step.tag}:{text.split()[0]}")
        else:
            out.append(f"{step.tag}:{step.get('request') or step.get('response') or ''}")
    return out


def test_the_staff_member_speaks_after_taking_the_call_with_a_key(tmp_path: Path) -> None:
    clip = tmp_path / "takes.ulaw"
    said = steps(build_staff_scenario("accept", says=clip))
    stream = [i for i, s in enumerate(said) if s.startswith("exec:")]
    key = said.index("send:INFO")
    assert len(stream) == 1 and stream[0] > key, said
    assert f"{clip.resolve()},1,0" in said[stream[0]]


def test_a_phone_that_presses_no_key_says_nothing(tmp_path: Path) -> None:
    for behaviour in ("answer", "busy", "no_answer"):
        assert not any(s.startswith("exec:") for s in steps(
            build_staff_scenario(behaviour, says=tmp_path / "takes.ulaw"))), behaviour


def test_a_path_sipp_cannot_play_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="comma"):
        build_staff_scenario("accept", says=tmp_path / "a,b.ulaw")
