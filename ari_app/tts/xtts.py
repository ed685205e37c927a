"""Coqui XTTS v2 (coqui-tts 0.28): a cloned voice, streamed chunk by chunk from a worker thread.

The model (config.json, model.pth, vocab.json, optionally speakers_xtts.pth) is read from
`model_dir` (scripts/fetch-xtts-model downloads the real one; see docs/xtts.md). The voice is
a folder made by `secretary voice add` (ari_app/tts/voices.py): its clips are turned into XTTS's
conditioning latents once, and the latents are kept on disk under `cache_dir`, keyed by the
clips' sha256 and the model's identity, so the next start skips that step.

Everything that touches the model runs in one single-worker thread; `synthesize` hands each
chunk of `inference_stream` to the event loop through an asyncio.Queue as soon as it exists.

Reference clips are read with the `wave` module (`tts/voices.py`, `read_pcm16`) rather than with
coqui's loader, which goes through torchaudio.load and so torchcodec: the PyPI torchcodec wheels
need CUDA libraries.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ari_app.errors import EngineUnavailable
from ari_app.models import ThreadedModel
from ari_app.tts.base import stream_from_thread
from ari_app.tts.text import split_sentences
from ari_app.tts.voices import NotPcm16, read_pcm16

log = logging.getLogger(__name__)

SAMPLE_RATE = 24000
LATENT_CACHE_VERSION = 1
LOAD_SR = 22050  # coqui reads reference clips at the GPT's rate
FETCH_HINT = "run scripts/fetch-xtts-model (see docs/xtts.md)"
INSTALL_HINT = (
    "the XTTS engine needs coqui-tts and the CPU build of torch in .venv: run "
    "scripts/install-xtts (scripts/setup does; see docs/xtts.md)"
)


def voice_clips(voice_dir: Path) -> list[Path]:
    """The reference clips of a voice folder, in order (clip-01.wav, clip-02.wav, ...)."""
    return sorted(p for p in Path(voice_dir).glob("clip-*.wav") if p.is_file())


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def latents_key(clips: list[Path], model_dir: Path, settings: dict[str, Any]) -> str:
    """Cache key: the clips' content, the model's identity and the latent settings.

    The model is identified by config.json's sha256 and model.pth's size and modification
    time (hashing the 1.8 GB checkpoint on every start would cost seconds).
    """
    digest = hashlib.sha256()
    digest.update(f"xtts-latents-v{LATENT_CACHE_VERSION}\n".encode())
    for clip in clips:
        digest.update(f"clip {clip.name} {_sha256(clip)}\n".encode())
    digest.update(f"config {_sha256(model_dir / 'config.json')}\n".encode())
    stat = (model_dir / "model.pth").stat()
    digest.update(f"model {stat.st_size} {stat.st_mtime_ns}\n".encode())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()


def read_clip(path: Path) -> tuple[np.ndarray, int]:
    """A 16-bit PCM WAV as mono float32 in [-1, 1], and its rate."""
    try:
        samples, rate, _channels = read_pcm16(path)
    except NotPcm16:
        raise EngineUnavailable(
            f"{path} is not 16-bit PCM; re-add the voice with `secretary voice add`"
        ) from None
    mono: np.ndarray = samples.astype(np.float32).mean(axis=1) / 32768.0
    return mono, rate


def to_pcm16(chunk: Any) -> bytes:
    """A float waveform tensor or array in [-1, 1] as s16le bytes (clipped)."""
    if hasattr(chunk, "detach"):
        chunk = chunk.detach().float().cpu().numpy()
    samples = np.clip(np.asarray(chunk, dtype=np.float32).reshape(-1), -1.0, 1.0)
    return (samples * 32767.0).astype("<i2").tobytes()


class XttsTts(ThreadedModel):
    """An XTTS v2 voice cloned from the clips in `voice_dir`, speaking `language`.

    After `load()`: `load_s` (seconds), `latents_s` (seconds spent on the latents, ~0 when
    read from the cache), `latents_from_cache` (True when the latents came from disk) and
    `latents_path` (the cache file). `device` is "cuda" only when asked for and available.
    """

    def __init__(
        self,
        model_dir: Path,
        voice_dir: Path,
        language: str,
        device: str = "cpu",
        cache_dir: Path | None = None,
        *,
        stream_chunk_size: int = 20,
        warmup: bool = True,
    ) -> None:
        super().__init__("tts-xtts")
        self.model_dir = Path(model_dir)
        self.voice_dir = Path(voice_dir)
        self.language = language.split("-")[0].lower()
        self.requested_device = device
        self.device = "cpu"
        self.cache_dir = Path(cache_dir) if cache_dir else self.voice_dir / ".xtts-latents"
        self.stream_chunk_size = stream_chunk_size
        self.warmup = warmup
        self.name = f"xtts:{self.voice_dir.name}"
        self.sample_rate = SAMPLE_RATE
        self.latents_s: float | None = None
        self.latents_from_cache: bool | None = None
        self.latents_path: Path | None = None
        self._clips: list[Path] = []
        self._gpt_cond_latent: Any = None
        self._speaker_embedding: Any = None

    # --- loading --------------------------------------------------------------------------

    def _check_files(self) -> list[Path]:
        if not self.model_dir.is_dir():
            raise EngineUnavailable(
                f"XTTS model folder {self.model_dir} not found; {FETCH_HINT}"
            )
        missing = [
            name
            for name in ("config.json", "model.pth", "vocab.json")
            if not (self.model_dir / name).is_file()
        ]
        if missing:
            raise EngineUnavailable(
                f"XTTS model folder {self.model_dir} lacks {', '.join(missing)}; {FETCH_HINT}"
            )
        if not self.voice_dir.is_dir():
            raise EngineUnavailable(
                f"voice folder {self.voice_dir} not found; record clips of the voice and run "
                f"`secretary voice add {self.voice_dir.name} CLIP.wav ...`"
            )
        clips = voice_clips(self.voice_dir)
        if not clips:
            raise EngineUnavailable(
                f"voice folder {self.voice_dir} holds no clips (clip-NN.wav); run "
                f"`secretary voice add {self.voice_dir.name} CLIP.wav ...`"
            )
        return clips

    def _check(self) -> None:
        self._clips = self._check_files()

    def _load_sync(self) -> Any:
        try:
            import torch
            from TTS.tts.configs.xtts_config import XttsConfig
            from TTS.tts.models.xtts import Xtts
        except ImportError as exc:
            raise EngineUnavailable(f"{INSTALL_HINT} ({exc})") from exc

        if self.requested_device.startswith("cuda"):
            if torch.cuda.is_available():
                self.device = self.requested_device
            else:
                log.warning("XTTS: CUDA asked for but not available; running on the CPU")
        config = XttsConfig()
        config.load_json(str(self.model_dir / "config.json"))
        languages = [lang.split("-")[0] for lang in config.languages]
        if self.language not in languages:
            raise EngineUnavailable(
                f"the XTTS model in {self.model_dir} does not speak {self.language!r} "
                f"(it speaks {', '.join(config.languages)})"
            )
        model = Xtts(config)
        model.load_checkpoint(config, checkpoint_dir=str(self.model_dir), eval=True)
        model.to(self.device)
        self.sample_rate = int(config.model_args.output_sample_rate)
        self._model = model  # the latents and the warm-up below use it
        self._load_latents(config, self._clips)
        if self.warmup:
            # The first inference allocates; pay for it now rather than on the first call.
            stream = self._stream("ok.")
            try:
                next(stream, None)
            finally:
                stream.close()
        return model

    def _latent_settings(self, config: Any) -> dict[str, Any]:
        return {
            "gpt_cond_len": int(config.gpt_cond_len),
            "gpt_cond_chunk_len": int(config.gpt_cond_chunk_len),
            "max_ref_len": int(config.max_ref_len),
            "sound_norm_refs": bool(config.sound_norm_refs),
        }

    def _load_latents(self, config: Any, clips: list[Path]) -> None:
        import torch

        settings = self._latent_settings(config)
        key = latents_key(clips, self.model_dir, settings)
        path = self.cache_dir / f"{key}.pt"
        self.latents_path = path
        started = time.perf_counter()
        if path.is_file():
            try:
                cached = torch.load(path, map_location="cpu", weights_only=True)
                if cached.get("key") == key:
                    self._gpt_cond_latent = cached["gpt_cond_latent"].to(self.device)
                    self._speaker_embedding = cached["speaker_embedding"].to(self.device)
                    self.latents_from_cache = True
                    self.latents_s = time.perf_counter() - started
                    log.info("XTTS: voice latents read from %s", path)
                    return
            except Exception as exc:  # a damaged cache file is recomputed, not fatal
                log.warning("XTTS: ignoring unreadable latent cache %s: %s", path, exc)
        gpt_cond_latent, speaker_embedding = self._compute_latents(clips, settings)
        self._gpt_cond_latent = gpt_cond_latent
        self._speaker_embedding = speaker_embedding
        self.latents_from_cache = False
        self.latents_s = time.perf_counter() - started
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        torch.save(
            {
                "key": key,
                "gpt_cond_latent": gpt_cond_latent.detach().cpu(),
                "speaker_embedding": speaker_embedding.detach().cpu(),
                "clips": [c.name for c in clips],
            },
            tmp,
        )
        os.replace(tmp, path)
        log.info("XTTS: voice latents computed in %.2f s, cached in %s", self.latents_s, path)

    def _compute_latents(self, clips: list[Path], settings: dict[str, Any]) -> tuple[Any, Any]:
        """As coqui's get_conditioning_latents, with the clips read by `read_clip`."""
        import torch
        import torchaudio

        model = self._model
        max_samples = LOAD_SR * settings["max_ref_len"]
        audios = []
        embeddings = []
        with torch.inference_mode():
            for clip in clips:
                samples, rate = read_clip(clip)
                audio = torch.from_numpy(samples).unsqueeze(0)
                if rate != LOAD_SR:
                    audio = torchaudio.functional.resample(audio, rate, LOAD_SR)
                audio = audio.clamp(-1.0, 1.0)[:, :max_samples].to(self.device)
                if settings["sound_norm_refs"]:
                    audio = audio / audio.abs().max().clamp(min=1e-6) * 0.75
                embeddings.append(model.get_speaker_embedding(audio, LOAD_SR))
                audios.append(audio)
            gpt_cond_latent = model.get_gpt_cond_latents(
                torch.cat(audios, dim=-1),
                LOAD_SR,
                length=settings["gpt_cond_len"],
                chunk_length=settings["gpt_cond_chunk_len"],
            )
            speaker_embedding = torch.stack(embeddings).mean(dim=0)
        return gpt_cond_latent, speaker_embedding

    # --- synthesis ------------------------------------------------------------------------

    def _stream(self, sentence: str) -> Any:
        config = self._model.config
        return self._model.inference_stream(
            sentence,
            self.language,
            self._gpt_cond_latent,
            self._speaker_embedding,
            stream_chunk_size=self.stream_chunk_size,
            temperature=config.temperature,
            length_penalty=config.length_penalty,
            repetition_penalty=config.repetition_penalty,
            top_k=config.top_k,
            top_p=config.top_p,
            enable_text_splitting=False,  # sentences are split here already
        )

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        sentences = split_sentences(text)
        if not sentences:
            return
        await self.load()

        def produce(stop: threading.Event) -> Iterator[bytes]:
            for sentence in sentences:
                if stop.is_set():
                    return
                stream = self._stream(sentence)
                try:
                    for chunk in stream:
                        if stop.is_set():
                            return
                        yield to_pcm16(chunk)
                finally:
                    stream.close()

        async for pcm in stream_from_thread(self._executor, produce):
            yield pcm


def xtts_from_voice(voice: str) -> XttsTts:
    """An XttsTts from build_tts's voice string "MODEL_DIR|VOICE_DIR|LANGUAGE[|DEVICE]"."""
    parts = [part.strip() for part in voice.split("|")]
    if len(parts) not in (3, 4) or not all(parts):
        raise EngineUnavailable(
            f"xtts voice {voice!r} is not MODEL_DIR|VOICE_DIR|LANGUAGE[|DEVICE], "
            "e.g. models/xtts-v2|voices/anna|ru (see docs/xtts.md)"
        )
    device = parts[3] if len(parts) == 4 else "cpu"
    return XttsTts(Path(parts[0]), Path(parts[1]), parts[2], device=device)
