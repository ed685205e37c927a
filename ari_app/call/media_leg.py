"""The call's media leg: an externalMedia channel in the call's bridge plus the transport
that carries its audio to and from this process (RTP over UDP, or chan_websocket)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ari_app.ari.client import AriClient
from ari_app.config import MediaConfig
from ari_app.media.codecs import get_codec
from ari_app.media.rtp_transport import RtpTransport
from ari_app.media.transport import MediaTransport
from ari_app.media.ws_transport import WebSocketTransport

STASIS_START_TIMEOUT_S = 5.0


@dataclass
class MediaLeg:
    channel_id: str
    transport: MediaTransport

    def describe(self) -> str:
        """For the log: which transport, and our local RTP port when there is one."""
        if isinstance(self.transport, RtpTransport):
            return f"rtp local_port={self.transport.local_port}"
        return f"websocket {getattr(self.transport, 'url', '')}"


async def open_media_leg(
    ari: AriClient,
    cfg: MediaConfig,
    channel_id: str,
    bridge_id: str,
    started: asyncio.Future[None],
) -> MediaLeg:
    """Create the externalMedia channel, wait for its StasisStart (`started`, resolved by
    the app's event router) and only then add it to the bridge: adding it earlier races
    Asterisk and fails with 422."""
    transport: MediaTransport
    if cfg.transport == "rtp":
        codec = get_codec(cfg.codec)
        rtp = RtpTransport(codec, bind_host=cfg.bind_host, paced=True)
        await rtp.start()
        transport = rtp
        try:
            channel = await ari.external_media(
                channel_id,
                external_host=f"{cfg.external_host}:{rtp.local_port}",
                fmt=cfg.codec,
            )
            variables = channel.get("channelvars", {})
            remote_host = variables.get("UNICASTRTP_LOCAL_ADDRESS")
            remote_port = variables.get("UNICASTRTP_LOCAL_PORT")
            if remote_host and remote_port:
                rtp.set_remote(remote_host, int(remote_port))
        except BaseException:
            await rtp.close()
            raise
    else:
        channel = await ari.external_media(
            channel_id,
            external_host="INCOMING",
            fmt="slin16",
            transport="websocket",
            encapsulation="none",
            connection_type="server",
        )
        connection_id = channel.get("channelvars", {}).get("MEDIA_WEBSOCKET_CONNECTION_ID")
        if not connection_id:
            await ari.hangup(channel_id)
            raise RuntimeError("Asterisk gave no MEDIA_WEBSOCKET_CONNECTION_ID for chan_websocket")
        transport = WebSocketTransport(
            ari.websocket_url(f"/media/{connection_id}"), headers=ari.auth_header
        )
        try:
            await transport.start()
        except BaseException:
            await ari.hangup(channel_id)
            raise
    try:
        await asyncio.wait_for(asyncio.shield(started), STASIS_START_TIMEOUT_S)
        await ari.add_to_bridge(bridge_id, channel_id)
    except BaseException:
        await transport.close()
        await ari.hangup(channel_id)
        raise
    return MediaLeg(channel_id=channel_id, transport=transport)
