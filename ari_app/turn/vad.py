"""Streaming voice-activity detection for phone audio (speech vs non-speech per 20 ms frame).

Two detectors share one protocol:

- ``SileroVad``: the Silero VAD v6 ONNX model bundled with faster-whisper, run with onnxruntime
  on one CPU thread. The model works on 16 kHz windows of 512 samples (32 ms) with 64 samples of
  the previous window prepended as context and a recurrent state (``h``, ``c``) carried between
  windows; 8 kHz input is upsampled to 16 kHz by a short streaming FIR (3 ms delay; soxr's
  streaming resampler would hold back up to 100 ms in its blocks).
  It tells speech from steady tones and noise, which a level detector cannot.
- ``EnergyVad``: RMS level in dBFS mapped to a probability around a threshold; for configurations
  without Silero and as a reference in tests.

Both take s16le mono frames of any length and return the latest probability in [0, 1].
"""

from __future__ import annotations

import functools
import importlib.util
import math
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ari_app.errors import EngineUnavailable
from ari_app.media.loudness import frame_dbfs
from ari_app.media.pcm import SampleCarry, int16_samples

MODEL_RATE = 16000
"""The rate the Silero model runs at."""
WINDOW_SAMPLES = 512
"""Samples per model window at 16 kHz (32 ms)."""
CONTEXT_SAMPLES = 64
"""Samples of the previous window prepended to each window."""
_STATE_SHAPE = (1, 1, 128)
_MODEL_FILE = "silero_vad_v6.onnx"
_UPSAMPLE_TAPS = 96
"""Length of the 8 -> 16 kHz interpolation filter: 48 taps per phase, 47.5 samples of delay."""
_FIX = "install the faster-whisper package (pip install faster-whisper==1.2.1), which bundles it"


@runtime_checkable
class VoiceActivityDetector(Protocol):
    """Speech probability of a stream of s16le mono frames at ``sample_rate``."""

    sample_rate: int

    def speech_probability(self, frame: bytes) -> float:
        """Feed one frame (any length, normally 20 ms); return the latest probability in [0, 1]."""
        ...

    def reset(self) -> None:
        """Forget the stream: buffers, model state and the last probability."""
        ...


def default_model_path() -> Path | None:
    """Path of the Silero model inside the installed faster-whisper package, or None.

    Found without importing faster-whisper (which would load CTranslate2).
    """
    try:
        spec = importlib.util.find_spec("faster_whisper")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "assets" / _MODEL_FILE
        if candidate.is_file():
            return candidate
    return None


class SileroVad:
    """Silero VAD v6 (ONNX) over a stream of s16le mono PCM at ``sample_rate``.

    Incoming audio is resampled to 16 kHz when needed and buffered into whole 512-sample windows;
    each completed window updates the probability. A 20 ms frame at 16 kHz is 320 samples, so a
    frame completes zero or one window (a window every 32 ms); ``speech_probability`` returns the
    probability of the most recent window (0.0 before the first one). Input at 8 kHz goes
    through a 2x interpolator first (about 3 ms of delay). Only 8000 and 16000 Hz are accepted.
    """

    # the stream's state, set by reset()
    _pending: np.ndarray  # 16 kHz samples not yet in a whole window
    _context: np.ndarray  # the last samples of the previous window
    _h: np.ndarray  # the model's recurrent state
    _c: np.ndarray

    def __init__(
        self, sample_rate: int = 8000, model_path: Path | None = None, threads: int = 1
    ) -> None:
        if sample_rate not in (8000, MODEL_RATE):
            raise ValueError(f"the Silero VAD takes 8000 or 16000 Hz, not {sample_rate}")
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        self.sample_rate = sample_rate
        path = model_path if model_path is not None else default_model_path()
        if path is None or not Path(path).is_file():
            where = f" at {path}" if path is not None else ""
            raise EngineUnavailable(f"Silero VAD model {_MODEL_FILE} not found{where}: {_FIX}")
        self.model_path = Path(path)
        self._session = _load_session(self.model_path, threads)
        self._upsampler = _Upsampler2x() if sample_rate == 8000 else None
        self._carry = SampleCarry()
        self.windows = 0
        """Model windows run since construction or the last reset."""
        self.reset()

    def speech_probability(self, frame: bytes) -> float:
        self.process(frame)
        return self._probability

    def process(self, pcm: bytes) -> list[float]:
        """Feed s16le PCM of any length; return the probability of each window it completed."""
        data = self._carry.take(pcm)
        if data:
            samples = int16_samples(data).astype(np.float32)
            samples *= np.float32(1.0 / 32768.0)
            if self._upsampler is not None:
                samples = self._upsampler.process(samples)
            self._pending = np.concatenate([self._pending, samples])
        count = len(self._pending) // WINDOW_SAMPLES
        if count == 0:
            return []
        windows = self._pending[: count * WINDOW_SAMPLES].reshape(count, WINDOW_SAMPLES)
        self._pending = self._pending[count * WINDOW_SAMPLES :].copy()
        # Each row is [last 64 samples of the previous window | window]. The model treats the
        # first axis as time and carries its state along it, so one run over N rows equals N
        # runs of one row.
        contexts = np.empty((count, CONTEXT_SAMPLES), dtype=np.float32)
        contexts[0] = self._context
        if count > 1:
            contexts[1:] = windows[:-1, -CONTEXT_SAMPLES:]
        batch = np.ascontiguousarray(np.concatenate([contexts, windows], axis=1))
        self._context = windows[-1, -CONTEXT_SAMPLES:].copy()
        probs, self._h, self._c = self._session.run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        result = [min(1.0, max(0.0, float(p))) for p in np.asarray(probs).reshape(-1)]
        self.windows += count
        self._probability = result[-1]
        return result

    def reset(self) -> None:
        if self._upsampler is not None:
            self._upsampler.reset()
        self._carry.reset()
        self._pending = np.zeros(0, dtype=np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
        self._h = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._c = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._probability = 0.0
        self.windows = 0


class _Upsampler2x:
    """Streaming 8 -> 16 kHz interpolation: zero-stuffing and a Kaiser-windowed sinc low-pass
    (cut-off 4 kHz), computed as two polyphase branches over the carried input history.

    Chunk boundaries do not change the output, and the delay is fixed (47.5 samples at 16 kHz).
    """

    def __init__(self, taps: int = _UPSAMPLE_TAPS) -> None:
        m = np.arange(taps) - (taps - 1) / 2.0
        h = np.sinc(m / 2.0) * np.kaiser(taps, 8.0)
        # each branch is normalised to unit DC gain (the factor 2 of zero-stuffing included)
        self._phases = [
            (h[p::2] / h[p::2].sum()).astype(np.float32) for p in (0, 1)
        ]
        self._history = np.zeros(taps // 2 - 1, dtype=np.float32)

    def process(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros(0, dtype=np.float32)
        data = np.concatenate([self._history, x.astype(np.float32, copy=False)])
        self._history = data[len(data) - len(self._history) :].copy()
        out = np.empty(2 * len(x), dtype=np.float32)
        out[0::2] = np.convolve(data, self._phases[0], mode="valid")
        out[1::2] = np.convolve(data, self._phases[1], mode="valid")
        return out

    def reset(self) -> None:
        self._history[:] = 0.0


@functools.cache
def _load_session(path: Path, threads: int) -> Any:
    """One ONNX session per model file and thread count, shared by every call's detector:
    the stream's state (h, c, context) is passed in and out by each `SileroVad`, and building
    a session per call took 4-40 ms on the event loop."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise EngineUnavailable(
            f"the Silero VAD needs onnxruntime, which is missing: {_FIX}"
        ) from exc
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own exception types
        raise EngineUnavailable(f"cannot load the Silero VAD model {path}: {exc}; {_FIX}") from exc
    inputs = {i.name: list(i.shape) for i in session.get_inputs()}
    if set(inputs) != {"input", "h", "c"} or inputs["input"][-1] != (
        WINDOW_SAMPLES + CONTEXT_SAMPLES
    ):
        raise EngineUnavailable(
            f"{path} is not the Silero VAD v6 model this app expects "
            f"(inputs {inputs}); {_FIX}"
        )
    return session


class EnergyVad:
    """Level detector: probability = logistic((dBFS - threshold) / slope).

    At ``threshold_dbfs`` the probability is 0.5; ``slope_db`` sets how fast it moves (about 0.95
    at threshold + 3 x slope). Any sound loud enough counts as speech: tones, noise, music.
    An empty frame leaves the last probability unchanged.
    """

    def __init__(
        self, sample_rate: int = 8000, threshold_dbfs: float = -45.0, slope_db: float = 3.0
    ) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample rate must be positive, got {sample_rate}")
        if slope_db <= 0:
            raise ValueError(f"slope_db must be positive, got {slope_db}")
        self.sample_rate = sample_rate
        self.threshold_dbfs = threshold_dbfs
        self.slope_db = slope_db
        self._probability = 0.0

    def speech_probability(self, frame: bytes) -> float:
        if len(frame) < 2:
            return self._probability
        level = frame_dbfs(frame, floor=-math.inf)
        if level == -math.inf:
            self._probability = 0.0
        else:
            x = (level - self.threshold_dbfs) / self.slope_db
            self._probability = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))
        return self._probability

    def reset(self) -> None:
        self._probability = 0.0


def build_vad(engine: str, sample_rate: int) -> VoiceActivityDetector:
    """The detector named by the configuration: "silero" or "energy"."""
    name = engine.strip().lower()
    if name == "silero":
        return SileroVad(sample_rate)
    if name == "energy":
        return EnergyVad(sample_rate)
    raise ValueError(f"unknown VAD engine {engine!r}: expected 'silero' or 'energy'")
