"""Call-progress tones made here and sent through the media leg like speech: the ring-back
a caller hears while the secretary rings a staff member (425 Hz, 0.8 s on, 3.2 s off, the
Russian/European ring-back cadence)."""

from __future__ import annotations

import asyncio

import numpy as np

from ari_app.media.pacer import FramePacer, frame_bytes
from ari_app.media.transport import MediaTransport

RINGBACK_HZ = 425.0
RINGBACK_ON_S, RINGBACK_OFF_S = 0.8, 3.2
LEVEL = 0.18  # about -15 dBFS: a tone, not speech


def ringback_cycle(rate: int) -> bytes:
    """One on/off period of the ring-back as s16le PCM at `rate`."""
    on = int(RINGBACK_ON_S * rate)
    t = np.arange(on) / rate
    tone = LEVEL * np.sin(2 * np.pi * RINGBACK_HZ * t)
    ramp = min(on // 2, int(0.01 * rate))  # 10 ms fade in and out, no clicks
    envelope = np.ones(on)
    envelope[:ramp] = np.linspace(0, 1, ramp)
    envelope[-ramp:] = np.linspace(1, 0, ramp)
    samples = np.concatenate([tone * envelope, np.zeros(int(RINGBACK_OFF_S * rate))])
    return (samples * 32767).astype("<i2").tobytes()


async def play_ringback(transport: MediaTransport) -> None:
    """Send the ring-back, 20 ms at a time on the pacer's clock, until cancelled."""
    rate = transport.sample_rate
    cycle = ringback_cycle(rate)
    size = frame_bytes(rate)
    pacer = FramePacer(clock=asyncio.get_running_loop().time)
    while True:
        for start in range(0, len(cycle) - size + 1, size):
            await pacer.wait()
            await transport.write_frame(cycle[start : start + size])


def ringback_task(transport: MediaTransport) -> asyncio.Task[None]:
    return asyncio.create_task(play_ringback(transport), name="ringback")
