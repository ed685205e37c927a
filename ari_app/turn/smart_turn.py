"""Smart Turn v3.2: has the caller finished their turn, judged from the sound of it.

The model (a Whisper-tiny encoder with a small classifier, int8, ~8.7 MB ONNX, multilingual)
hears the last 8 s of the caller's turn and gives the probability that the turn is complete:
intonation, a trailing-off word or a word cut short, none of which a transcript carries. The
file ships inside the pipecat-ai wheel on PyPI; `scripts/setup-models` extracts it to
`models/smart-turn/` (pipecat itself is neither installed nor imported).

What the graph takes (read from the ONNX file): `input_features`, float32 [batch, 80, 800],
Whisper log-mel features of exactly 8 s of 16 kHz audio; the audio is zero-mean unit-variance
normalised before the spectrogram, and a shorter turn is padded with zeros at the start, so
the turn's end is always at the end of the window. What it gives: `logits`, float32
[batch, 1], which despite the name is already a probability (the graph ends in a Sigmoid).

`predict` is synchronous and takes tens of milliseconds on a CPU core: run it in a worker
thread, not on the event loop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ari_app.errors import EngineUnavailable
from ari_app.media.resample import resample

MODEL_DIR = "smart-turn"
MODEL_FILE = "smart-turn-v3.2-cpu.onnx"
SETUP_FIX = "run: .venv/bin/python scripts/setup-models"

MODEL_RATE = 16_000
WINDOW_S = 8
WINDOW_SAMPLES = WINDOW_S * MODEL_RATE  # 128 000
N_MELS = 80
N_FFT = 400
HOP = 160
N_FRAMES = WINDOW_SAMPLES // HOP  # 800
INPUT_NAME = "input_features"
THRESHOLD = 0.5
_NORM_EPS = 1e-7  # the variance floor of Whisper's waveform normalisation
_I16 = np.dtype("<i2")


def default_model_path(models_dir: Path) -> Path:
    """Where `scripts/setup-models` puts the model: MODELS_DIR/smart-turn/<file>."""
    return Path(models_dir) / MODEL_DIR / MODEL_FILE


@dataclass(frozen=True)
class TurnEndGuess:
    """The model's verdict on the turn so far."""

    probability: float  # that the caller has finished, 0..1
    complete: bool  # probability > 0.5
    elapsed_s: float  # time the call to `predict` took, features included


def window_16k(pcm: bytes, rate: int) -> np.ndarray:
    """The last 8 s of s16le mono `pcm` at 16 kHz as float32 in [-1, 1), exactly 128 000
    samples, with zeros at the START when the turn is shorter."""
    if rate <= 0:
        raise ValueError(f"sample rate must be positive, got {rate}")
    whole = len(pcm) & ~1
    if rate != MODEL_RATE:
        # Only the last 8 s matter; keep a little more so the resampler's start-up edge
        # falls outside the window.
        keep = 2 * (WINDOW_S * rate + rate // 20)
        pcm = resample(pcm[max(0, whole - keep) : whole], rate, MODEL_RATE)
        whole = len(pcm) & ~1
    n = whole // 2
    take = min(n, WINDOW_SAMPLES)
    samples = np.frombuffer(pcm, dtype=_I16, count=take, offset=2 * (n - take))
    window = np.zeros(WINDOW_SAMPLES, dtype=np.float32)
    window[WINDOW_SAMPLES - take :] = samples.astype(np.float32) / 32768.0
    return window


class _LogMel:
    """Whisper log-mel features of one 8 s window, with faster-whisper's numpy extractor.

    faster-whisper's extractor matches the Hugging Face Whisper extractor the model was trained
    with (Slaney mel filters, periodic Hann window, the last STFT frame dropped, log10 clipped to
    8 below the maximum, scaled (x + 4) / 4) except for two things done here: the waveform is
    normalised to zero mean and unit variance first (the extractor's do_normalize, which the
    model expects), and its default 160 samples of end padding is turned off so 8 s give
    exactly 800 frames.
    """

    def __init__(self) -> None:
        from faster_whisper.feature_extractor import FeatureExtractor

        self._extractor = FeatureExtractor(
            feature_size=N_MELS,
            sampling_rate=MODEL_RATE,
            hop_length=HOP,
            chunk_length=WINDOW_S,
            n_fft=N_FFT,
        )

    def __call__(self, window: np.ndarray) -> np.ndarray:
        if window.shape != (WINDOW_SAMPLES,):
            raise ValueError(f"expected {WINDOW_SAMPLES} samples, got shape {window.shape}")
        x = window.astype(np.float32)
        x = (x - x.mean()) / np.sqrt(x.var() + _NORM_EPS)
        mel = self._extractor(x, padding=0)
        return np.asarray(mel, dtype=np.float32)


class SmartTurn:
    """Smart Turn v3.2 on onnxruntime (CPU, one intra-op thread, all graph optimisations).

    Loading takes a fraction of a second; keep one instance per process. `predict` may be
    called from several threads at once (onnxruntime's `run` is thread-safe).
    """

    def __init__(self, model_path: Path, *, threads: int = 1) -> None:
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise EngineUnavailable(
                f"Smart Turn model {self.model_path} not found; {SETUP_FIX} "
                "(it extracts the file from the pipecat-ai wheel on PyPI)"
            )
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise EngineUnavailable(
                "Python package onnxruntime is not installed; run scripts/setup"
            ) from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session = ort.InferenceSession(
                str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise EngineUnavailable(
                f"Smart Turn model {self.model_path} cannot be loaded ({exc}); it may be "
                "damaged: run .venv/bin/python scripts/setup-models --force"
            ) from exc
        inputs = self._session.get_inputs()
        expected_shape = [N_MELS, N_FRAMES]
        if (
            len(inputs) != 1
            or inputs[0].name != INPUT_NAME
            or inputs[0].shape[1:] != expected_shape
        ):
            found = [(i.name, i.shape) for i in inputs]
            raise EngineUnavailable(
                f"{self.model_path} is not Smart Turn v3 (inputs {found}, expected "
                f"{INPUT_NAME} [batch, {N_MELS}, {N_FRAMES}]); {SETUP_FIX} --force"
            )
        self._log_mel = _LogMel()

    def features(self, pcm: bytes, rate: int) -> np.ndarray:
        """The model's input for this audio: float32 [1, 80, 800]."""
        return self._log_mel(window_16k(pcm, rate))[np.newaxis]

    def predict(self, pcm: bytes, rate: int) -> TurnEndGuess:
        """How likely the caller has finished, from their turn's audio so far (s16le mono at
        `rate`, 8 or 16 kHz; only the last 8 s are heard)."""
        started = time.perf_counter()
        outputs = self._session.run(None, {INPUT_NAME: self.features(pcm, rate)})
        probability = float(np.asarray(outputs[0]).reshape(-1)[0])
        probability = min(1.0, max(0.0, probability))
        return TurnEndGuess(
            probability=probability,
            complete=probability > THRESHOLD,
            elapsed_s=time.perf_counter() - started,
        )
