"""faster-whisper STT: greedy, deterministic decoding in one worker thread."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ari_app.errors import EngineUnavailable
from ari_app.media.pcm import int16_samples, whole_samples
from ari_app.models import ThreadedModel, whisper_dir_problem
from ari_app.stt.base import Transcript
from ari_app.stt.batching import Batcher
from ari_app.stt.whisper_window import (
    FULL_WINDOW,
    WindowedResult,
    cut_loop,
    decode_fitted,
    decode_fitted_batch,
    drop_repeated_sentences,
    echoes_prompt,
    prepare_fitted,
    prompt_tokens,
    repeats_itself,
    window_frames,
)

# padding after the speech in a fitted window (2 s): less lets the decoder loop more often
MARGIN_FRAMES = 200
# a turn shorter than this whose reading as it is comes out unsure (its per-token
# log-probability under SHORT_TURN_SURE_SCORE) is decoded again behind these lead-ins of
# silence, the likeliest reading kept
SHORT_TURN_S = 1.5
SHORT_TURN_LEADS_S = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
SHORT_TURN_SURE_SCORE = -1.0
# how the 30 s window is decoded: greedy, each window on its own, no VAD cutting (the turn
# is already speech); the remote-STT bench asks a server for the same
FULL_WINDOW_DECODING: dict[str, Any] = {
    "beam_size": 1, "temperature": 0.0, "condition_on_previous_text": False,
    "vad_filter": False}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WhisperOptions:
    """How faster-whisper runs (the config's `stt:` section fills it)."""

    device: str = "cpu"
    compute_type: str = "int8"
    threads: int = 0  # CPU threads; 0: CTranslate2 decides
    # "fitted": each utterance on a window fitted to it (at least min_window_s) instead of
    # Whisper's 30 s (whisper_window.py); "full": always 30 s
    window: Literal["fitted", "full"] = "full"
    min_window_s: float = 4.0
    # fitted window, no prompt: utterances waiting together are decoded as one batch of up
    # to this many (`stt/batching.py`); 1: one at a time
    batch: int = 1

    def __post_init__(self) -> None:
        if self.window not in ("fitted", "full"):
            raise ValueError(f"window must be 'fitted' or 'full', got {self.window!r}")
        if self.batch < 1:
            raise ValueError(f"batch must be at least 1, got {self.batch}")


def _likelier(best: WindowedResult | None, other: WindowedResult | None
              ) -> WindowedResult | None:
    """Of two readings of one turn (None: none), the one with the higher score."""
    if other is not None and (best is None or other.score > best.score):
        return other
    return best


def _unsure(result: WindowedResult | None) -> bool:
    """A short turn's reading not to keep without trying other lead-ins."""
    return result is None or result.score < SHORT_TURN_SURE_SCORE


class WhisperStt(ThreadedModel):
    """Whisper through faster-whisper (CTranslate2).

    Input is s16le mono PCM at 16 kHz. Decoding is beam 1, temperature 0, no conditioning
    on its own earlier output and no VAD filter: the endpointer already cut the utterance.

    `window="fitted"` encodes the utterance on a window fitted to it (at least
    `min_window_s`) instead of Whisper's 30 s (`whisper_window`); a result its guards reject
    is decoded again on the 30 s window. `window="full"` always uses 30 s.

    `transcribe(..., prompt=...)` gives Whisper a previous text (what the caller just heard,
    names it should spell) on both windows, cut to its last 100 tokens (`MAX_PROMPT_TOKENS`).
    A prompted decode is cut at a sentence said twice (a prompt makes Whisper repeat the
    caller's sentence); one that the fitted window's guards reject, or that merely repeats the
    prompt, is dropped and the audio decoded as if there were no prompt, so a prompt never
    puts its own words into the caller's mouth nor sends a turn to the 30 s window.
    """

    name = "whisper"
    sample_rate = 16000

    def __init__(self, model_dir: Path, options: WhisperOptions | None = None) -> None:
        super().__init__("stt-whisper")
        self.model_dir = Path(model_dir)
        self.options = options or WhisperOptions()
        # what the guards did (counts over this engine's life)
        self.full_fallbacks = 0  # fitted-window results rejected and decoded on 30 s
        self.prompt_rejected = 0  # prompted fitted results rejected or empty, decoded without
        self.prompt_echoes = 0  # prompted transcripts that repeated the prompt, decoded without
        self.prompt_repeats = 0  # prompted transcripts cut at a sentence said twice
        self._batcher: Batcher[tuple[np.ndarray, str], WindowedResult | None] = Batcher(
            self._decode_batch_sync, lambda run: asyncio.wrap_future(self._executor.submit(run)),
            self.options.batch, key=self._window_of,
        )

    def _check(self) -> None:
        problem = whisper_dir_problem(self.model_dir)
        if problem is not None:
            raise EngineUnavailable(
                f"Whisper model not found at {self.model_dir} ({problem}); "
                "run scripts/setup-models"
            )

    def _load_sync(self) -> Any:
        try:
            import tqdm
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise EngineUnavailable("faster-whisper is not installed; run scripts/setup") from exc
        # faster-whisper makes a (disabled) progress bar per batched decode, and tqdm starts
        # a monitor thread for the first bar that then lives as long as the process: off
        tqdm.tqdm.monitor_interval = 0
        try:
            return WhisperModel(
                str(self.model_dir),
                device=self.options.device,
                compute_type=self.options.compute_type,
                cpu_threads=self.options.threads,
                num_workers=1,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise EngineUnavailable(
                f"Whisper model at {self.model_dir} failed to load ({exc}); "
                "run scripts/setup-models"
            ) from exc

    async def transcribe(
        self, pcm: bytes, language: str, *, prompt: str | None = None
    ) -> Transcript:
        """Transcribe one utterance; `language` is an ISO code such as "ru" or "en";
        `prompt` is text to condition on (Whisper's previous text), None for none."""
        lang = language.split("-")[0].split("_")[0].lower()
        pcm = whole_samples(pcm)
        audio_s = len(pcm) / 2 / self.sample_rate
        if not pcm:
            return Transcript(text="", language=lang, audio_s=0.0, elapsed_s=0.0)
        if self._model is None:
            await self.load()
        started = time.perf_counter()
        if self._batched(pcm, prompt):
            text = await self._transcribe_batched(pcm, lang)
        else:
            text = await self.in_worker(self._transcribe_sync, pcm, lang, prompt)
        elapsed = time.perf_counter() - started
        return Transcript(text=text, language=lang, audio_s=audio_s, elapsed_s=elapsed)

    def _batched(self, pcm: bytes, prompt: str | None) -> bool:
        """Whether this utterance goes through the batcher: a fitted window, no prompt."""
        return (
            self.options.batch > 1 and not (prompt and prompt.strip())
            and self._fits_frames(len(pcm) // 2 // 160)
        )

    async def _transcribe_batched(self, pcm: bytes, language: str) -> str:
        """The fitted window, decoded in a batch with the other calls' utterances that
        wait meanwhile; a result the guards reject is decoded again on 30 s, alone."""
        audio = int16_samples(pcm).astype(np.float32) / 32768.0
        self.pending += 1  # waiting in the batcher counts as the recogniser's queue
        try:
            fitted = await self._batcher((audio, language))
            if fitted is not None:
                if fitted.cut:
                    log.debug("whisper: tail dropped (%s) on a %d-frame window",
                              fitted.cut, fitted.window_frames)
                return fitted.text
        finally:
            self.pending -= 1
        log.info("whisper: fitted window rejected (looping output); decoding 30 s")
        self.full_fallbacks += 1
        return await self.in_worker(self._decode_full, audio, language, [])

    def _window_of(self, item: tuple[np.ndarray, str]) -> int:
        """The fitted window's length in frames (the batcher batches one length)."""
        content = min(len(item[0]) // 160, FULL_WINDOW)
        return window_frames(content, MARGIN_FRAMES, self._min_frames)

    def _decode_batch_sync(
        self, items: list[tuple[np.ndarray, str]]
    ) -> list[WindowedResult | None]:
        """In the worker: the items' fitted windows, batched by window length. A short turn
        whose reading comes out unsure is decoded again behind `SHORT_TURN_LEADS_S` of added
        silence, those in one batch, and the likeliest reading kept: on a word or two
        Whisper's reading can turn on where the word sits in the window (a human "Hello" was
        "Hamal" at two lead-ins of five), and the wrong readings were the unsure ones. A
        sure reading is kept at once: every lead-in in one batch cost a short turn twice the
        time of one reading (docs/decisions.md)."""
        results = self._decode_variants(
            [(index, audio, language) for index, (audio, language) in enumerate(items)],
            len(items))
        again = [
            (index, np.concatenate([np.zeros(int(lead * 16000), np.float32), audio]), language)
            for index, (audio, language) in enumerate(items)
            if len(audio) / 16000 < SHORT_TURN_S and _unsure(results[index])
            for lead in SHORT_TURN_LEADS_S
        ]
        if again:
            for index, result in enumerate(self._decode_variants(again, len(items))):
                results[index] = _likelier(results[index], result)
        return results

    def _decode_variants(
        self, variants: list[tuple[int, np.ndarray, str]], count: int
    ) -> list[WindowedResult | None]:
        """Each (item, audio, language) on its fitted window, as few batches as there are
        window lengths; per item of `count`, its likeliest reading (None: none, or none
        that the window's guards accept)."""
        jobs = [prepare_fitted(self._model, audio, language, MARGIN_FRAMES, self._min_frames)
                for _, audio, language in variants]
        decoded: list[WindowedResult | None] = [None] * len(jobs)
        by_length: dict[int, list[int]] = {}
        for i, job in enumerate(jobs):
            by_length.setdefault(job.frames, []).append(i)
        for indexes in by_length.values():
            batch = decode_fitted_batch(self._model, [jobs[i] for i in indexes])
            for i, result in zip(indexes, batch, strict=True):
                decoded[i] = result
        results: list[WindowedResult | None] = [None] * count
        for (index, _, _), result in zip(variants, decoded, strict=True):
            results[index] = _likelier(results[index], result)
        if len(jobs) > 1:
            log.debug("whisper: a batch of %d windows (%d lengths)", len(jobs), len(by_length))
        return results

    def _transcribe_sync(self, pcm: bytes, language: str, prompt: str | None = None) -> str:
        audio = int16_samples(pcm).astype(np.float32) / 32768.0
        previous = self._prompt_tokens(prompt, language)
        if previous:
            text = self._decode_prompted(audio, language, previous, prompt or "")
            if text is not None:
                return text
        return self._decode(audio, language)

    def _prompt_tokens(self, prompt: str | None, language: str) -> list[int]:
        if not prompt or not prompt.strip():
            return []
        from faster_whisper.tokenizer import Tokenizer

        tokenizer = Tokenizer(self._model.hf_tokenizer, True, task="transcribe", language=language)
        return prompt_tokens(tokenizer.encode, prompt)

    def _decode_prompted(
        self, audio: np.ndarray, language: str, previous: list[int], prompt: str
    ) -> str | None:
        """The transcript decoded with the prompt; None when the prompt led the decoder astray
        (the fitted window's guards rejected it, it heard nothing, or it only repeated the
        prompt): the caller then decodes without it, as if there had been none."""
        if self._fits(audio):
            fitted = decode_fitted(
                self._model, audio, language, MARGIN_FRAMES, self._min_frames, previous=previous
            )
            if fitted is None or not fitted.text:
                log.info("whisper: fitted window rejected with the prompt; decoding without it")
                self.prompt_rejected += 1
                return None
            if fitted.cut:
                log.debug("whisper: tail dropped (%s) on a %d-frame window (prompted)",
                          fitted.cut, fitted.window_frames)
            text = fitted.text
        else:
            text = self._decode_full(audio, language, previous)
        text, repeated = drop_repeated_sentences(text)
        if repeated:
            log.debug("whisper: a repeated sentence dropped (prompted decode): %r", text)
            self.prompt_repeats += 1
        if echoes_prompt(text, prompt):
            log.info("whisper: the transcript repeats the prompt (%r); decoding without it", text)
            self.prompt_echoes += 1
            return None
        return text

    def _fits(self, audio: np.ndarray) -> bool:
        return self._fits_frames(len(audio) // 160)

    def _fits_frames(self, frames: int) -> bool:
        return self.options.window == "fitted" and frames + MARGIN_FRAMES <= FULL_WINDOW

    @property
    def _min_frames(self) -> int:
        return int(self.options.min_window_s * 100)

    def _decode(self, audio: np.ndarray, language: str) -> str:
        """No prompt: the fitted window when it fits and its guards accept it, else 30 s."""
        if self._fits(audio):
            fitted = self._decode_batch_sync([(audio, language)])[0]
            if fitted is not None:
                if fitted.cut:
                    log.debug("whisper: tail dropped (%s) on a %d-frame window",
                              fitted.cut, fitted.window_frames)
                return fitted.text
            log.info("whisper: fitted window rejected (looping output); decoding 30 s")
            self.full_fallbacks += 1
        return self._decode_full(audio, language, [])

    def _decode_full(self, audio: np.ndarray, language: str, previous: list[int]) -> str:
        segments, _info = self._model.transcribe(
            audio,
            language=language,
            task="transcribe",
            **FULL_WINDOW_DECODING,
            # faster-whisper puts these tokens after <|startofprev|> for the first 30 s
            initial_prompt=previous or None,
            # Timestamp mode matters: without it Whisper tends to stop at the first pause
            # (measured: only "Здравствуйте!" of a two-sentence RHVoice utterance).
            without_timestamps=False,
        )
        # segments is lazy: decoding happens while iterating, so do it here, in the worker.
        text = " ".join(seg.text.strip() for seg in segments).strip()
        if repeats_itself(text):
            log.info("whisper: the 30 s window looped; keeping what came before the loop")
            return cut_loop(text)
        return text
