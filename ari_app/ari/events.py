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
                    event = json.loads(message)
                except ValueError:
                    log.warning("ignoring a non-JSON event message")
                    continue
                if isinstance(event, dict):
                    yield event
        except ConnectionClosed as exc:
            log.warning("ARI events websocket closed: %s", exc)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
