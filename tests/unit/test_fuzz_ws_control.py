"""Fuzzing chan_websocket's control messages (`parse_control`, and the transport that acts
on them): any TEXT message Asterisk (or something pretending to be it) sends parses into a
dict with its event and raw text, and the transport's state stays typed; nothing raises."""

from __future__ import annotations

import json

from hypothesis import example, given
from hypothesis import strategies as st

from ari_app.media.ws_transport import WebSocketTransport, parse_control
from testkit.fuzz import FUZZ

EVENTS = st.sampled_from(["MEDIA_START", "MEDIA_XOFF", "MEDIA_XON", "STATUS",
                          "QUEUE_DRAINED", "MEDIA_BUFFERING_COMPLETED", "ERROR", ""])
FIELDS = st.sampled_from(["optimal_frame_size", "ptime", "queue_length", "connection_id",
                          "channel", "format", "error_text", "", "9x", "a:b"])
VALUES = st.text(max_size=20) | st.sampled_from(["9" * 5000, "-1", "0", "１２"])


@st.composite
def plain_messages(draw: st.DrawFn) -> str:
    """An event name, then key:value tokens (some broken), as the plain format has them."""
    tokens = [f"{draw(FIELDS)}:{draw(VALUES)}" for _ in range(draw(st.integers(0, 5)))]
    tokens += draw(st.lists(st.text(max_size=8), max_size=3))
    return " ".join([draw(EVENTS), *tokens])


@st.composite
def json_messages(draw: st.DrawFn) -> str:
    value = st.none() | st.booleans() | st.integers() | st.floats() | VALUES | st.lists(
        st.integers(), max_size=3)
    obj = draw(st.dictionaries(FIELDS | st.just("event"), value, max_size=6))
    if draw(st.booleans()):
        obj["event"] = draw(EVENTS | value)
    return json.dumps(obj)


MESSAGES = plain_messages() | json_messages() | st.text(max_size=200)


@FUZZ
@given(MESSAGES)
@example("MEDIA_START optimal_frame_size:" + "9" * 5000)  # past int()'s 4300 digits
@example('{"event": "MEDIA_START", "optimal_frame_size": true}')
@example("[" * 100000 + "]" * 100000)
@example("{" + '"a":{' * 5000 + "}" * 5001)  # JSON nested past the recursion limit
def test_any_control_message_parses_and_the_transport_stays_typed(text: str) -> None:
    msg = parse_control(text)
    assert msg["raw"] == text and "event" in msg
    transport = WebSocketTransport("ws://127.0.0.1:1/media/x")
    transport._on_control(text)
    size = transport.optimal_frame_size
    assert size is None or (type(size) is int and size > 0)
    assert isinstance(transport.xoff, bool)
