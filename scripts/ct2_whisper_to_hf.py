"""Our Whisper (a CTranslate2 model directory) as a Hugging Face `WhisperForConditionalGeneration`,
and a greedy decoder for it that follows what faster-whisper does on the call path.

Why: faster-whisper's CTranslate2 4.8.5 needs CUDA 12's cuBLAS, so on a CUDA 13 machine the
packaged model can only run through PyTorch. The weights are the packaged ones
(models/whisper-base/model.bin), not a download.

The CTranslate2 file (`ctranslate2/specs/model_spec.py`, `_serialize`, binary version 6):
uint32 version, string name, uint32 revision, uint32 count, then per variable: string name,
uint8 rank, uint32 dims, uint8 dtype (float32, int8, int16, int32, float16, bfloat16), uint32
byte count, the bytes; then uint32 count of aliases, each two strings (alias, target). A string
is uint16 length (with its NUL), the UTF-8 bytes and a NUL.

The names come from `ctranslate2/converters/transformers.py` (`WhisperLoader`, `BartLoader`):
self-attention's q, k, v are fused into `linear_0` (k has no bias: zeros there), the cross
attention's k, v into `linear_1`, and the output projection is an alias of the embeddings.

For a trip in limited space, `quantise` stores each weight matrix as int8 per output row with a
float32 scale (1-D tensors stay float16); `dequantise` undoes it.

The decoder (`WhisperDecoder`): greedy, temperature 0, Whisper's timestamp rules (timestamps in
pairs and never decreasing, the first token a timestamp within the first second, a timestamp when
their total probability beats any text token's), blank and the config's tokens suppressed: what
CTranslate2's `generate` does for faster-whisper. The fitted window and its guards are the call
path's own (`ari_app/stt/whisper_window.py`, loaded by file so that no engine is imported).
"""

from __future__ import annotations

import importlib.util
import json
import math
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO

import numpy as np

REPO = Path(__file__).resolve().parent.parent
WINDOW_MODULE = REPO / "ari_app" / "stt" / "whisper_window.py"

_CT2_DTYPES: dict[int, Any] = {
    0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16,
}  # fmt: skip
_BFLOAT16 = 5

SAMPLE_RATE = 16000
N_FFT = 400
HOP = 160
# the call path's fitted window (ari_app/stt/whisper.py): 2 s of padding, at least 10 s
MARGIN_FRAMES = 200
MIN_WINDOW_FRAMES = 1000
MAX_INITIAL_TIMESTAMP_INDEX = 50  # faster-whisper's max_initial_timestamp 1.0 s


# --- reading the CTranslate2 file ---------------------------------------------------------------


def _read(f: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise ValueError("truncated CTranslate2 model file")
    return struct.unpack("<" + fmt, data)[0]


def _read_string(f: BinaryIO) -> str:
    length = _read(f, "H")
    return f.read(length)[:-1].decode("utf-8")


def read_ct2(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The variables (name -> array) and aliases (alias -> variable) of a CTranslate2 model.bin."""
    variables: dict[str, np.ndarray] = {}
    aliases: dict[str, str] = {}
    with open(path, "rb") as f:
        version = _read(f, "I")
        if version < 5:
            raise ValueError(f"CTranslate2 binary version {version} is not supported (need >= 5)")
        _read_string(f)  # the spec's name, e.g. WhisperSpec
        _read(f, "I")  # its revision
        for _ in range(_read(f, "I")):
            name = _read_string(f)
            rank = _read(f, "B")
            shape = tuple(_read(f, "I") for _ in range(rank))
            type_id = _read(f, "B")
            nbytes = _read(f, "I")
            raw = f.read(nbytes)
            if type_id == _BFLOAT16:
                bits = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
                array = bits.view(np.float32)
            elif type_id in _CT2_DTYPES:
                array = np.frombuffer(raw, dtype=_CT2_DTYPES[type_id])
            else:
                raise ValueError(f"{name}: unknown CTranslate2 dtype id {type_id}")
            variables[name] = array.reshape(shape).copy()
        for _ in range(_read(f, "I")):
            alias = _read_string(f)
            aliases[alias] = _read_string(f)
    return variables, aliases


def _layers(variables: dict[str, np.ndarray], side: str) -> int:
    count = 0
    while f"{side}/layer_{count}/ffn/linear_0/weight" in variables:
        count += 1
    return count


def hf_config(variables: dict[str, np.ndarray], ct2_config: dict[str, Any]) -> dict[str, Any]:
    """`WhisperConfig` keyword arguments read off the tensors and CTranslate2's config.json."""
    d_model = int(variables["encoder/layer_norm/gamma"].shape[0])
    vocab = int(variables["decoder/embeddings/weight"].shape[0])
    eot = 50257  # <|endoftext|> in both of Whisper's vocabularies
    return {
        "vocab_size": vocab,
        "num_mel_bins": int(variables["encoder/conv1/weight"].shape[1]),
        "d_model": d_model,
        "encoder_layers": _layers(variables, "encoder"),
        "decoder_layers": _layers(variables, "decoder"),
        "encoder_attention_heads": int(variables["encoder/num_heads"]),
        "decoder_attention_heads": int(variables["decoder/num_heads"]),
        "encoder_ffn_dim": int(variables["encoder/layer_0/ffn/linear_0/weight"].shape[0]),
        "decoder_ffn_dim": int(variables["decoder/layer_0/ffn/linear_0/weight"].shape[0]),
        "max_source_positions": int(variables["encoder/position_encodings/encodings"].shape[0]),
        "max_target_positions": int(variables["decoder/position_encodings/encodings"].shape[0]),
        "scale_embedding": False,
        "activation_function": "gelu",
        "pad_token_id": eot,
        "bos_token_id": eot,
        "eos_token_id": eot,
        "decoder_start_token_id": eot + 1,
        "tie_word_embeddings": True,
        "suppress_tokens": list(ct2_config.get("suppress_ids", [])),
        "begin_suppress_tokens": list(ct2_config.get("suppress_ids_begin", [])),
    }


def _linear(out: dict[str, np.ndarray], hf: str, ct2: dict[str, np.ndarray], name: str,
            rows: slice | None = None, bias: bool = True) -> None:
    weight = ct2[f"{name}/weight"]
    out[f"{hf}.weight"] = weight if rows is None else weight[rows]
    if bias:
        b = ct2[f"{name}/bias"]
        out[f"{hf}.bias"] = b if rows is None else b[rows]


def _norm(out: dict[str, np.ndarray], hf: str, ct2: dict[str, np.ndarray], name: str) -> None:
    out[f"{hf}.weight"] = ct2[f"{name}/gamma"]
    out[f"{hf}.bias"] = ct2[f"{name}/beta"]


def to_hf_state_dict(ct2: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """CTranslate2 Whisper variables -> a `WhisperForConditionalGeneration` state dict (the
    tied `proj_out.weight` left out)."""
    d = int(ct2["encoder/layer_norm/gamma"].shape[0])
    q, k, v = slice(0, d), slice(d, 2 * d), slice(2 * d, 3 * d)
    out: dict[str, np.ndarray] = {}
    for conv in ("conv1", "conv2"):
        out[f"model.encoder.{conv}.weight"] = ct2[f"encoder/{conv}/weight"]
        out[f"model.encoder.{conv}.bias"] = ct2[f"encoder/{conv}/bias"]
    out["model.encoder.embed_positions.weight"] = ct2["encoder/position_encodings/encodings"]
    out["model.decoder.embed_positions.weight"] = ct2["decoder/position_encodings/encodings"]
    out["model.decoder.embed_tokens.weight"] = ct2["decoder/embeddings/weight"]
    for side in ("encoder", "decoder"):
        _norm(out, f"model.{side}.layer_norm", ct2, f"{side}/layer_norm")
        for i in range(_layers(ct2, side)):
            src, dst = f"{side}/layer_{i}", f"model.{side}.layers.{i}"
            fused = f"{src}/self_attention/linear_0"
            _linear(out, f"{dst}.self_attn.q_proj", ct2, fused, q)
            _linear(out, f"{dst}.self_attn.k_proj", ct2, fused, k, bias=False)
            _linear(out, f"{dst}.self_attn.v_proj", ct2, fused, v)
            _linear(out, f"{dst}.self_attn.out_proj", ct2, f"{src}/self_attention/linear_1")
            _norm(out, f"{dst}.self_attn_layer_norm", ct2, f"{src}/self_attention/layer_norm")
            if side == "decoder":
                cross = f"{src}/attention"
                _linear(out, f"{dst}.encoder_attn.q_proj", ct2, f"{cross}/linear_0")
                kv_rows = slice(0, d)
                _linear(out, f"{dst}.encoder_attn.k_proj", ct2, f"{cross}/linear_1", kv_rows,
                        bias=False)
                _linear(out, f"{dst}.encoder_attn.v_proj", ct2, f"{cross}/linear_1",
                        slice(d, 2 * d))
                _linear(out, f"{dst}.encoder_attn.out_proj", ct2, f"{cross}/linear_2")
                _norm(out, f"{dst}.encoder_attn_layer_norm", ct2, f"{cross}/layer_norm")
            _linear(out, f"{dst}.fc1", ct2, f"{src}/ffn/linear_0")
            _linear(out, f"{dst}.fc2", ct2, f"{src}/ffn/linear_1")
            _norm(out, f"{dst}.final_layer_norm", ct2, f"{src}/ffn/layer_norm")
    return out


def k_bias_is_zero(ct2: dict[str, np.ndarray]) -> bool:
    """CTranslate2 filled the missing k biases with zeros (a check that the fusion is read
    right: q, k, v in that order)."""
    d = int(ct2["encoder/layer_norm/gamma"].shape[0])
    for side in ("encoder", "decoder"):
        for i in range(_layers(ct2, side)):
            fused = ct2[f"{side}/layer_{i}/self_attention/linear_0/bias"]
            if np.any(fused[d : 2 * d] != 0):
                return False
        if side == "decoder":
            for i in range(_layers(ct2, side)):
                if np.any(ct2[f"decoder/layer_{i}/attention/linear_1/bias"][:d] != 0):
                    return False
    return True


def load_ct2_as_hf(model_dir: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(WhisperConfig kwargs, HF state dict) of a CTranslate2 Whisper directory."""
    ct2, _aliases = read_ct2(model_dir / "model.bin")
    if not k_bias_is_zero(ct2):
        raise ValueError("unexpected CTranslate2 layout: a fused k bias is not zero")
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    return hf_config(ct2, config), to_hf_state_dict(ct2)


# --- int8 per row, for the trip -----------------------------------------------------------------

SCALE_SUFFIX = ".__scale__"


def quantise(state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Matrices (rank >= 2) as int8 per output row (row = first axis) with float32 scales
    (`name + SCALE_SUFFIX`); other tensors as float16."""
    packed: dict[str, np.ndarray] = {}
    for name, value in state.items():
        w = value.astype(np.float32)
        if w.ndim < 2:
            packed[name] = w.astype(np.float16)
            continue
        rows = w.reshape(w.shape[0], -1)
        scale = np.abs(rows).max(axis=1) / 127.0
        scale[scale == 0] = 1.0
        qrows = np.clip(np.rint(rows / scale[:, None]), -127, 127).astype(np.int8)
        packed[name] = qrows.reshape(w.shape)
        packed[name + SCALE_SUFFIX] = scale.astype(np.float32)
    return packed


def dequantise(packed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, value in packed.items():
        if name.endswith(SCALE_SUFFIX):
            continue
        scale = packed.get(name + SCALE_SUFFIX)
        if scale is None:
            out[name] = value.astype(np.float32)
        else:
            shape = (-1,) + (1,) * (value.ndim - 1)
            out[name] = value.astype(np.float32) * scale.reshape(shape)
    return out


def write_parts(packed: dict[str, np.ndarray], dirs: Sequence[Path],
                first_bytes: int) -> list[Path]:
    """Split `packed` into safetensors files: the first up to about `first_bytes`, the rest
    in the second (a tensor and its scale stay together)."""
    from safetensors.numpy import save_file

    names = sorted(n for n in packed if not n.endswith(SCALE_SUFFIX))
    parts: list[dict[str, np.ndarray]] = [{}, {}]
    used = 0
    for name in names:
        group = {name: packed[name]}
        if name + SCALE_SUFFIX in packed:
            group[name + SCALE_SUFFIX] = packed[name + SCALE_SUFFIX]
        size = sum(a.nbytes for a in group.values())
        index = 0 if used + size <= first_bytes else 1
        if index == 0:
            used += size
        parts[index].update(group)
    paths = []
    for i, (part, folder) in enumerate(zip(parts, dirs, strict=True)):
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"whisper-base-int8-part{i + 1}.safetensors"
        save_file({k: np.ascontiguousarray(v) for k, v in part.items()}, str(path))
        paths.append(path)
    return paths


def read_parts(paths: Sequence[Path]) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    packed: dict[str, np.ndarray] = {}
    for path in paths:
        packed.update(load_file(str(path)))
    return packed


# --- the Hugging Face model ---------------------------------------------------------------------


def build_model(config_kwargs: dict[str, Any], state: dict[str, np.ndarray], device: str,
                dtype: Any) -> Any:
    """A `WhisperForConditionalGeneration` with `state` loaded (strict), in eval mode."""
    import torch
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    config = WhisperConfig(**config_kwargs)
    with torch.device("meta"):
        model: Any = WhisperForConditionalGeneration(config)
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}
    tensors["proj_out.weight"] = tensors["model.decoder.embed_tokens.weight"]
    missing, unexpected = model.load_state_dict(tensors, strict=False, assign=True)
    if missing or unexpected:
        raise ValueError(f"state dict mismatch: missing {missing}, unexpected {unexpected}")
    model = model.to(device=device, dtype=dtype).eval()
    model.proj_out.weight = model.model.decoder.embed_tokens.weight  # tied, as in Whisper
    return model


# --- features ------------------------------------------------------------------------------------


def mel_filters(n_mels: int, sr: int = SAMPLE_RATE, n_fft: int = N_FFT) -> np.ndarray:
    """Slaney-style mel filterbank (librosa's default, as Whisper and faster-whisper use)."""
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0

    def hz_to_mel(hz: float) -> float:
        return hz / f_sp if hz < min_log_hz else min_log_mel + math.log(hz / min_log_hz) / logstep

    mels = np.linspace(0.0, hz_to_mel(sr / 2), n_mels + 2)
    hz = np.where(mels < min_log_mel, mels * f_sp,
                  min_log_hz * np.exp(logstep * (mels - min_log_mel)))
    fft_hz = np.fft.rfftfreq(n_fft, 1.0 / sr)
    fdiff = np.diff(hz)
    ramps = hz[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (hz[2 : n_mels + 2] - hz[:n_mels]))[:, None]
    return weights.astype(np.float32)


class LogMel:
    """faster-whisper's features in torch: 160 zero samples appended, centred STFT (reflect),
    power, mel, log10 floored at 1e-10 and at max - 8, then (x + 4) / 4; N / 160 + 1 frames."""

    def __init__(self, n_mels: int, device: str) -> None:
        import torch

        self.torch = torch
        self.filters = torch.from_numpy(mel_filters(n_mels)).to(device)
        self.window = torch.hann_window(N_FFT, device=device)
        self.device = device

    def __call__(self, audio: Any) -> Any:
        torch = self.torch
        x = torch.nn.functional.pad(audio.to(self.device, torch.float32), (0, HOP))
        spec = torch.stft(x, N_FFT, HOP, window=self.window, center=True, pad_mode="reflect",
                          return_complex=True)
        power = spec[..., :-1].abs() ** 2
        log_spec = torch.clamp(self.filters @ power, min=1e-10).log10()
        log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
        return (log_spec + 4.0) / 4.0


def load_window_module() -> ModuleType:
    """ari_app/stt/whisper_window.py by file (numpy only), without importing the package."""
    name = "_call_path_whisper_window"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, WINDOW_MODULE)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {WINDOW_MODULE}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# --- decoding -----------------------------------------------------------------------------------


@dataclass
class Heard:
    text: str
    window: str  # "fitted" or "full" (the 30 s window, also a fitted result's fallback)
    tokens: int  # decoder steps taken (all windows decoded)
    seconds: float = 0.0  # wall time of features + encoder + decoder (synchronised)
    parts: dict[str, float] = field(default_factory=dict)  # features / encode / decode seconds


class WhisperDecoder:
    """Greedy Whisper on a Hugging Face model, as the call path decodes (no prompt)."""

    def __init__(self, model: Any, tokenizer_path: Path, device: str) -> None:
        import torch
        from tokenizers import Tokenizer

        self.torch = torch
        self.model = model
        self.device = device
        self.dtype = next(model.parameters()).dtype
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        config = model.config
        self.features = LogMel(config.num_mel_bins, device)
        self.window = load_window_module()
        def tok(token: str) -> int:
            found = self.tokenizer.token_to_id(token)
            if found is None:
                raise ValueError(f"{tokenizer_path} has no {token}")
            return int(found)

        self.eot = tok("<|endoftext|>")
        self.sot = tok("<|startoftranscript|>")
        self.transcribe_id = tok("<|transcribe|>")
        self.no_timestamps = tok("<|notimestamps|>")
        self.ts_begin = self.no_timestamps + 1
        self.blank = self.tokenizer.encode(" ", add_special_tokens=False).ids
        self.vocab = int(config.vocab_size)
        suppress = set(config.suppress_tokens or [])
        suppress.update((self.sot, tok("<|startofprev|>"), tok("<|startoflm|>"),
                         tok("<|translate|>"), self.transcribe_id))
        self.suppress = torch.tensor(sorted(suppress), device=device)
        self.max_target = int(config.max_target_positions)
        self.full_frames = int(config.max_source_positions) * 2

    def sync(self) -> None:
        if self.device.startswith("cuda"):
            self.torch.cuda.synchronize()

    # the encoder on a window of any length up to 30 s (HF's forward insists on 3000 frames)
    def encode(self, window: Any) -> Any:
        torch = self.torch
        enc = self.model.model.encoder
        x = torch.nn.functional.gelu(enc.conv1(window))
        x = torch.nn.functional.gelu(enc.conv2(x)).permute(0, 2, 1)
        x = x + enc.embed_positions.weight[: x.shape[1]]
        for layer in enc.layers:
            out = layer(x, None)
            x = out[0] if isinstance(out, tuple) else out
        return enc.layer_norm(x)

    def _choose(self, logits: Any, sampled: list[int]) -> int:
        """The next token: suppression and the timestamp rules, then the argmax."""
        torch = self.torch
        tb = self.ts_begin
        logits = logits.float()
        logits[self.suppress] = -math.inf
        logits[self.no_timestamps] = -math.inf
        if not sampled:
            logits[[*self.blank, self.eot]] = -math.inf
        last_ts = len(sampled) >= 1 and sampled[-1] >= tb
        penult_ts = len(sampled) < 2 or sampled[-2] >= tb
        if last_ts:
            if penult_ts:
                logits[tb:] = -math.inf
            else:
                logits[: self.eot] = -math.inf
        stamps = [t for t in sampled if t >= tb]
        if stamps:
            floor = stamps[-1] if (last_ts and not penult_ts) else stamps[-1] + 1
            logits[tb:floor] = -math.inf
        if not sampled:
            logits[:tb] = -math.inf
            logits[tb + MAX_INITIAL_TIMESTAMP_INDEX + 1 :] = -math.inf
        logprobs = torch.log_softmax(logits, dim=-1)
        stamp_mass = torch.logsumexp(logprobs[tb:], dim=-1)
        best_text = logprobs[:tb].max()
        logits = torch.where(
            (torch.arange(logits.shape[0], device=logits.device) < tb) & (stamp_mass > best_text),
            torch.full_like(logits, -math.inf), logits,
        )
        return int(logits.argmax())

    def greedy(self, encoded: Any, prompt: list[int], max_new: int) -> tuple[list[int], bool]:
        """Generated tokens (without the end of text) and whether the end of text came."""
        torch = self.torch
        model = self.model
        ids = torch.tensor([prompt], device=self.device)
        past = None
        sampled: list[int] = []
        with torch.inference_mode():
            for _ in range(max_new):
                out = model.model.decoder(input_ids=ids, encoder_hidden_states=encoded,
                                          past_key_values=past, use_cache=True)
                past = out.past_key_values
                logits = model.proj_out(out.last_hidden_state[0, -1])
                token = self._choose(logits, sampled)
                if token == self.eot:
                    return sampled, True
                sampled.append(token)
                ids = torch.tensor([[token]], device=self.device)
        return sampled, False

    def _texts(self, tokens: list[int]) -> list[tuple[float, str]]:
        segments = self.window.split_segments(tokens, self.ts_begin, self.eot)
        return [(start, self.tokenizer.decode(words)) for start, words in segments]

    def _prompt(self, language: str) -> list[int]:
        lang = self.tokenizer.token_to_id(f"<|{language}|>")
        if lang is None:
            raise ValueError(f"Whisper has no language {language!r}")
        return [self.sot, int(lang), self.transcribe_id]

    def transcribe(self, audio: np.ndarray, language: str, window: str = "fitted") -> Heard:
        """`audio`: float32 mono at 16 kHz. `window`: "fitted" (the call path: a window fitted
        to the audio, its guards, the 30 s window when they reject) or "full" (30 s only)."""
        torch = self.torch
        w = self.window
        self.sync()
        started = time.perf_counter()
        parts: dict[str, float] = {}
        with torch.inference_mode():
            feats = self.features(torch.from_numpy(audio))
            content = min(int(feats.shape[-1]), self.full_frames)
            self.sync()
            parts["features"] = time.perf_counter() - started
            prompt = self._prompt(language)
            audio_s = len(audio) / SAMPLE_RATE
            steps = 0
            if window == "fitted" and content + MARGIN_FRAMES <= self.full_frames:
                frames = w.window_frames(content, MARGIN_FRAMES, MIN_WINDOW_FRAMES)
                text = self._fitted(feats, content, frames, prompt, audio_s, parts)
                steps += int(parts.pop("_steps"))
                if text is not None:
                    self.sync()
                    return Heard(text, "fitted", steps, time.perf_counter() - started, parts)
            text = self._full(feats, content, prompt, parts)
            steps += int(parts.pop("_steps"))
            self.sync()
        return Heard(text, "full", steps, time.perf_counter() - started, parts)

    def _window(self, feats: Any, content: int, frames: int) -> Any:
        window = self.torch.zeros((1, feats.shape[0], frames), device=self.device,
                                  dtype=self.dtype)
        window[0, :, :content] = feats[:, :content].to(self.dtype)
        return window

    def _timed_encode(self, window: Any, parts: dict[str, float]) -> Any:
        self.sync()
        t0 = time.perf_counter()
        encoded = self.encode(window)
        self.sync()
        parts["encode"] = parts.get("encode", 0.0) + time.perf_counter() - t0
        return encoded

    def _timed_greedy(self, encoded: Any, prompt: list[int], max_new: int,
                      parts: dict[str, float]) -> tuple[list[int], bool]:
        t0 = time.perf_counter()
        tokens, ended = self.greedy(encoded, prompt, max_new)
        self.sync()
        parts["decode"] = parts.get("decode", 0.0) + time.perf_counter() - t0
        parts["_steps"] = len(tokens) + (1 if ended else 0)
        return tokens, ended

    def _fitted(self, feats: Any, content: int, frames: int, prompt: list[int], audio_s: float,
                parts: dict[str, float]) -> str | None:
        w = self.window
        encoded = self._timed_encode(self._window(feats, content, frames), parts)
        max_length = min(len(prompt) + w.TOKENS_FIXED + int(w.TOKENS_PER_S * audio_s),
                         self.max_target)
        tokens, ended = self._timed_greedy(encoded, prompt, max_length - len(prompt), parts)
        kept, cut = w.keep_segments(self._texts(tokens), audio_s)
        if not ended and not cut:
            return None
        text = " ".join(t for t in kept if t).strip()
        if w.compression_ratio(text) > w.MAX_COMPRESSION_RATIO or w.repeats_itself(text):
            return None
        return str(text)

    def _full(self, feats: Any, content: int, prompt: list[int], parts: dict[str, float]) -> str:
        encoded = self._timed_encode(self._window(feats, content, self.full_frames), parts)
        tokens, _ended = self._timed_greedy(encoded, prompt, self.max_target - len(prompt), parts)
        return " ".join(t.strip() for _start, t in self._texts(tokens)).strip()
