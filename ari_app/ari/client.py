"""REST half of ARI: the few calls the secretary needs, each a typed method.

A thin client of our own over httpx (see docs/decisions.md): the swagger-generated
clients are unmaintained, and the ones that are maintained lack externalMedia.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from ari_app.errors import AriAuthError, AriUnreachable


class AriError(Exception):
    """ARI answered with an error status."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        super().__init__(f"ARI {method} {path} -> {status}: {message}")
        self.status = status


def _json_body(resp: httpx.Response) -> Any:
    """The answer's JSON; ValueError also for JSON nested too deeply for Python's parser
    (json raises RecursionError there, which no caller expects)."""
    try:
        return resp.json()
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _error_message(resp: httpx.Response) -> str:
    """ARI's own `message` from an error answer; the answer's text when there is none (an
    HTML error page, JSON that is not an object)."""
    try:
        body = _json_body(resp)
    except ValueError:
        return resp.text
    message = body.get("message") if isinstance(body, dict) else None
    return message if isinstance(message, str) else resp.text


class AriClient:
    def __init__(
        self, base_url: str, username: str, password: str, app: str, timeout_s: float = 5.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.app = app
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.auth_header = {"Authorization": f"Basic {token}"}
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/ari", headers=self.auth_header, timeout=timeout_s
        )

    async def close(self) -> None:
        await self._http.aclose()

    def websocket_url(self, path: str) -> str:
        """ws:// URL of a websocket path on the same server (events, chan_websocket media)."""
        scheme = "wss" if self.base_url.startswith("https") else "ws"
        host = self.base_url.split("://", 1)[1]
        return f"{scheme}://{host}{path}"

    async def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        try:
            resp = await self._http.request(method, path, params=params, json=json)
        except httpx.TransportError as exc:
            raise AriUnreachable(
                f"cannot reach Asterisk ARI at {self.base_url} ({exc.__class__.__name__}: {exc})"
            ) from exc
        if resp.status_code == 401:
            raise AriAuthError(
                f"Asterisk refused ARI user '{self.username}' at {self.base_url} (401): "
                "check ari.username and ari.password against Asterisk's ari.conf"
            )
        if resp.status_code >= 400:
            raise AriError(method, path, resp.status_code, _error_message(resp))
        if not resp.content:
            return None
        try:
            return _json_body(resp)
        except ValueError as exc:  # a proxy's HTML page, a truncated answer
            raise AriError(
                method, path, resp.status_code, f"the answer is not JSON: {exc}"
            ) from None

    # --- the calls the secretary uses -------------------------------------------------
    async def asterisk_info(self) -> dict[str, Any]:
        """Asterisk's own description; AriUnreachable while its HTTP server answers but ARI
        does not (404/503: Asterisk still loading its modules after a restart, or res_ari
        not enabled), so that the caller retries as for a server that is down."""
        try:
            info: dict[str, Any] = await self.request("GET", "/asterisk/info")
        except AriError as exc:
            if exc.status in (404, 503):
                raise AriUnreachable(
                    f"Asterisk answers HTTP at {self.base_url} but not ARI ({exc.status}): "
                    "still starting, or ARI not enabled (res_ari loaded, ari.conf "
                    "enabled = yes, http.conf enabled = yes)"
                ) from exc
            raise
        return info

    async def application(self, name: str) -> dict[str, Any] | None:
        try:
            app: dict[str, Any] = await self.request("GET", f"/applications/{name}")
        except AriError as exc:
            if exc.status == 404:
                return None
            raise
        return app

    async def channels(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self.request("GET", "/channels")
        return result

    async def bridges(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self.request("GET", "/bridges")
        return result

    async def channel(self, channel_id: str) -> dict[str, Any] | None:
        try:
            ch: dict[str, Any] = await self.request("GET", f"/channels/{channel_id}")
        except AriError as exc:
            if exc.status == 404:
                return None
            raise
        return ch

    async def answer(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{channel_id}/answer")

    async def hangup(self, channel_id: str, reason: str = "normal") -> bool:
        """Hang a channel up; False when it was already gone."""
        try:
            await self.request("DELETE", f"/channels/{channel_id}", params={"reason": reason})
        except AriError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def create_bridge(self, bridge_id: str, name: str) -> None:
        await self.request(
            "POST", f"/bridges/{bridge_id}", params={"type": "mixing", "name": name}
        )

    async def destroy_bridge(self, bridge_id: str) -> bool:
        try:
            await self.request("DELETE", f"/bridges/{bridge_id}")
        except AriError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def add_to_bridge(self, bridge_id: str, channel_id: str) -> None:
        await self.request(
            "POST", f"/bridges/{bridge_id}/addChannel", params={"channel": channel_id}
        )

    async def external_media(
        self,
        channel_id: str,
        *,
        external_host: str,
        fmt: str,
        transport: str = "udp",
        encapsulation: str = "rtp",
        connection_type: str = "client",
    ) -> dict[str, Any]:
        params = {
            "app": self.app,
            "channelId": channel_id,
            "external_host": external_host,
            "format": fmt,
            "transport": transport,
            "encapsulation": encapsulation,
            "connection_type": connection_type,
            "direction": "both",
        }
        if transport == "websocket":
            params.pop("external_host")
            params["external_host"] = "INCOMING"
        channel: dict[str, Any] = await self.request(
            "POST", "/channels/externalMedia", params=params
        )
        return channel

    # --- transfers -------------------------------------------------------------------
    async def originate(
        self,
        channel_id: str,
        endpoint: str,
        *,
        app_args: str,
        caller_id: str = "",
        timeout_s: int = 30,
        variables: dict[str, str] | None = None,
        originator: str = "",
    ) -> dict[str, Any]:
        """Call `endpoint`; once it answers the channel enters our Stasis app with
        `app_args`. Its events carry `channel_id`, known before it exists.

        `originator` (a channel id) gives the new channel that channel's codecs and links
        the two in CDRs. Without it Asterisk offers every codec it knows, and a Local
        channel settles on 192 kHz signed linear, transcoded twice on every frame."""
        params: dict[str, Any] = {
            "endpoint": endpoint, "app": self.app, "appArgs": app_args,
            "timeout": timeout_s,
        }
        if originator:
            params["originator"] = originator
        if caller_id:
            params["callerId"] = caller_id
        body = {"variables": variables} if variables else None
        channel: dict[str, Any] = await self.request(
            "POST", f"/channels/{channel_id}", params=params, json=body
        )
        return channel

    async def continue_in_dialplan(
        self, channel_id: str, context: str, extension: str, priority: int = 1
    ) -> None:
        """Send a channel out of Stasis to a dialplan location (a blind transfer)."""
        await self.request(
            "POST", f"/channels/{channel_id}/continue",
            params={"context": context, "extension": extension, "priority": priority},
        )

    async def set_variable(self, channel_id: str, variable: str, value: str) -> None:
        await self.request(
            "POST", f"/channels/{channel_id}/variable",
            params={"variable": variable, "value": value},
        )

    async def remove_from_bridge(self, bridge_id: str, channel_id: str) -> None:
        await self.request(
            "POST", f"/bridges/{bridge_id}/removeChannel", params={"channel": channel_id}
        )
