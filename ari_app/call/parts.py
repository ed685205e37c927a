"""What a call builds for itself once it is answered: its media leg (the externalMedia
channel and the transport carrying its audio), the caller's voice detector and the
recogniser's turn stream. The app uses the real builders; unit tests give a call fakes
(a scripted transport, a recogniser that needs no model) and run the real `CallSession`
on a virtual clock (tests/unit/test_session_clock.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ari_app.ari.client import AriClient
from ari_app.call.media_leg import MediaLeg, open_media_leg
from ari_app.config import MediaConfig
from ari_app.stt.base import SpeechToText
from ari_app.stt.streaming import StreamingStt
from ari_app.stt.turn_stream import TurnStream, open_turn_stream
from ari_app.turn.vad import VoiceActivityDetector, build_vad

# (ari, media config, media channel id, bridge id, its StasisStart) -> the leg, in the bridge
MediaLegOpener = Callable[
    [AriClient, MediaConfig, str, str, asyncio.Future[None]], Awaitable[MediaLeg]
]
# (VAD engine name, sample rate) -> the caller's voice detector
VadBuilder = Callable[[str, int], VoiceActivityDetector]
# (batch engine, streaming engine, language, sample rate, call id) -> the turn stream
TurnStreamOpener = Callable[
    [SpeechToText | None, StreamingStt | None, str, int, str], TurnStream
]


@dataclass(frozen=True)
class CallParts:
    """The builders of a call's own parts (the engines shared by all calls are in
    `Engines`)."""

    media_leg: MediaLegOpener = open_media_leg
    vad: VadBuilder = build_vad
    turn_stream: TurnStreamOpener = open_turn_stream
