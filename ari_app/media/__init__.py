"""Media layer: G.711 codecs, RTP, resampling, 20 ms pacing and the two transports.

Audio inside the app is s16le mono PCM at a stated rate, in 20 ms frames.
"""

from ari_app.media.codecs import Codec, get_codec
from ari_app.media.pacer import FramePacer, FrameSplitter, frame_bytes, frames
from ari_app.media.resample import Resampler, resample
from ari_app.media.rtp import RtpError, RtpPacket, RtpPacketizer, parse_rtp
from ari_app.media.rtp_transport import RtpTransport
from ari_app.media.transport import MediaTransport, TransportStats
from ari_app.media.ws_transport import WebSocketTransport

__all__ = [
    "Codec",
    "FramePacer",
    "FrameSplitter",
    "MediaTransport",
    "Resampler",
    "RtpError",
    "RtpPacket",
    "RtpPacketizer",
    "RtpTransport",
    "TransportStats",
    "WebSocketTransport",
    "frame_bytes",
    "frames",
    "get_codec",
    "parse_rtp",
    "resample",
]
