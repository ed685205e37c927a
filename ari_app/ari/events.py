"""Event half of ARI: the websocket that registers our Stasis app and streams its events."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from ari_app.ari.client import AriClient
from ari_app.errors import AriAuthError, AriUnreachable

log = logging.getLogger(__name__)

# The events that tell a channel has gone (or is going): its call is over for us.
HANGUP_EVENTS = frozenset({"ChannelHangupRequest", "StasisEnd", "ChannelDestroyed"})
# The events the app routes by their channel: each must carry one.
CHANNEL_EVENTS = HANGUP_EVENTS | {"StasisStart", "ChannelDtmfReceived", "ChannelLeftBridge"}

# Each field the app and the call read from an event, with the JSON type it must have when
# present; the rest of an event is passed on unchecked.
_EVENT_FIELDS: dict[str, type] = {
    "type": str, "channel": dict, "digit": str, "duration_ms": int, "cause": int,
}
_CHANNEL_FIELDS: dict[str, type] = {
    "id": str, "name": str, "caller": dict, "dialplan": dict, "channelvars": dict,
}
_CHANNEL_PARTS: dict[str, dict[str, type]] = {"caller": {"number": str},
                                              "dialplan": {"context": str}}
_JSON_NAMES = {dict: "an object", list: "an array", str: "a string", int: "an integer",
               float: "a number", bool: "true or false", type(None): "null"}


class AriEventError(ValueError):
    """A websocket message that is not an event the app can route; the message names the
    field (or the place in the text) that is wrong."""


def _json_name(value: Any) -> str:
    return _JSON_NAMES.get(type(value), type(value).__name__)


def _check_fields(values: dict[str, Any], fields: dict[str, type], where: str) -> None:
    """Each of `fields` present in `values` has its JSON type (true is not an integer)."""
    for name, kind in fields.items():
        if name not in values:
            continue
        value = values[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise AriEventError(
                f"{where}{name}: expected {_JSON_NAMES[kind]}, got {_json_name(value)}"
            )


def _json_object(message: str | bytes) -> dict[str, Any]:
    """The message's JSON object; AriEventError for anything else (bytes that are not
    UTF-8, text that is not JSON or nests deeper than the parser's recursion limit)."""
    try:
        text = message.decode("utf-8") if isinstance(message, bytes) else message
    except UnicodeDecodeError as exc:
        raise AriEventError(f"not UTF-8 text at byte {exc.start}") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise AriEventError("not an event: JSON nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError says where; an integer over 4300 digits too
        raise AriEventError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise AriEventError(f"expected a JSON object, got {_json_name(value)}")
    return value


def parse_event(message: str | bytes) -> dict[str, Any]:
    """One events-websocket message as an event dict whose routed fields have the types the
    app relies on (`type` a string; `channel`, where present, an object with a non-empty
    string `id`): a malformed event from Asterisk, a proxy or a test harness is refused
    here with AriEventError, so that no KeyError or TypeError surfaces in the call logic."""
    event = _json_object(message)
    _check_fields(event, _EVENT_FIELDS, "")
    kind = event.get("type")
    if kind is None:
        raise AriEventError("type: missing")
    channel = event.get("channel")
    if channel is None:
        if kind in CHANNEL_EVENTS:
            raise AriEventError(f"channel: missing from a {kind} event")
        return event
    if "id" not in channel:
        raise AriEventError("channel.id: missing")
    _check_fields(channel, _CHANNEL_FIELDS, "channel.")
    if not channel["id"]:
        raise AriEventError("channel.id: empty")
    for part, fields in _CHANNEL_PARTS.items():
        if part in channel:
            _check_fields(channel[part], fields, f"channel.{part}.")
    for name, value in channel.get("channelvars", {}).items():
        if not isinstance(value, str):
            raise AriEventError(  # the name is the sender's: cut to a readable length
                f"channel.channelvars.{name[:40]}: expected a string, got {_json_name(value)}"
            )
    return event


@dataclass
class Backoff:
    """Exponential backoff with a little jitter: initial, 2x, 4x ... capped at maximum."""

    initial_s: float = 0.5
    maximum_s: float = 10.0
    jitter: float = 0.0
    attempt: int = field(default=0, init=False)

    def next_delay(self) -> float:
        delay = min(self.maximum_s, self.initial_s * (2**self.attempt))
        self.attempt += 1
        if self.jitter:
            delay *= 1 + random.uniform(-self.jitter, self.jitter)
        return delay

    def reset(self) -> None:
        self.attempt = 0


class EventStream:
    """One connection of the events websocket; iterate it for event dicts."""

    def __init__(self, client: AriClient) -> None:
        self._client = client
        self._ws: ClientConnection | None = None

    async def connect(self) -> None:
        # Never subscribeAll=true: closing such a connection can deadlock Asterisk's ARI
        # (asterisk/asterisk#2170, reproduced on the testbed: docs/testbed.md). The app hears
        # the channels in its Stasis app, which is all it needs.
        url = self._client.websocket_url(
            f"/ari/events?app={self._client.app}&subscribeAll=false"
        )
        try:
            self._ws = await websockets.connect(
                url,
                additional_headers=self._client.auth_header,
                open_timeout=5,
                ping_interval=10,
                ping_timeout=10,
                max_size=None,
            )
        except InvalidStatus as exc:
            if exc.response.status_code == 401:
                raise AriAuthError(
                    f"Asterisk refused ARI user '{self._client.username}' on the events "
                    "websocket (401): check ari.username and ari.password"
                ) from exc
            raise AriUnreachable(
                f"ARI events websocket refused: HTTP {exc.response.status_code}"
            ) from exc
        except (OSError, TimeoutError) as exc:
            raise AriUnreachable(
                f"cannot reach the ARI events websocket at {url.split('?')[0]} ({exc})"
            ) from exc

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        assert self._ws is not None, "connect() first"
        try:
            async for message in self._ws:
                try:
                    event = parse_event(message)
                except AriEventError as exc:
                    log.warning("ignoring a malformed ARI event: %s", exc)
                    continue
                yield event
        except ConnectionClosed as exc:
            log.warning("ARI events websocket closed: %s", exc)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
