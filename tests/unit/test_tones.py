"""The ring-back made here: 425 Hz, 0.8 s on and 3.2 s off, at the leg's sample rate."""

from __future__ import annotations

import numpy as np
import pytest

from ari_app.media.tones import RINGBACK_HZ, ringback_cycle


@pytest.mark.parametrize("rate", [8000, 16000])
def test_ringback_cadence_and_pitch(rate: int) -> None:
    samples = np.frombuffer(ringback_cycle(rate), dtype="<i2").astype(np.float64)
    assert len(samples) == 4 * rate  # one 4 s period
    on, off = samples[: int(0.8 * rate)], samples[int(0.8 * rate) :]
    assert np.abs(off).max() == 0
    spectrum = np.abs(np.fft.rfft(on))
    peak_hz = np.argmax(spectrum) * rate / len(on)
    assert abs(peak_hz - RINGBACK_HZ) < 5
    assert abs(on[0]) < 100 and abs(on[-1]) < 100  # faded in and out: no clicks
