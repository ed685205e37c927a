"""Fuzzing what Asterisk sends us: events-websocket messages (`parse_event`, `EventStream`)
and the JSON of REST answers (`AriClient.request`). Any input is an event with the types the
app relies on, or the module's own error naming the field or the place in the text; the
reader loop logs a warning for a bad message and goes on."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ari_app.app import SecretaryApp
from ari_app.ari.client import AriClient, AriError
from ari_app.ari.events import CHANNEL_EVENTS, AriEventError, EventStream, parse_event
from ari_app.errors import AriAuthError, AriUnreachable
from testkit.fuzz import FUZZ, JSON_VALUES, mutated

CHANNEL = {
    "id": "1700000000.7",
    "name": "PJSIP/sipp-00000001",
    "state": "Ring",
    "caller": {"name": "", "number": "100"},
    "connected": {"name": "", "number": ""},
    "dialplan": {"context": "secretary-ru", "exten": "100", "priority": 3,
                 "app_name": "Stasis", "app_data": "secretary,ru"},
    "creationtime": "2025-01-01T10:00:00.000+0300",
    "language": "en",
    "channelvars": {"SECRETARY_LINE": "ru", "SECRETARY_FALLBACK": ""},
}
EVENTS: list[dict[str, Any]] = [
    {"type": "StasisStart", "timestamp": "2025-01-01T10:00:00.000+0300", "args": ["ru"],
     "channel": CHANNEL, "asterisk_id": "02:42:ac:11:00:02", "application": "secretary"},
    {"type": "ChannelDtmfReceived", "digit": "1", "duration_ms": 120, "channel": CHANNEL},
    {"type": "ChannelHangupRequest", "cause": 16, "soft": False, "channel": CHANNEL},
    {"type": "BridgeDestroyed", "bridge": {"id": "secretary-abc", "channels": []}},
]
# Where an error may point: the fields the parser checks, or the place in the text.
FIELDS = ("type", "channel", "digit", "duration_ms", "cause")
NOT_A_FIELD = ("not UTF-8 text at byte ", "not JSON: ", "not an event: ", "expected a JSON object")


def assert_routable(event: dict[str, Any]) -> None:
    """What app.py, call/session.py and call/transfer.py take for granted of an event."""
    assert isinstance(event["type"], str)
    if event["type"] in CHANNEL_EVENTS:
        assert "channel" in event
    channel = event.get("channel", {"id": "x"})
    assert isinstance(channel, dict) and isinstance(channel["id"], str) and channel["id"]
    assert isinstance(channel.get("name", ""), str)
    assert isinstance(channel.get("caller", {}).get("number", ""), str)
    assert isinstance(channel.get("dialplan", {}).get("context", ""), str)
    assert all(isinstance(v, str) for v in channel.get("channelvars", {}).values())
    assert isinstance(event.get("digit", ""), str)
    for number in ("duration_ms", "cause"):
        value = event.get(number, 0)
        assert isinstance(value, int) and not isinstance(value, bool)


def field_of(message: str) -> str:
    """The dotted field an AriEventError names ("channel.caller.number: expected ...")."""
    assert not message.startswith(NOT_A_FIELD), message
    field = message.split(": ", 1)[0]
    assert field.split(".", 1)[0] in FIELDS, message
    return field


def check(message: str | bytes) -> dict[str, Any] | None:
    """The property: an event fit to route, or AriEventError saying what is wrong."""
    try:
        event = parse_event(message)
    except AriEventError as exc:
        text = str(exc)
        assert text.startswith(NOT_A_FIELD) or field_of(text), text
        return None
    assert_routable(event)
    return event


@FUZZ
@given(st.binary() | st.text())
@example(b"\xff\xfe{}")  # not UTF-8: was UnicodeDecodeError out of the reader loop
@example("[" * 100_000)  # RecursionError from json.loads
@example("1" * 5000)  # over Python's 4300-digit limit for int()
@example("NaN")
def test_any_text_is_an_event_or_a_named_error(message: str | bytes) -> None:
    check(message)


@FUZZ
@given(JSON_VALUES)
@example([{"type": "StasisStart"}])
@example({"type": "StasisStart", "channel": "1700000000.7"})  # channel not an object
@example({"type": "ChannelDtmfReceived", "channel": {"id": "1"}, "duration_ms": "120"})
@example({"type": 7, "channel": {"id": "1"}})
@example({"type": "StasisEnd", "channel": {"id": ["1"]}})  # unhashable id: TypeError
def test_any_json_is_an_event_or_a_named_error(value: Any) -> None:
    check(json.dumps(value))


@FUZZ
@given(st.sampled_from(EVENTS).flatmap(lambda event: mutated(event, JSON_VALUES)))
def test_a_broken_event_is_refused_naming_what_was_broken(
    broken: tuple[dict[str, Any], list[tuple[str | int, ...]]],
) -> None:
    event, changed = broken
    try:
        parse_event(json.dumps(event))
    except AriEventError as exc:
        field = field_of(str(exc))
        if len(changed) == 1:  # the error points at the change, or inside what replaced it
            place = ".".join(str(key) for key in changed[0])
            assert place.startswith(field) or field.startswith(place), (str(exc), place)
    else:
        assert_routable(event)


def test_the_valid_samples_parse() -> None:
    for event in EVENTS:
        assert parse_event(json.dumps(event)) == event
        assert parse_event(json.dumps(event).encode()) == event


@FUZZ
@given(st.sampled_from(EVENTS).flatmap(lambda event: mutated(event, JSON_VALUES)))
def test_the_app_routes_every_parsed_event_without_an_error(
    broken: tuple[dict[str, Any], list[tuple[str | int, ...]]],
) -> None:
    """`SecretaryApp._dispatch` (no call in progress) on whatever the parser lets through."""
    started: list[dict[str, Any]] = []

    class NoCalls:
        sessions: ClassVar[dict[str, Any]] = {}
        _new_call = staticmethod(started.append)

    event = check(json.dumps(broken[0]))
    if event is not None:
        SecretaryApp._dispatch(NoCalls(), event)  # type: ignore[arg-type]
        for channel in started:
            assert isinstance(channel["id"], str)


class FakeSocket:
    """The websocket's side of `EventStream`: the messages, then the end of the stream."""

    def __init__(self, messages: list[str | bytes]) -> None:
        self.messages = messages

    async def __aiter__(self) -> AsyncIterator[str | bytes]:
        for message in self.messages:
            yield message


async def test_the_reader_loop_logs_a_bad_event_and_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = {"type": "StasisStart", "channel": CHANNEL}
    stream = EventStream(AriClient("http://127.0.0.1:8088", "u", "p", "secretary"))
    stream._ws = FakeSocket([  # type: ignore[assignment]
        '{"type": "StasisStart"}',  # no channel
        '{"type": "StasisStart", "channel": "1700000000.7"}',  # channel not an object
        '{"channel": {"id": "1"}}',  # no type
        '{"type": ["StasisStart"], "channel": {"id": "1"}}',  # type not a string
        "Stasis start!",  # not JSON
        b"\x80",  # not UTF-8
        json.dumps(good),
    ])
    with caplog.at_level(logging.WARNING, logger="ari_app.ari.events"):
        events = [event async for event in stream]
    assert events == [good]
    assert [r.getMessage() for r in caplog.records] == [
        "ignoring a malformed ARI event: channel: missing from a StasisStart event",
        "ignoring a malformed ARI event: channel: expected an object, got a string",
        "ignoring a malformed ARI event: type: missing",
        "ignoring a malformed ARI event: type: expected a string, got an array",
        "ignoring a malformed ARI event: not JSON: Expecting value: line 1 column 1 (char 0)",
        "ignoring a malformed ARI event: not UTF-8 text at byte 0",
    ]
    await stream._client.close()


class FakeAsterisk:
    """An httpx transport that gives the REST client whatever answer the test sets."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b""

    def answer(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(self.status, content=self.body)


ASTERISK = FakeAsterisk()
CLIENT = AriClient("http://127.0.0.1:8088", "secretary", "secret", "secretary")
CLIENT._http = httpx.AsyncClient(
    base_url="http://127.0.0.1:8088/ari", transport=httpx.MockTransport(ASTERISK.answer)
)


@FUZZ
@given(
    st.sampled_from([200, 204, 400, 401, 404, 409, 422, 500, 503]),
    st.binary() | JSON_VALUES.map(lambda value: json.dumps(value).encode()),
)
@example(500, b"[]")  # an error body that is JSON but not an object: AttributeError
@example(200, b"<html>")  # a success that is not JSON: JSONDecodeError
@example(500, b"\xff")
def test_any_rest_answer_is_a_value_or_an_ari_error(status: int, body: bytes) -> None:
    ASTERISK.status, ASTERISK.body = status, body
    try:
        asyncio.run(CLIENT.request("GET", "/channels"))
    except AriError as exc:
        assert f"-> {status}: " in str(exc)
        assert exc.status == status
    except AriAuthError:
        assert status == 401
    except AriUnreachable:
        raise AssertionError("a fake transport is never unreachable") from None
    else:
        assert status < 400
