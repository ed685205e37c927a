"""Build a TINY, randomly initialised XTTS v2 checkpoint with coqui-tts's real model classes.

The real XTTS v2 weights (about 1.8 GB, Coqui Public Model License) cannot be fetched here, so
the tests build a model of the same architecture, shrunk: 2 GPT layers of width 64, the
perceiver conditioning of XTTS v2, the HiFi-GAN decoder and speaker encoder as coqui builds them,
and a character-level BPE vocabulary made with the `tokenizers` library in the format that
coqui's VoiceBpeTokenizer reads (special tokens [STOP], [UNK], [SPACE], [START] and one token per
language, text lower-cased, spaces written as [SPACE]).

The weights are random: the model's audio is noise-like, not speech. What it exercises is the
real loading (config.json, model.pth, vocab.json), the conditioning latents from reference clips
and the streaming inference, at a size that builds and runs in seconds on a CPU.

    python tests/xtts_tiny.py OUT_DIR     # writes OUT_DIR/config.json, model.pth, vocab.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SPECIAL_TOKENS = ["[STOP]", "[UNK]", "[SPACE]", "[START]"]
LANGUAGES = ["en", "ru"]
# Lower-case letters and the punctuation that coqui's multilingual cleaners leave in place.
CHARACTERS = (
    "abcdefghijklmnopqrstuvwxyz"
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
    "0123456789"
    ".,!?'\"-:;()"
)

GPT_LAYERS = 2
GPT_WIDTH = 64
GPT_HEADS = 4
# Each audio token is 1024 samples at 22.05 kHz (~46 ms). A random GPT almost never samples the
# stop token, so every sentence runs to this cap: 13 tokens, about 0.65 s of audio.
MAX_AUDIO_TOKENS = 16


def build_vocab(path: Path) -> dict[str, int]:
    """Write a character-level BPE tokenizer (tokenizers' JSON) and return its vocabulary."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab: dict[str, int] = {}
    for token in [*SPECIAL_TOKENS, *(f"[{lang}]" for lang in LANGUAGES), *CHARACTERS]:
        vocab.setdefault(token, len(vocab))
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.add_special_tokens([*SPECIAL_TOKENS, *(f"[{lang}]" for lang in LANGUAGES)])
    tokenizer.save(str(path))
    return vocab


def tiny_config(vocab: dict[str, int]) -> Any:
    """A small XttsConfig: same architecture as XTTS v2, tiny GPT, real audio settings."""
    from TTS.tts.configs.xtts_config import XttsArgs, XttsAudioConfig, XttsConfig

    args = XttsArgs(
        gpt_layers=GPT_LAYERS,
        gpt_n_model_channels=GPT_WIDTH,
        gpt_n_heads=GPT_HEADS,
        gpt_max_audio_tokens=MAX_AUDIO_TOKENS,
        gpt_max_text_tokens=402,
        gpt_max_prompt_tokens=70,
        gpt_number_text_tokens=max(vocab.values()) + 1,
        gpt_start_text_token=vocab["[START]"],
        gpt_stop_text_token=vocab["[STOP]"],
        gpt_use_perceiver_resampler=True,  # as XTTS v2
        gpt_use_masking_gt_prompt_approach=True,
        decoder_input_dim=GPT_WIDTH,  # the decoder reads the GPT's latents
        d_vector_dim=512,  # the speaker encoder's output size (fixed in coqui)
    )
    config = XttsConfig(model_args=args, audio=XttsAudioConfig())
    config.languages = list(LANGUAGES)
    return config


def build_tiny_xtts(out_dir: Path, seed: int = 1234) -> Path:
    """Write config.json, vocab.json and model.pth of a random tiny XTTS into `out_dir`."""
    import torch
    from TTS.tts.models.xtts import Xtts

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    vocab = build_vocab(out_dir / "vocab.json")
    config = tiny_config(vocab)
    torch.manual_seed(seed)
    model = Xtts(config)
    # The checkpoint holds the weights only; the model is rebuilt from config.json.
    torch.save({"model": model.state_dict()}, out_dir / "model.pth")
    (out_dir / "config.json").write_text(
        json.dumps(config.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return out_dir


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/xtts_tiny.py OUT_DIR")
    print(build_tiny_xtts(Path(sys.argv[1])))
