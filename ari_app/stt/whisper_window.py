"""Whisper decoding on an encoder window fitted to the utterance, not Whisper's 30 s.

faster-whisper always pads an utterance's features to 3000 frames (30 s), and on a CPU the
encoder's work on that padding is most of a short phone turn's cost (measured on 2 cores,
Whisper base int8: 0.7-1.0 s to encode 3000 frames, 0.14 s for 1000, 0.04-0.09 s for the
3-6 s of a typical turn). CTranslate2's encoder takes a shorter input, so this module
encodes the utterance plus a margin of padding and decodes on that.

A fitted window has one known failure: with little padding after the speech, the decoder may
start the transcript over once it has reached the end of the audio ("Да, верно.<1.00><1.00>
Да, верно.<2.00>..."). The guard works on the timestamp tokens: a segment that starts where
the audio has ended, or that repeats an earlier segment's words, ends the transcript. Decoding
is capped at a token budget for the audio's length; a result that ran into the cap without an
end of text, or whose text is repetitive, returns None and the caller decodes the 30 s window.

A prompt (what the secretary just asked, the company's names) goes before the start of the
transcript as Whisper's previous text: `<|startofprev|>`, the text's tokens, then the usual
start sequence. Whisper conditions on it as on its own earlier output. It may repeat it (a
transcript that only says the prompt's words: `echoes_prompt`), and more often it says the
caller's sentence twice with no timestamp between, which `drop_repeated_sentences` cuts.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

FRAMES_PER_S = 100  # Whisper's mel frames (10 ms hop)
FULL_WINDOW = 3000  # Whisper's native 30 s window
# Guards against a looping decoder: at most this many tokens per second of audio, plus a
# fixed allowance (the prompt, and the timestamp pair of each segment).
TOKENS_PER_S = 12
TOKENS_FIXED = 24
MAX_COMPRESSION_RATIO = 2.4  # the threshold Whisper itself uses for repetitive output
# A dictated number may say one digit many times ("8 800 555 55 55", digit by digit: seven
# fives); a digit said this many times in a row is a loop.
DIGIT_RUN_TIMES = 8
# A prompt is cut to its last this many tokens (Whisper allows up to 223): a question alone
# is 9-26 tokens, the default persona's names and words and a question 56-93 (ru is dearer).
MAX_PROMPT_TOKENS = 100
# A transcript of at least this many words that is a run of the prompt's own words is an echo.
ECHO_MIN_WORDS = 3


@dataclass
class WindowedResult:
    text: str
    window_frames: int
    cut: str  # "" when decoding ended by itself; otherwise why the tail was dropped
    score: float = 0.0  # the decoder's log-probability of its tokens, per token


def window_frames(content_frames: int, margin_frames: int, min_frames: int = 0) -> int:
    """The encoder window for `content_frames` of audio: the content plus the margin (and at
    least `min_frames`), rounded up to a whole second, never beyond Whisper's 30 s."""
    wanted = max(content_frames + margin_frames, min_frames)
    return min(FULL_WINDOW, int(math.ceil(wanted / FRAMES_PER_S) * FRAMES_PER_S))


def compression_ratio(text: str) -> float:
    raw = text.encode("utf-8")
    return len(raw) / len(zlib.compress(raw)) if raw else 0.0


def split_segments(
    tokens: list[int], timestamp_begin: int, eot: int
) -> list[tuple[float, list[int]]]:
    """Timestamped output tokens -> [(start seconds, text tokens)]. A timestamp token after
    text closes a segment; one before text opens the next."""
    segments: list[tuple[float, list[int]]] = []
    start = 0.0
    words: list[int] = []
    for token in tokens:
        if token == eot:
            break
        if token >= timestamp_begin:
            seconds = (token - timestamp_begin) * 0.02
            if words:
                segments.append((start, words))
                words = []
            start = seconds
        elif token < eot:
            words.append(token)
    if words:
        segments.append((start, words))
    return segments


def keep_segments(
    segments: list[tuple[float, str]], audio_s: float
) -> tuple[list[str], str]:
    """The segments' texts up to the first one that cannot be speech: one that starts where
    the audio has ended (within 0.1 s), or one whose words repeat an earlier segment's."""
    kept: list[str] = []
    seen: set[str] = set()
    for start, text in segments:
        if kept and start >= audio_s - 0.1:
            return kept, "after-end"
        key = " ".join(text.lower().strip(" .,!?;:").split())
        if key in seen:
            return kept, "repeat"
        seen.add(key)
        kept.append(text.strip())
    return kept, ""


def repeats_itself(text: str, times: int = 3, digit_times: int = DIGIT_RUN_TIMES) -> bool:
    """A word (or run of words) said `times` times in a row, or one letter held for ten:
    how a looping decoder reads when it never reached a timestamp. A run of digits counts
    only when said `digit_times` times: "2, 1, 2, 5, 5, 5, 0, 1, 4, 7" is a phone number
    (measured: taking it for a loop sent 4 of the 20 dictated numbers of the human speech
    set to the 30 s window, 1.3-1.9 s instead of ~0.4 s, which then dropped a digit of one)."""
    if re.search(r"(\w)\1{9}", text):
        return True
    words = re.findall(r"\w+", text.lower())
    for size in range(1, len(words) // times + 1):
        for first in range(len(words) - size * times + 1):
            run = words[first : first + size]
            need = digit_times if all(word.isdigit() for word in run) else times
            if first + size * need > len(words):
                continue
            if all(words[first + k * size : first + (k + 1) * size] == run for k in range(need)):
                return True
    return False


def cut_loop(text: str, times: int = 3, digit_times: int = DIGIT_RUN_TIMES) -> str:
    """`text` up to where it starts looping (see `repeats_itself`): the run said once is
    kept, its repeats and all after them dropped. Whisper's own 30 s window has no guard of
    ours and loops too (a number dictated digit by digit came back as "8-9-1-6-1-1-1-1-...");
    what it said before the loop is still the caller's."""
    tokens = list(re.finditer(r"\w+", text))
    words = [t.group().lower() for t in tokens]
    for first in range(len(words)):
        for size in range(1, (len(words) - first) // times + 1):
            run = words[first : first + size]
            need = digit_times if all(word.isdigit() for word in run) else times
            if first + size * need > len(words):
                continue
            if all(words[first + k * size : first + (k + 1) * size] == run for k in range(need)):
                return text[: tokens[first + size - 1].end()].rstrip(" ,-")
    held = re.search(r"(\w)\1{9}", text)
    return text[: held.start() + 1] if held else text


def prompt_tokens(
    encode: Callable[[str], list[int]], prompt: str | None, limit: int = MAX_PROMPT_TOKENS
) -> list[int]:
    """The previous-text tokens for `prompt` (without `<|startofprev|>`): the text with one
    leading space, as Whisper's own earlier output would read, whitespace collapsed. When it
    is over `limit` tokens, whole words are dropped from the start (the end is what was said
    last); a single word still too long keeps its last `limit` tokens. [] for no text."""
    words = (prompt or "").split()
    if not words or limit <= 0:
        return []
    tokens = list(encode(" " + " ".join(words)))
    while len(tokens) > limit and len(words) > 1:
        # drop about as many words as there are tokens too many (at least one), then re-encode
        extra = len(tokens) - limit
        words = words[max(1, min(len(words) - 1, extra * len(words) // len(tokens))) :]
        tokens = list(encode(" " + " ".join(words)))
    return tokens[-limit:]


def decoder_prompt(
    sot_sequence: Sequence[int], previous: Sequence[int] = (), sot_prev: int | None = None
) -> list[int]:
    """The tokens the decoder starts from: `<|startofprev|>` and `previous` when there are
    previous-text tokens, then the start sequence (start, language, task)."""
    if not previous:
        return list(sot_sequence)
    if sot_prev is None:
        raise ValueError("previous-text tokens need the <|startofprev|> token")
    return [sot_prev, *previous, *sot_sequence]


def prompt_words(text: str) -> list[str]:
    """Lower-case words, letters and digits only, ё as е: how texts are compared here."""
    return re.findall(r"[^\W_]+", text.lower().replace("ё", "е"))


def echoes_prompt(text: str, prompt: str | None, min_words: int = ECHO_MIN_WORDS) -> bool:
    """True when `text` says nothing but a run of the prompt's words, in the prompt's order,
    at least `min_words` long: Whisper repeating its prompt instead of hearing the caller.
    A shorter match ("Здравствуйте" after a greeting that starts with it) is what callers
    say back, and counts as heard."""
    said = prompt_words(text)
    if not prompt or len(said) < min_words:
        return False
    given = prompt_words(prompt)
    size = len(said)
    return any(given[i : i + size] == said for i in range(len(given) - size + 1))


def drop_repeated_sentences(text: str) -> tuple[str, bool]:
    """`text` up to the first sentence that says an earlier one again (its words equal to, or
    the start of, an earlier sentence's), and whether one did. Given a prompt, Whisper often
    says the caller's sentence twice with no timestamp between ("Нет. Нет.", "Goodbye!
    Goodbye!"), which `keep_segments` cannot see. Sentences of digits alone are never taken
    for repeats: a phone number may well have the same group twice ("45. 45.")."""
    sentences = [s for s in re.split(r"(?<=[.!?…])\s+", text.strip()) if s]
    kept: list[str] = []
    earlier: list[list[str]] = []
    for sentence in sentences:
        said = prompt_words(sentence)
        if all(word.isdigit() for word in said):
            kept.append(sentence)
            continue
        if any(said == before[: len(said)] for before in earlier):
            return " ".join(kept), True
        earlier.append(said)
        kept.append(sentence)
    return " ".join(kept), False


@dataclass
class FittedJob:
    """One utterance made ready for its fitted window: what the encoder and decoder take."""

    window: np.ndarray  # (mel bins, frames) of features, zero past the content
    prompt: list[int]  # the decoder's start: previous text, then the start sequence
    max_length: int  # the token budget for the audio's length (a loop runs into it)
    audio_s: float
    tokenizer: Any

    @property
    def frames(self) -> int:
        return int(self.window.shape[-1])


def prepare_fitted(
    model: Any,
    audio: np.ndarray,
    language: str,
    margin_frames: int = 100,
    min_frames: int = 0,
    previous: Sequence[int] = (),
) -> FittedJob:
    """`audio` (float32 at 16 kHz) on its fitted window, with its decoder prompt; `model` is
    a faster-whisper `WhisperModel`, `previous` the prompt's tokens (`prompt_tokens`)."""
    from faster_whisper.tokenizer import Tokenizer

    features = model.feature_extractor(audio)
    content = min(int(features.shape[-1]), FULL_WINDOW)
    frames = window_frames(content, margin_frames, min_frames)
    window = np.zeros((features.shape[0], frames), dtype=np.float32)
    window[:, :content] = features[:, :content]
    tokenizer = Tokenizer(model.hf_tokenizer, True, task="transcribe", language=language)
    prompt = decoder_prompt(tokenizer.sot_sequence, previous, tokenizer.sot_prev)
    audio_s = len(audio) / 16000
    max_length = min(len(prompt) + TOKENS_FIXED + int(TOKENS_PER_S * audio_s), model.max_length)
    return FittedJob(window, prompt, max_length, audio_s, tokenizer)


def decode_fitted_batch(model: Any, jobs: Sequence[FittedJob]) -> list[WindowedResult | None]:
    """Greedy, temperature-0 Whisper on jobs whose windows have the same length, encoded and
    decoded as one batch (each keeps its own prompt and token budget). One result per job;
    None: not to be trusted, the 30 s window should be decoded instead."""
    import ctranslate2

    if len({job.frames for job in jobs}) > 1:
        raise ValueError("a batch takes windows of one length")
    windows = np.stack([job.window for job in jobs])
    encoded = model.model.encode(ctranslate2.StorageView.from_array(windows), to_cpu=False)
    results = model.model.generate(
        encoded,
        [job.prompt for job in jobs],
        beam_size=1,
        max_length=max(job.max_length for job in jobs),
        suppress_blank=True,
        suppress_tokens=[-1],
        max_initial_timestamp_index=50,
        return_scores=True,
    )
    return [_finish(job, result.sequences_ids[0], result.scores[0])
            for job, result in zip(jobs, results, strict=True)]


def _finish(job: FittedJob, tokens: list[int], score: float) -> WindowedResult | None:
    """The job's text from its tokens (CTranslate2 leaves the end of text out), or None."""
    tokenizer = job.tokenizer
    ended = len(tokens) < job.max_length - len(job.prompt) - 1
    segments = split_segments(tokens, tokenizer.timestamp_begin, tokenizer.eot)
    texts = [(start, tokenizer.decode(words)) for start, words in segments]
    kept, cut = keep_segments(texts, job.audio_s)
    if not ended and not cut:
        return None  # ran into the budget: a loop the guards did not recognise
    text = " ".join(t for t in kept if t).strip()
    if compression_ratio(text) > MAX_COMPRESSION_RATIO or repeats_itself(text):
        return None
    return WindowedResult(text=text, window_frames=job.frames, cut=cut, score=score)


def decode_fitted(
    model: Any,
    audio: np.ndarray,
    language: str,
    margin_frames: int = 100,
    min_frames: int = 0,
    previous: Sequence[int] = (),
) -> WindowedResult | None:
    """Greedy, temperature-0 Whisper on a fitted window: one utterance, a batch of one."""
    job = prepare_fitted(model, audio, language, margin_frames, min_frames, previous)
    return decode_fitted_batch(model, [job])[0]
