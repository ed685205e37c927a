"""GPU figures for the secretary's models, on a lent machine (docs/benchmarks.md, "GPU").

Three parts, one script:

- `whisper`: our Whisper base with its REAL weights (models/whisper-base, CTranslate2) converted
  to a Hugging Face `WhisperForConditionalGeneration` (scripts/ct2_whisper_to_hf.py), fp16,
  greedy, decoded the way the call path decodes (fitted window, its guards, timestamps), on the
  human speech set through the phone path (8 kHz u-law -> 16 kHz with soxr, 0.3 s of silence
  before and 0.6 s after, as scripts/bench_stt_prompt.py). Per clip: features + encoder +
  decoder, synchronised, after a warm-up; WER against the labels.
- `xtts`: XTTS v2's architecture (coqui-tts 0.28 `Xtts`, 30 GPT layers of width 1024, perceiver
  conditioning, HiFi-GAN decoder) with RANDOM weights: timing only, the audio is noise. Time to
  the first chunk of `inference_stream` (stream_chunk_size 20) and the real-time factor over a
  fixed number of GPT tokens (a random GPT does not stop by itself: the length is capped and the
  stop token suppressed).
- `qwen`: Qwen2.5-7B-Instruct's architecture with RANDOM weights, bf16, transformers (eager
  Python loop, SDPA attention; not vLLM): time to first token for a persona-sized system prompt
  cold and with its KV cache reused (only the question prefilled), and decode tokens/s.

    .venv/bin/python scripts/bench_gpu.py prepare            # here: .gpu/ (weights, clips)
    .venv/bin/python scripts/bench_gpu.py check              # here: converted == faster-whisper?
    .venv/bin/python scripts/bench_gpu.py run --device cpu --tiny   # every part, tiny, here

On the GPU machine (python3 3.12 with torch; see docs/benchmarks.md, "GPU"), two calls:

    # carry .whl: coqui-tts 0.28.0, coqui-tts-trainer, coqpit-config, the parts of their
    # Requires-Dist that XTTS imports and the machine lacks (anyascii, ko-speech-tools, librosa,
    # num2words, soundfile, soxr, cffi, pycparser, torchcodec) and transformers 5.23.0 + regex
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
    PYTHONPATH=/tmp/site python3 scripts/bench_gpu.py run --device cuda --parts qwen,xtts
    # carry .gpu/pack
    python3 scripts/bench_gpu.py run --unpack --device cuda --parts whisper,qwen --repeat 5

`prepare` writes the weights as int8 per output row (float32 scales) in two parts, .gpu/w1 and
.gpu/w2, and .gpu/pack: both parts gzipped (61 MB) with the dozen's clips, labels and tokenizer,
which fits one trip to the device with the working tree (64 MiB); paths carried in an earlier
call did not survive the next call's carry, so the weights must travel together. `check` shows
that the dequantised model still hears what faster-whisper hears. `run` needs no part of ari_app
but the call path's window guards (ari_app/stt/whisper_window.py, numpy only) and
testkit/transcripts.py (with ari_app.mind's number words).
It prints a table and, last, one JSON line; with $OUT set the JSON also goes to
$OUT/bench_gpu.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import ct2_whisper_to_hf as hfw  # noqa: E402  (scripts/ct2_whisper_to_hf.py)

from testkit.transcripts import edits, words  # noqa: E402  (stdlib and ari_app.mind only)

MODEL = REPO / "models" / "whisper-base"
CLIPS = REPO / "var" / "human-speech"
PERSONA = REPO / "config" / "personas" / "default.yaml"
GPU_DIR = REPO / ".gpu"
PART_DIRS = (GPU_DIR / "w1", GPU_DIR / "w2")
DATA = GPU_DIR / "data"
# What travels in ONE trip (64 MiB with the working tree): both parts gzipped and the dozen's
# data. Ignored paths carried in an earlier call did not survive the next call's carry.
PACK = GPU_DIR / "pack"
FIRST_PART_BYTES = 33_000_000  # the split of the two weight parts (both travel in .gpu/pack)
PRE_S, POST_S = 0.3, 0.6  # the turn's silence around a clip, as bench_stt_prompt.py
# The dozen the converted model is checked on (here, against faster-whisper): every kind, both
# languages.
DOZEN = (
    "en_callers_waiting", "en_digits_1", "en_goodbye", "en_groups_5", "en_hello_folder",
    "en_no_thank_you", "ru_callers_waiting", "ru_digits_2", "ru_goodbye_long", "ru_hello_world",
    "ru_moment_hold", "ru_no",
)  # fmt: skip
PARTS = ("whisper", "xtts", "qwen")

# XTTS v2 as its config.json has it (coqui/XTTS-v2), where coqui's XttsArgs defaults differ
XTTS_V2_ARGS: dict[str, Any] = {
    "gpt_layers": 30, "gpt_n_model_channels": 1024, "gpt_n_heads": 16,
    "gpt_number_text_tokens": 6681, "gpt_num_audio_tokens": 1026,
    "gpt_start_audio_token": 1024, "gpt_stop_audio_token": 1025,
    "gpt_max_audio_tokens": 605, "gpt_max_text_tokens": 402, "gpt_max_prompt_tokens": 70,
    "gpt_use_perceiver_resampler": True, "gpt_use_masking_gt_prompt_approach": True,
    "decoder_input_dim": 1024, "d_vector_dim": 512,
}  # fmt: skip
XTTS_TINY_ARGS: dict[str, Any] = {
    **XTTS_V2_ARGS, "gpt_layers": 2, "gpt_n_model_channels": 64, "gpt_n_heads": 4,
    "decoder_input_dim": 64,
}  # fmt: skip
XTTS_TEXT = (
    "Good afternoon! Romashka company, this is Anna. We are open from nine to six on weekdays."
)
XTTS_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789.,!?'\"-:;()"

# Qwen2.5-7B-Instruct (config.json of Qwen/Qwen2.5-7B-Instruct)
QWEN_7B: dict[str, Any] = {
    "hidden_size": 3584, "num_hidden_layers": 28, "num_attention_heads": 28,
    "num_key_value_heads": 4, "intermediate_size": 18944, "vocab_size": 152064,
    "rope_theta": 1_000_000.0, "max_position_embeddings": 32768, "rms_norm_eps": 1e-6,
    "tie_word_embeddings": False, "hidden_act": "silu",
}  # fmt: skip
QWEN_TINY: dict[str, Any] = {
    **QWEN_7B, "hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "intermediate_size": 256, "vocab_size": 1000,
}  # fmt: skip
QUESTION_TOKENS = 30  # "<|im_start|>user\n...<|im_end|>\n<|im_start|>assistant\n"
DECODE_TOKENS = 128


# --- helpers ------------------------------------------------------------------------------------


def pct(values: Iterable[float], q: float) -> float:
    """The q-quantile (0..1), linear between ranks; NaN for none."""
    data = sorted(values)
    if not data:
        return float("nan")
    pos = (len(data) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def summary(seconds: list[float]) -> dict[str, float]:
    return {"n": len(seconds), "p50_ms": ms(pct(seconds, 0.5)), "p95_ms": ms(pct(seconds, 0.95)),
            "mean_ms": ms(statistics.fmean(seconds)) if seconds else float("nan")}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Clock:
    """Wall time with the device synchronised at both ends (CUDA work is asynchronous)."""

    def __init__(self, device: str) -> None:
        import torch

        self.cuda = device.startswith("cuda")
        self.torch = torch

    def sync(self) -> None:
        if self.cuda:
            self.torch.cuda.synchronize()

    def __call__(self, fn: Callable[[], Any]) -> tuple[float, Any]:
        self.sync()
        started = time.perf_counter()
        result = fn()
        self.sync()
        return time.perf_counter() - started, result


# --- prepare (here) -----------------------------------------------------------------------------


def qwen_tools_block(tools: Iterable[Any]) -> str:
    """The tools part of Qwen2.5's chat template for the system message."""
    lines = [json.dumps({"type": "function", "function": {
        "name": t.name, "description": t.description, "parameters": t.parameters}},
        ensure_ascii=False) for t in tools]
    return (
        "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
        "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
        + "\n".join(lines)
        + "\n</tools>\n\nFor each function call, return a json object with function name and "
        "arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": "
        "<function-name>, \"arguments\": <args-json-object>}\n</tool_call>"
    )


def persona_prompt_tokens() -> dict[str, Any]:
    """How long a call's system prompt is (the example persona, its fact sheet and the tools
    as Qwen2.5's template writes them), counted with Whisper's byte-level BPE: Qwen's own
    tokenizer cannot be fetched here, and for English text the two differ by some percent."""
    from tokenizers import Tokenizer

    from ari_app.llm.tools import SECRETARY_TOOLS
    from ari_app.mind.llm_dialogue import system_prompt
    from ari_app.mind.persona import load_persona

    persona = load_persona(PERSONA)
    tokenizer = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    now = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)
    out: dict[str, Any] = {"counted_with": "whisper-base BPE (GPT-2 byte-level, multilingual)"}
    for lang in ("en", "ru"):
        text = ("<|im_start|>system\n" + system_prompt(persona, lang, now)
                + qwen_tools_block(SECRETARY_TOOLS) + "<|im_end|>\n")
        out[lang] = {"chars": len(text),
                     "tokens": len(tokenizer.encode(text, add_special_tokens=False).ids)}
    return out


def phone_path(pcm8k: bytes) -> bytes:
    """u-law and back, 16 kHz (soxr HQ, the call path's resampler), with the turn's silence."""
    from ari_app.media.codecs import ulaw_decode, ulaw_encode
    from ari_app.media.resample import resample

    pcm = resample(ulaw_decode(ulaw_encode(pcm8k)), 8000, 16000)
    return bytes(2 * round(PRE_S * 16000)) + pcm + bytes(2 * round(POST_S * 16000))


def prepare() -> int:
    from testkit.human_speech import assemble

    started = time.perf_counter()
    config, state = hfw.load_ct2_as_hf(MODEL)
    packed = hfw.quantise(state)
    for folder in PART_DIRS:
        shutil.rmtree(folder, ignore_errors=True)
    paths = hfw.write_parts(packed, PART_DIRS, FIRST_PART_BYTES)
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / "whisper_config.json").write_text(json.dumps(config, indent=1) + "\n")
    shutil.copyfile(MODEL / "tokenizer.json", DATA / "tokenizer.json")
    clips = assemble(CLIPS)
    labels = []
    audio: dict[str, np.ndarray] = {}
    for clip in sorted(clips.values(), key=lambda c: c.id):
        if not clip.human:
            continue
        audio[clip.id] = np.frombuffer(phone_path(clip.pcm()), dtype="<i2")
        labels.append({"id": clip.id, "language": clip.language, "kind": clip.kind,
                       "text": clip.text, "digits": clip.digits,
                       "duration_s": round(clip.duration_s, 3), "dozen": clip.id in DOZEN})
    savez: Any = np.savez  # numpy's stubs do not type keyword arrays
    savez(DATA / "clips.npz", **audio)
    (DATA / "clips.json").write_text(json.dumps(labels, ensure_ascii=False, indent=1) + "\n")
    meta = {"prompt_tokens": persona_prompt_tokens(), "prepared": dt.date.today().isoformat()}
    (DATA / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n")
    packed_paths = pack(paths, labels, audio)
    for path in [*paths, DATA / "clips.npz", DATA / "tokenizer.json", *packed_paths]:
        print(f"{path.relative_to(REPO)}: {path.stat().st_size / 1e6:.1f} MB")
    print(f"{len(labels)} human clips; persona prompt: {json.dumps(meta['prompt_tokens'])}")
    print(f"prepared in {time.perf_counter() - started:.1f} s")
    return 0


def pack(parts: list[Path], labels: list[dict[str, Any]], audio: dict[str, np.ndarray]
         ) -> list[Path]:
    """.gpu/pack: the weight parts gzipped and data.tar.gz with the dozen's clips, labels,
    tokenizer, config and counts (`run --unpack` restores .gpu/w1, w2 and data from it)."""
    import gzip
    import io
    import tarfile

    shutil.rmtree(PACK, ignore_errors=True)
    PACK.mkdir(parents=True)
    out = []
    for part in parts:
        target = PACK / (part.name + ".gz")
        with open(part, "rb") as src, gzip.open(target, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst)
        out.append(target)
    dozen = [c for c in labels if c["dozen"]]
    buffer = io.BytesIO()
    savez: Any = np.savez
    savez(buffer, **{c["id"]: audio[c["id"]] for c in dozen})
    members = {
        "clips.npz": buffer.getvalue(),
        "clips.json": (json.dumps(dozen, ensure_ascii=False, indent=1) + "\n").encode(),
        "tokenizer.json": (DATA / "tokenizer.json").read_bytes(),
        "whisper_config.json": (DATA / "whisper_config.json").read_bytes(),
        "meta.json": (DATA / "meta.json").read_bytes(),
    }
    target = PACK / "data.tar.gz"
    with tarfile.open(target, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    out.append(target)
    return out


def unpack() -> None:
    """On the device: .gpu/pack -> .gpu/w1, .gpu/w2 and .gpu/data (the dozen only)."""
    import gzip
    import tarfile

    for i, folder in enumerate(PART_DIRS):
        name = f"whisper-base-int8-part{i + 1}.safetensors"
        folder.mkdir(parents=True, exist_ok=True)
        with gzip.open(PACK / (name + ".gz"), "rb") as src, open(folder / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    DATA.mkdir(parents=True, exist_ok=True)
    with tarfile.open(PACK / "data.tar.gz", "r:gz") as tar:
        tar.extractall(DATA, filter="data")
    log(f"unpacked {PACK.relative_to(REPO)}")


# --- the converted Whisper ----------------------------------------------------------------------


def part_paths() -> list[Path]:
    paths = [folder / f"whisper-base-int8-part{i + 1}.safetensors"
             for i, folder in enumerate(PART_DIRS)]
    missing = [str(p.relative_to(REPO)) for p in paths if not p.exists()]
    if missing:
        raise SystemExit(f"missing {', '.join(missing)}: run `bench_gpu.py prepare` (and carry "
                         "both parts to the device)")
    return paths


def load_converted(device: str, dtype: Any) -> Any:
    """The HF Whisper from the int8 parts (dequantised), on `device` in `dtype`."""
    config = json.loads((DATA / "whisper_config.json").read_text())
    state = hfw.dequantise(hfw.read_parts(part_paths()))
    return hfw.build_model(config, state, device, dtype)


def load_clips(ids: Iterable[str] | None = None) -> tuple[list[dict[str, Any]], Any]:
    labels = json.loads((DATA / "clips.json").read_text())
    if ids is not None:
        wanted = set(ids)
        labels = [c for c in labels if c["id"] in wanted]
    return labels, np.load(DATA / "clips.npz")


def as_float(pcm: np.ndarray) -> np.ndarray:
    return pcm.astype(np.float32) / 32768.0


def check() -> int:
    """Here, on the CPU: the dozen through our faster-whisper engine (int8 as the call path
    runs it, and float32), the HF model from the CTranslate2 weights (float32), and the HF model
    from the int8 parts. The converted model must hear the same words."""
    import asyncio

    import torch

    from ari_app.stt.whisper import WhisperOptions, WhisperStt

    labels, audio = load_clips(DOZEN)
    tokenizer = DATA / "tokenizer.json"
    heard: dict[str, dict[str, str]] = {c["id"]: {} for c in labels}
    timing: dict[str, list[float]] = {}

    async def engine(compute_type: str) -> None:
        stt = WhisperStt(MODEL, WhisperOptions(compute_type=compute_type, window="fitted",
                                               min_window_s=10.0))
        await stt.load()
        name = f"faster-whisper {compute_type}"
        for clip in labels:
            pcm = audio[clip["id"]].tobytes()
            result = await stt.transcribe(pcm, clip["language"])
            heard[clip["id"]][name] = result.text
            timing.setdefault(name, []).append(result.elapsed_s)
        stt.close()

    asyncio.run(engine("int8"))
    asyncio.run(engine("float32"))
    config, state = hfw.load_ct2_as_hf(MODEL)
    models = {
        "HF fp32 (from model.bin)": hfw.build_model(config, state, "cpu", torch.float32),
        "HF fp32 (int8 parts)": load_converted("cpu", torch.float32),
    }
    for name, model in models.items():
        decoder = hfw.WhisperDecoder(model, tokenizer, "cpu")
        for clip in labels:
            result = decoder.transcribe(as_float(audio[clip["id"]]), clip["language"])
            heard[clip["id"]][name] = result.text
            timing.setdefault(name, []).append(result.seconds)
    names = list(timing)
    reference = "faster-whisper float32"
    print("| clip | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    worst = 0
    for clip in labels:
        texts = heard[clip["id"]]
        ref = words(texts[reference])
        cells = []
        for name in names:
            d = edits(ref, words(texts[name]))
            if name.startswith("HF"):
                worst = max(worst, d)
            cells.append(f"{texts[name]} ({d})")
        print(f"| {clip['id']} | " + " | ".join(cells) + " |")
    print("\n(n): word edits against faster-whisper float32")
    for name in names:
        ref_words = sum(len(words(c["text"])) for c in labels if not c["digits"])
        errors = sum(edits(words(c["text"]), words(heard[c["id"]][name]))
                     for c in labels if not c["digits"])
        total = sum(edits(words(heard[c["id"]][reference]), words(heard[c["id"]][name]))
                    for c in labels)
        print(f"{name}: WER vs labels (non-number clips) {errors / ref_words:.3f}; "
              f"word edits vs faster-whisper float32, all {len(labels)} clips: {total}; "
              f"per clip on this CPU: mean {ms(statistics.fmean(timing[name]))} ms, "
              f"p50 {ms(pct(timing[name], 0.5))}, p95 {ms(pct(timing[name], 0.95))}")
    print(json.dumps({"check": heard, "worst_clip_edits_hf": worst}, ensure_ascii=False))
    return 0 if worst <= 2 else 1


def wer(labels: list[dict[str, Any]], texts: dict[str, str], language: str) -> float | None:
    plain = [c for c in labels if not c["digits"] and c["language"] == language]
    ref_words = sum(len(words(c["text"])) for c in plain)
    if not ref_words:
        return None
    return round(sum(edits(words(c["text"]), words(texts[c["id"]])) for c in plain)
                 / ref_words, 4)


def digits_exact(labels: list[dict[str, Any]], texts: dict[str, str]) -> float | None:
    from ari_app.mind.phone import extract_digits

    numbers = [c for c in labels if c["digits"]]
    if not numbers:
        return None
    return round(sum(extract_digits(texts[c["id"]])[0] == c["digits"] for c in numbers)
                 / len(numbers), 4)


def bench_whisper(device: str, tiny: bool, repeat: int) -> dict[str, Any]:
    import torch

    dtype = torch.float16 if device.startswith("cuda") else torch.float32
    started = time.perf_counter()
    model = load_converted(device, dtype)
    decoder = hfw.WhisperDecoder(model, DATA / "tokenizer.json", device)
    load_s = time.perf_counter() - started
    labels, audio = load_clips()
    if tiny:
        labels = [c for c in labels if c["id"] in ("en_hello", "ru_no", "en_digits_extension")]
    first = labels[0]
    for _ in range(3):  # warm-up: kernels, cuBLAS handles, the allocator
        for window in ("fitted", "full"):
            decoder.transcribe(as_float(audio[first["id"]]), first["language"], window)
    out: dict[str, Any] = {"dtype": str(dtype).replace("torch.", ""), "load_s": round(load_s, 2),
                           "clips": len(labels), "repeat": repeat, "windows": {}}
    for window in ("fitted", "full"):
        texts: dict[str, str] = {}
        seconds: list[float] = []
        per_part: dict[str, list[float]] = {"features": [], "encode": [], "decode": []}
        steps: list[int] = []
        fallbacks = 0
        unstable: set[str] = set()  # clips whose text changed between repetitions
        for _ in range(repeat):
            for clip in labels:
                heard = decoder.transcribe(as_float(audio[clip["id"]]), clip["language"], window)
                if texts.setdefault(clip["id"], heard.text) != heard.text:
                    unstable.add(clip["id"])
                seconds.append(heard.seconds)
                for key in per_part:
                    per_part[key].append(heard.parts.get(key, 0.0))
                steps.append(heard.tokens)
                fallbacks += window == "fitted" and heard.window == "full"
        dozen = [c for c in labels if c["dozen"]]
        dozen_seconds = [s for i, s in enumerate(seconds) if labels[i % len(labels)]["dozen"]]
        out["windows"][window] = {
            "per_clip": summary(seconds),
            "parts_p50_ms": {k: ms(pct(v, 0.5)) for k, v in per_part.items()},
            "decode_ms_per_token": round(sum(per_part["decode"]) * 1000 / max(1, sum(steps)), 2),
            "tokens_p50": pct(steps, 0.5),
            "fallbacks_to_30s": fallbacks,
            "texts_changed_between_repeats": sorted(unstable),
            "wer_ru": wer(labels, texts, "ru"), "wer_en": wer(labels, texts, "en"),
            "digits_exact": digits_exact(labels, texts),
            "dozen_wer_ru": wer(dozen, texts, "ru"), "dozen_wer_en": wer(dozen, texts, "en"),
            "dozen_per_clip": summary(dozen_seconds),
            "texts": texts,
        }
        log(f"whisper {window}: {out['windows'][window]['per_clip']}")
    return out


# --- XTTS v2 (random weights) -------------------------------------------------------------------


def xtts_vocab(path: Path) -> None:
    """A character-level vocabulary in the format coqui's VoiceBpeTokenizer reads (special
    tokens, one per language, English letters): enough to turn English text into tokens."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    specials = ["[STOP]", "[UNK]", "[SPACE]", "[START]", "[en]"]
    vocab: dict[str, int] = {}
    for token in [*specials, *XTTS_CHARS]:
        vocab.setdefault(token, len(vocab))
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.add_special_tokens(specials)
    tokenizer.save(str(path))


def bench_xtts(device: str, tiny: bool) -> dict[str, Any]:
    import torch
    from TTS.tts.configs.xtts_config import XttsArgs, XttsAudioConfig, XttsConfig
    from TTS.tts.layers.xtts.tokenizer import VoiceBpeTokenizer
    from TTS.tts.models.xtts import Xtts

    max_tokens = 40 if tiny else 250
    runs = 2 if tiny else 3
    clock = Clock(device)
    with tempfile.TemporaryDirectory() as tmp:
        vocab_path = Path(tmp) / "vocab.json"
        xtts_vocab(vocab_path)
        tokenizer = VoiceBpeTokenizer(vocab_file=str(vocab_path))
        args = XttsArgs(**(XTTS_TINY_ARGS if tiny else XTTS_V2_ARGS))
        args.gpt_start_text_token = tokenizer.tokenizer.token_to_id("[START]")
        args.gpt_stop_text_token = tokenizer.tokenizer.token_to_id("[STOP]")
        config = XttsConfig(model_args=args, audio=XttsAudioConfig())
        config.languages = ["en"]
        torch.manual_seed(0)
        started = time.perf_counter()
        model = Xtts(config)
        model.tokenizer = tokenizer
        model.eval()  # coqui: also builds the GPT's inference wrapper (kv cache)
        model.to(device)  # after eval(), as ari_app/tts/xtts.py loads it
        clock.sync()
        build_s = time.perf_counter() - started
    params = sum(p.numel() for p in model.parameters())
    model.gpt.max_gen_mel_tokens = max_tokens  # the cap: a random GPT never stops by itself
    reference = (torch.randn(1, 22050 * 6, generator=torch.Generator().manual_seed(1)) * 0.1)
    latents_s, (cond, speaker) = clock(lambda: (
        model.get_gpt_cond_latents(reference.to(device), 22050, length=config.gpt_cond_len,
                                   chunk_length=config.gpt_cond_chunk_len),
        model.get_speaker_embedding(reference.to(device), 22050)))
    stop = int(args.gpt_stop_audio_token)

    def one(cap: int) -> dict[str, Any]:
        model.gpt.max_gen_mel_tokens = cap
        clock.sync()
        started = time.perf_counter()
        chunks: list[float] = []
        samples = 0
        with torch.inference_mode():
            for chunk in model.inference_stream(
                XTTS_TEXT, "en", cond, speaker, stream_chunk_size=20,
                temperature=config.temperature, length_penalty=config.length_penalty,
                repetition_penalty=config.repetition_penalty, top_k=config.top_k,
                top_p=config.top_p, enable_text_splitting=False, suppress_tokens=[stop],
            ):
                clock.sync()
                chunks.append(time.perf_counter() - started)
                samples += int(chunk.shape[-1])
        audio_s = samples / 24000
        return {"first_chunk_s": chunks[0], "total_s": chunks[-1], "chunks": len(chunks),
                "audio_s": audio_s, "rtf": chunks[-1] / audio_s if audio_s else float("nan"),
                "chunk_times_s": [round(c, 3) for c in chunks]}

    one(min(40, max_tokens))  # warm-up
    results = [one(max_tokens) for _ in range(runs)]
    return {
        "random_weights": True, "dtype": "float32 (coqui's default, as ari_app/tts/xtts.py)",
        "params_m": round(params / 1e6, 1), "build_s": round(build_s, 2),
        "latents_s": round(latents_s, 3), "gpt_tokens": max_tokens, "stream_chunk_size": 20,
        "runs": len(results),
        "first_chunk": summary([r["first_chunk_s"] for r in results]),
        "total": summary([r["total_s"] for r in results]),
        "audio_s": round(statistics.fmean(r["audio_s"] for r in results), 3),
        "rtf_p50": round(pct([r["rtf"] for r in results], 0.5), 3),
        "per_run": results,
    }


# --- Qwen2.5-7B (random weights) ----------------------------------------------------------------


def bench_qwen(device: str, tiny: bool, prefixes: dict[str, int]) -> dict[str, Any]:
    import torch
    from transformers import DynamicCache, Qwen2Config, Qwen2ForCausalLM

    dtype = torch.bfloat16
    clock = Clock(device)
    config = Qwen2Config(**(QWEN_TINY if tiny else QWEN_7B))
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    started = time.perf_counter()
    with torch.device(device):
        model = Qwen2ForCausalLM._from_config(config, dtype=dtype, attn_implementation="sdpa")
    model.eval()
    clock.sync()
    build_s = time.perf_counter() - started
    params = sum(p.numel() for p in model.parameters())
    gen = torch.Generator(device="cpu").manual_seed(2)
    vocab = int(config.vocab_size)
    decode_tokens = 8 if tiny else DECODE_TOKENS
    question_len = 8 if tiny else QUESTION_TOKENS
    cold_runs, warm_runs = (2, 3) if tiny else (5, 10)

    def ids(n: int) -> Any:
        return torch.randint(0, vocab, (1, n), generator=gen).to(device)

    @torch.inference_mode()
    def first_token(tokens: Any, cache: Any) -> int:
        out = model(input_ids=tokens, past_key_values=cache, use_cache=True)
        return int(out.logits[0, -1].argmax())

    results: dict[str, Any] = {
        "random_weights": True, "dtype": "bfloat16", "attention": "sdpa",
        "engine": "transformers eager (Python loop, DynamicCache); not vLLM",
        "params_b": round(params / 1e9, 2), "build_s": round(build_s, 2),
        "question_tokens": question_len, "prompts": {},
    }
    for name, prefix_len in prefixes.items():
        prefix = ids(prefix_len)
        questions = [ids(question_len) for _ in range(cold_runs + warm_runs + 2)]
        def cold_start(question: Any, prefix: Any = prefix) -> int:
            return first_token(torch.cat([prefix, question], dim=1), DynamicCache(config=config))

        for q in questions[:2]:  # warm-up
            cold_start(q)
        cold = [clock(functools.partial(cold_start, q))[0]
                for q in questions[2 : 2 + cold_runs]]
        cache = DynamicCache(config=config)
        prefill_s, _ = clock(functools.partial(first_token, prefix, cache))
        for q in questions[:2]:  # warm-up of the cached path (its own kernel shapes)
            first_token(q, cache)
            cache.crop(-question_len)
        warm = []
        for q in questions[2 + cold_runs :]:
            warm.append(clock(functools.partial(first_token, q, cache))[0])
            cache.crop(-question_len)  # back to the shared prefix, as a prefix cache serves it
            if cache.get_seq_length() != prefix_len:
                raise RuntimeError(f"cache holds {cache.get_seq_length()} tokens after crop")
        results["prompts"][name] = {
            "prefix_tokens": prefix_len,
            "ttft_cold": summary(cold),
            "ttft_cached_prefix": summary(warm),
            "prefix_prefill_s": round(prefill_s, 4),
        }
        log(f"qwen {name}: {results['prompts'][name]}")
    # decode speed after the (first) persona prompt and a question
    prefix_len = next(iter(prefixes.values()))
    rates = []
    for run_index in range(3):  # the first is a warm-up
        cache = DynamicCache(config=config)
        token = first_token(ids(prefix_len + question_len), cache)

        @torch.inference_mode()
        def decode(cache: Any = cache, token: int = token) -> None:
            for _ in range(decode_tokens):
                step = torch.tensor([[token]], device=device)
                out = model(input_ids=step, past_key_values=cache, use_cache=True)
                token = int(out.logits[0, -1].argmax())

        seconds, _ = clock(decode)
        if run_index:
            rates.append(decode_tokens / seconds)
    results["decode_tokens"] = decode_tokens
    results["decode_tok_s"] = [round(r, 1) for r in rates]
    results["decode_ms_per_token"] = round(1000 / statistics.median(rates), 2)
    if device.startswith("cuda"):
        results["peak_gpu_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 1)
    return results


# --- run ------------------------------------------------------------------------------------------


def machine(device: str) -> dict[str, Any]:
    import torch
    import transformers

    info: dict[str, Any] = {
        "date": dt.date.today().isoformat(), "python": platform.python_version(),
        "torch": torch.__version__, "transformers": transformers.__version__,
        "cpu_count": os.cpu_count(),
    }
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(0)
        info.update(gpu=props.name, gpu_mem_gib=round(props.total_memory / 2**30, 1),
                    cuda=torch.version.cuda, capability=f"{props.major}.{props.minor}")
    return info


def table(results: dict[str, Any]) -> list[str]:
    rows = ["| figure | p50 ms | p95 ms | note |", "|---|---|---|---|"]
    whisper = results.get("whisper")
    if whisper:
        for window, w in whisper["windows"].items():
            name = "fitted window (call path)" if window == "fitted" else "30 s window"
            pc = w["per_clip"]
            rows.append(
                f"| Whisper base {whisper['dtype']}, {name}, per clip (n={pc['n']}) "
                f"| {pc['p50_ms']} | {pc['p95_ms']} | WER ru {w['wer_ru']}, en {w['wer_en']}, "
                f"numbers exact {w['digits_exact']}; parts p50 {w['parts_p50_ms']}; "
                f"{w['decode_ms_per_token']} ms per decoder step; "
                f"{w['fallbacks_to_30s']} fallbacks to 30 s |")
    xtts = results.get("xtts")
    if xtts:
        rows.append(f"| XTTS v2 RANDOM weights: first chunk (n={xtts['runs']}) "
                    f"| {xtts['first_chunk']['p50_ms']} | {xtts['first_chunk']['p95_ms']} "
                    f"| stream_chunk_size 20, {xtts['dtype']} |")
        rows.append(f"| XTTS v2 RANDOM weights: {xtts['gpt_tokens']} GPT tokens "
                    f"({xtts['audio_s']} s of audio) | {xtts['total']['p50_ms']} "
                    f"| {xtts['total']['p95_ms']} | real-time factor {xtts['rtf_p50']} |")
    qwen = results.get("qwen")
    if qwen:
        for name, q in qwen["prompts"].items():
            rows.append(f"| Qwen2.5-7B RANDOM weights {qwen['dtype']}: first token, "
                        f"{q['prefix_tokens']}+{qwen['question_tokens']} tokens cold ({name}) "
                        f"| {q['ttft_cold']['p50_ms']} | {q['ttft_cold']['p95_ms']} "
                        f"| {qwen['engine']} |")
            rows.append(f"| Qwen2.5-7B RANDOM weights: first token, prefix cached, "
                        f"{qwen['question_tokens']} new ({name}) "
                        f"| {q['ttft_cached_prefix']['p50_ms']} "
                        f"| {q['ttft_cached_prefix']['p95_ms']} | |")
        rows.append(f"| Qwen2.5-7B RANDOM weights: decode, ms per token "
                    f"| {qwen['decode_ms_per_token']} | | {qwen['decode_tok_s']} tokens/s "
                    f"({qwen['decode_tokens']} tokens) |")
    return rows


def run(device: str, tiny: bool, parts: list[str], repeat: int, unpack_first: bool) -> int:
    import torch

    if unpack_first:
        unpack()
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("no CUDA device")
    results: dict[str, Any] = {"machine": machine(device), "tiny": tiny}
    log(json.dumps(results["machine"]))
    meta_path = DATA / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    counts = meta.get("prompt_tokens", {})
    prefixes = ({"tiny": 64} if tiny else
                {f"persona {lang}": int(counts[lang]["tokens"]) if lang in counts else 1500
                 for lang in ("en", "ru")})
    failed = []
    for part in parts:
        started = time.perf_counter()
        try:
            if part == "whisper":
                results["whisper"] = bench_whisper(device, tiny, repeat)
            elif part == "xtts":
                results["xtts"] = bench_xtts(device, tiny)
            elif part == "qwen":
                results["qwen"] = bench_qwen(device, tiny, prefixes)
        except Exception as exc:  # report the others; the run still fails at the end
            import traceback

            traceback.print_exc()
            results[part] = {"error": f"{type(exc).__name__}: {exc}"}
            failed.append(part)
        log(f"{part}: {time.perf_counter() - started:.1f} s")
    print("\n".join(table({k: v for k, v in results.items() if k not in failed})))
    line = json.dumps(results, ensure_ascii=False)
    out = os.environ.get("OUT")
    if out:
        Path(out, "bench_gpu.json").write_text(line + "\n", encoding="utf-8")
    print(line)
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare", help="here: the int8 weight parts, clips and counts in .gpu/")
    sub.add_parser("check", help="here, CPU: the converted model against faster-whisper")
    p_run = sub.add_parser("run", help="the benchmark")
    p_run.add_argument("--device", default="cuda", help="cuda (the GPU machine) or cpu")
    p_run.add_argument("--tiny", action="store_true", help="tiny sizes, to test the script")
    p_run.add_argument("--parts", default=",".join(PARTS),
                       help=f"comma-separated, of {', '.join(PARTS)}")
    p_run.add_argument("--repeat", type=int, default=1,
                       help="whisper: decode every clip this many times (latency samples)")
    p_run.add_argument("--unpack", action="store_true",
                       help="first restore .gpu/w1, w2 and data (the dozen) from .gpu/pack")
    args = parser.parse_args()
    if args.command == "prepare":
        return prepare()
    if args.command == "check":
        return check()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown parts: {', '.join(unknown)}")
    return run(args.device, args.tiny, parts, args.repeat, args.unpack)


if __name__ == "__main__":
    sys.exit(main())
