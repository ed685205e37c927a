import math

import numpy as np

from ari_app.media.joiner import SentenceJoiner
from ari_app.media.loudness import Loudness


def sine(dbfs: float, n: int = 160, rate: int = 8000) -> bytes:
    amp = 32768 * 10 ** (dbfs / 20) * math.sqrt(2)
    t = np.arange(n) / rate
    return (np.sin(2 * np.pi * 400 * t) * amp).astype("<i2").tobytes()


def level(pcm: bytes) -> float:
    s = np.frombuffer(pcm, "<i2").astype(np.float64)
    return 20 * math.log10(math.sqrt(np.mean(s * s)) / 32768)


def test_quiet_voice_is_raised_loud_voice_lowered() -> None:
    quiet, loud = Loudness(), Loudness()
    out_q = [quiet.process(sine(-30)) for _ in range(50)]
    out_l = [loud.process(sine(-6)) for _ in range(50)]
    assert abs(level(out_q[-1]) + 18) < 0.5
    assert abs(level(out_l[-1]) + 18) < 0.5


def test_gain_is_bounded_and_silence_is_not_boosted() -> None:
    agc = Loudness(max_gain_db=12)
    out = agc.process(sine(-45))
    assert abs(level(out) - (-45 + 12)) < 0.5
    assert agc.process(bytes(320)) == bytes(320)
    assert agc.gain_db == 12  # silence did not move it


def test_gain_moves_slowly_after_the_first_frame() -> None:
    agc = Loudness(step_db=0.5)
    agc.process(sine(-18))
    first = agc.gain_db
    assert abs(first) < 0.1
    agc.process(sine(-30))
    assert abs(agc.gain_db - first - 0.5) < 1e-6


def test_limiter_prevents_clipping() -> None:
    agc = Loudness(target_dbfs=-3, max_gain_db=12)
    agc.process(sine(-30))
    loud = np.frombuffer(agc.process(sine(-3)), "<i2")
    assert np.max(np.abs(loud)) <= 0.9 * 32767


def test_joiner_keeps_every_sample_and_crossfades_the_seam() -> None:
    j = SentenceJoiner(8000, overlap_s=0.01)  # 80 samples
    a = np.full(400, 1000, dtype="<i2").tobytes()
    b = np.full(400, -1000, dtype="<i2").tobytes()
    out = j.push(a)
    j.end_piece()
    out += j.push(b)
    out += j.flush()
    samples = np.frombuffer(out, "<i2")
    assert samples.size == 800 - 80  # the overlap is shared by both pieces
    seam = samples[320:400]
    assert seam[0] > 900 and seam[-1] < -900 and np.all(np.diff(seam) <= 0)
    assert abs(int(samples[-1])) < 20  # faded out at the very end


def test_joiner_without_a_seam_is_transparent() -> None:
    j = SentenceJoiner(8000)
    data = (np.arange(1000) % 200 - 100).astype("<i2")
    out = j.push(data[:333].tobytes()) + j.push(data[333:].tobytes())
    assert np.array_equal(np.frombuffer(out, "<i2"), data[:-80])
