#!/usr/bin/env python3
"""Whisper's prompt (its previous text) on real human speech, offline: does context help?

Every clip of the labelled speech set (testkit/human_speech.py, var/human-speech) goes the
phone path: G.711 u-law and back, 8 -> 16 kHz, 0.3 s of silence before (the turn's pre-roll)
and 0.6 s after (the end-of-turn silence). Whisper base on the fitted window transcribes it
under each prompt variant:

- `none`: no prompt;
- `question`: the secretary's last question as the caller heard it: the default persona's
  greeting before a first turn, its "take a message?" offer before a short answer, its "what
  number should we call you back on?" before a dictated number;
- `question+words`: the same after the persona's names and words (company, secretary, staff,
  departments, services: `ari_app.stt.prompt`);
- `question-if-short`: the question for clips under 1.5 s only, none for the others (measured
  against a prompt on every short turn: docs/decisions.md).

Figures per variant, human announcers and RHVoice clips apart: word error rate (number clips
left to the digits; number words count as their digits, so "пять" and "5" are one word) per
language, per length (under / from 1.5 s) and per kind; short answers heard whole (every
reference word's first five letters in the transcript); number clips whose digits
(`extract_digits`) are exactly right; transcripts that repeated the prompt (caught and decoded
again without it); clips where a word of the prompt appeared that the caller did not say;
30 s fallbacks; time per clip. Prints markdown, then one JSON line; `--write` puts the
section into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ari_app.media.codecs import ulaw_decode, ulaw_encode  # noqa: E402
from ari_app.media.resample import resample  # noqa: E402
from ari_app.mind.persona import Persona, load_persona  # noqa: E402
from ari_app.mind.phone import extract_digits  # noqa: E402
from ari_app.mind.phrases import PhraseBook  # noqa: E402
from ari_app.stt.prompt import persona_words, recogniser_prompt  # noqa: E402
from ari_app.stt.whisper import WhisperOptions, WhisperStt  # noqa: E402
from testkit.human_speech import KINDS, NUMBER_KINDS, HumanClip, assemble  # noqa: E402
from testkit.transcripts import edits, holds_all, words  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import machine, write_doc  # noqa: E402  (scripts/bench.py)

DOC = REPO / "docs" / "benchmarks.md"
SECTION = "stt_prompt"
PERSONA = REPO / "config" / "personas" / "default.yaml"
MODEL = REPO / "models" / "whisper-base"
CLIPS = REPO / "var" / "human-speech"
SHORT_S = 1.5
PRE_S, POST_S = 0.3, 0.6
VARIANTS = ("none", "question", "question+words", "question-if-short")
SETS = ("human", "rhvoice")


@dataclass
class Case:
    clip: HumanClip
    pcm: bytes  # 16 kHz, the phone path and the silences applied
    prompts: dict[str, str | None]  # variant -> prompt


@dataclass
class Heard:
    text: str
    elapsed_s: float
    echoed: bool  # the transcript repeated the prompt: decoded again without it
    rejected: bool  # the prompted fitted decode was rejected or empty: decoded without
    repeated: bool  # the prompted transcript was cut at a sentence said twice
    fell_back: bool  # the fitted window was rejected, 30 s decoded


def phone_path(pcm8k: bytes) -> bytes:
    """u-law and back, 16 kHz, with the turn's silence before and after."""
    pcm = resample(ulaw_decode(ulaw_encode(pcm8k)), 8000, 16000)
    return bytes(2 * round(PRE_S * 16000)) + pcm + bytes(2 * round(POST_S * 16000))


def question(clip: HumanClip, persona: Persona) -> str:
    """What the secretary asked just before the caller said this clip."""
    phrases = PhraseBook(persona.phrases, clip.language, persona.tone.formality == "friendly")
    if clip.kind == "short":
        return phrases("offer_message")
    if clip.kind in NUMBER_KINDS:
        return phrases("ask_number")
    return persona.greeting[clip.language]


def context(clip: HumanClip) -> str:
    """Which question the clip answers (the turn kinds the decision is made for)."""
    if clip.kind == "short":
        return "yes/no"
    return "number" if clip.kind in NUMBER_KINDS else "greeting"


CONTEXTS = ("greeting", "yes/no", "number")


def cases(clips: list[HumanClip], persona: Persona) -> list[Case]:
    out = []
    for clip in clips:
        asked = question(clip, persona)
        words = persona_words(persona, clip.language)
        prompts = {
            "none": None,
            "question": recogniser_prompt(asked),
            "question+words": recogniser_prompt(asked, words),
            "question-if-short": recogniser_prompt(asked) if clip.duration_s < SHORT_S else None,
        }
        out.append(Case(clip, phone_path(clip.pcm()), prompts))
    return out


def inserted(case: Case, text: str) -> list[str]:
    """Words of the full prompt in the transcript that the reference does not have."""
    prompt = case.prompts["question+words"] or ""
    given = {w[:5] for w in words(prompt)}
    ref = {w[:5] for w in words(case.clip.text)}
    return [w for w in words(text) if w[:5] in given and w[:5] not in ref]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def counters(stt: WhisperStt) -> tuple[int, int, int, int]:
    return stt.prompt_echoes, stt.prompt_rejected, stt.prompt_repeats, stt.full_fallbacks


async def transcribe_all(
    stt: WhisperStt, todo: list[Case], variants: tuple[str, ...]
) -> dict[tuple[str, str], Heard]:
    """Every clip under every variant; the variants' order turns with each clip, so that
    none is always decoded first (or last) on a warm cache."""
    await stt.load()
    for variant in variants:  # warm-up, not timed
        await stt.transcribe(todo[0].pcm, todo[0].clip.language, prompt=todo[0].prompts[variant])
    heard: dict[tuple[str, str], Heard] = {}
    for i, case in enumerate(todo):
        turn = i % len(variants)
        for variant in variants[turn:] + variants[:turn]:
            before = counters(stt)
            result = await stt.transcribe(
                case.pcm, case.clip.language, prompt=case.prompts[variant]
            )
            echoed, rejected, repeated, fell_back = (
                a > b for a, b in zip(counters(stt), before, strict=True)
            )
            heard[case.clip.id, variant] = Heard(
                result.text, result.elapsed_s, echoed, rejected, repeated, fell_back
            )
        print(f"{i + 1}/{len(todo)} {case.clip.id}", file=sys.stderr)
    return heard


def wer(group: list[Case], heard: dict[tuple[str, str], Heard], variant: str) -> float | None:
    plain = [c for c in group if not c.clip.digits]
    ref_words = sum(len(words(c.clip.text)) for c in plain)
    if not ref_words:
        return None
    errors = sum(
        edits(words(c.clip.text), words(heard[c.clip.id, variant].text)) for c in plain
    )
    return round(errors / ref_words, 4)


def rate(hits: list[bool]) -> float | None:
    return round(sum(hits) / len(hits), 4) if hits else None


def figures(
    group: list[Case], heard: dict[tuple[str, str], Heard], variant: str
) -> dict[str, Any]:
    out: dict[str, Any] = {"clips": len(group), "wer": wer(group, heard, variant)}
    for lang in ("ru", "en"):
        mine = [c for c in group if c.clip.language == lang]
        out[f"wer_{lang}"] = wer(mine, heard, variant)
        out[f"wer_{lang}_short"] = wer([c for c in mine if c.clip.duration_s < SHORT_S],
                                       heard, variant)
        out[f"wer_{lang}_long"] = wer([c for c in mine if c.clip.duration_s >= SHORT_S],
                                      heard, variant)
    out["wer_short"] = wer([c for c in group if c.clip.duration_s < SHORT_S], heard, variant)
    out["wer_long"] = wer([c for c in group if c.clip.duration_s >= SHORT_S], heard, variant)
    for kind in KINDS:
        if kind not in NUMBER_KINDS:
            out[f"wer_kind_{kind}"] = wer([c for c in group if c.clip.kind == kind],
                                          heard, variant)
    short = [c for c in group if c.clip.duration_s < SHORT_S]
    out["short_n"] = len(short)
    out["short_accuracy"] = rate(
        [holds_all(c.clip.text, heard[c.clip.id, variant].text) for c in short])
    numbers = [c for c in group if c.clip.digits]
    out["number_n"] = len(numbers)
    out["digits_exact"] = rate(
        [extract_digits(heard[c.clip.id, variant].text)[0] == c.clip.digits for c in numbers])
    outcomes = [heard[c.clip.id, variant] for c in group]
    out["heard_whole"] = rate(
        [holds_all(c.clip.text, heard[c.clip.id, variant].text) for c in group
         if not c.clip.digits])
    out["prompt_echoes"] = sum(h.echoed for h in outcomes)
    out["prompt_rejected"] = sum(h.rejected for h in outcomes)
    out["prompt_repeats_cut"] = sum(h.repeated for h in outcomes)
    out["prompt_words_inserted"] = sum(
        bool(inserted(c, heard[c.clip.id, variant].text)) for c in group)
    out["full_fallbacks"] = sum(h.fell_back for h in outcomes)
    times = [h.elapsed_s * 1000 for h in outcomes]
    out["mean_ms"] = round(sum(times) / len(times), 1) if times else None
    out["p95_ms"] = round(pct(times, 0.95), 1)
    return out


def cell(value: Any) -> str:
    return "-" if value is None else str(value)


def tables(results: dict[str, dict[str, dict[str, Any]]], variants: tuple[str, ...]) -> list[str]:
    lines: list[str] = []
    human = results.get("human", {})
    if human:
        any_fig = next(iter(human.values()))
        lines += [
            f"Human announcers ({any_fig['clips']} clips; {any_fig['short_n']} under 1.5 s, "
            f"{any_fig['number_n']} numbers):", "",
            "| prompt | WER ru | WER en | WER < 1.5 s | WER >= 1.5 s | short answers whole "
            "| numbers exact | mean ms | p95 ms |",
            "|---|---|---|---|---|---|---|---|---|",
            *[f"| {v} | {cell(f['wer_ru'])} | {cell(f['wer_en'])} | {cell(f['wer_short'])} "
              f"| {cell(f['wer_long'])} | {cell(f['short_accuracy'])} "
              f"| {cell(f['digits_exact'])} | {cell(f['mean_ms'])} | {cell(f['p95_ms'])} |"
              for v, f in human.items()],
            "",
            "| prompt | WER ru < 1.5 s | ru >= 1.5 s | en < 1.5 s | en >= 1.5 s "
            + "".join(f"| {k} " for k in KINDS if k not in NUMBER_KINDS)
            + "| echoes | rejected | repeats cut | prompt words inserted | 30 s fallbacks |",
            "|---" * (10 + len(KINDS) - len(NUMBER_KINDS)) + "|",
            *[f"| {v} | {cell(f['wer_ru_short'])} | {cell(f['wer_ru_long'])} "
              f"| {cell(f['wer_en_short'])} | {cell(f['wer_en_long'])} "
              + "".join(f"| {cell(f['wer_kind_' + k])} " for k in KINDS
                        if k not in NUMBER_KINDS)
              + f"| {f['prompt_echoes']} | {f['prompt_rejected']} "
              f"| {f['prompt_repeats_cut']} | {f['prompt_words_inserted']} "
              f"| {f['full_fallbacks']} |"
              for v, f in human.items()],
            "",
        ]  # fmt: skip
    by_context = results.get("by_context", {})
    if by_context:
        lines += [
            "By the question the clip answers (human clips; `whole`: every reference word "
            "heard, numbers aside):", "",
            "| answering | prompt | clips | WER | whole | numbers exact | rejected "
            "| repeats cut | mean ms | p95 ms |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *[f"| {name} | {v} | {f['clips']} | {cell(f['wer'])} | {cell(f['heard_whole'])} "
              f"| {cell(f['digits_exact'])} | {f['prompt_rejected']} "
              f"| {f['prompt_repeats_cut']} | {cell(f['mean_ms'])} | {cell(f['p95_ms'])} |"
              for name, per in by_context.items() for v, f in per.items()],
            "",
        ]  # fmt: skip
    synthetic = results.get("rhvoice", {})
    if synthetic:
        any_fig = next(iter(synthetic.values()))
        lines += [
            f"RHVoice (synthetic, {any_fig['clips']} clips):", "",
            "| prompt | WER ru | WER en | short answers whole | echoes | rejected "
            "| repeats cut | prompt words inserted | mean ms | p95 ms |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *[f"| {v} | {cell(f['wer_ru'])} | {cell(f['wer_en'])} "
              f"| {cell(f['short_accuracy'])} ({f['short_n']}) | {f['prompt_echoes']} "
              f"| {f['prompt_rejected']} | {f['prompt_repeats_cut']} "
              f"| {f['prompt_words_inserted']} | {cell(f['mean_ms'])} | {cell(f['p95_ms'])} |"
              for v, f in synthetic.items()],
            "",
        ]  # fmt: skip
    return lines


def score(case: Case, text: str) -> int:
    """Errors in one transcript: word errors, or for a number clip 0/1 for its digits."""
    if case.clip.digits:
        return int(extract_digits(text)[0] != case.clip.digits)
    return edits(words(case.clip.text), words(text))


def changes(
    todo: list[Case], heard: dict[tuple[str, str], Heard], variants: tuple[str, ...]
) -> list[str]:
    """Clips where a prompt changed the word errors (the digits, for a number) against the
    first variant; + better, - worse."""
    base = variants[0]
    lines = []
    for case in todo:
        before = heard[case.clip.id, base].text
        after = []
        for v in variants[1:]:
            text = heard[case.clip.id, v].text
            delta = score(case, text) - score(case, before)
            if delta:
                after.append(f"{'-' if delta > 0 else '+'}{v} {text!r}")
        if after:
            lines.append(f"- {case.clip.id}: {case.clip.text!r}: {base} {before!r}; "
                         + "; ".join(after))
    return lines


def run(
    model_dir: Path,
    window: Literal["fitted", "full"],
    variants: tuple[str, ...],
    write: bool,
    details: bool,
    kinds: tuple[str, ...] = KINDS,
) -> dict[str, Any]:
    persona = load_persona(PERSONA)
    clips = sorted(
        (c for c in assemble(CLIPS).values() if c.kind in kinds),
        key=lambda c: (not c.human, c.language, c.id),
    )
    if not clips:
        raise SystemExit(f"no clips of the kinds {', '.join(kinds)}")
    todo = cases(clips, persona)
    stt = WhisperStt(model_dir, WhisperOptions(window=window))
    started = time.perf_counter()
    try:
        heard = asyncio.run(transcribe_all(stt, todo, variants))
    finally:
        stt.close()
    took = time.perf_counter() - started
    groups = {
        "human": [c for c in todo if c.clip.human],
        "rhvoice": [c for c in todo if not c.clip.human],
    }
    results: dict[str, Any] = {
        name: {v: figures(group, heard, v) for v in variants}
        for name, group in groups.items() if group
    }
    results["by_context"] = {}
    for name in CONTEXTS:
        group = [c for c in groups["human"] if context(c.clip) == name]
        if group:
            results["by_context"][name] = {v: figures(group, heard, v) for v in variants}
    example = {
        (c.clip.language, c.clip.kind in NUMBER_KINDS, c.clip.kind == "short"): c
        for c in todo
    }
    prompts = sorted({
        p for c in example.values() for p in c.prompts.values() if p is not None
    })  # fmt: skip
    lines = [
        f"## STT prompt: context for Whisper on real human speech ({dt.date.today().isoformat()})",
        "",
        f"Machine: {machine()}. scripts/bench_stt_prompt.py: Whisper base int8, window "
        f"{window}, beam 1, one worker thread. Every clip of the labelled speech set "
        "(testkit/human_speech.py) through G.711 u-law and back, 8 -> 16 kHz, with 0.3 s of "
        "silence before and 0.6 s after; each clip decoded under every prompt (the order "
        "turning from clip to clip). `question`: the secretary's last question (the greeting "
        "before a first turn, the offer to take a message before a short answer, the number "
        "question before a number); `question+words`: the persona's names and words, then the "
        "question. WER leaves the number clips to `numbers exact` (their digits by "
        "extract_digits); number words count as their digits. Short answers: clips under "
        "1.5 s with every reference word (first five letters) heard. Guards on a prompted "
        "decode: echoes (the transcript only repeated the prompt) and rejected (the fitted "
        "window's guards refused it, or it was empty) are decoded again without the prompt; "
        "repeats cut: the transcript said a sentence twice and was cut there. Prompt words "
        "inserted: clips whose transcript has a word of the full prompt that the caller did "
        "not say. "
        f"{len(todo)} clips x {len(variants)} prompts in {took:.0f} s.",
        "",
        *tables(results, variants),
        "Prompts (config/personas/default.yaml):",
        "",
        *[f"- {p!r}" for p in prompts],
        "",
        "Clips where a prompt changed the errors (+ fewer, - more; for numbers: the digits "
        "right or wrong):",
        "",
        *(changes(todo, heard, variants) or ["- none"]),
    ]  # fmt: skip
    if details:
        for case in todo:
            print(f"{case.clip.id} {case.clip.text!r}", file=sys.stderr)
            for v in variants:
                h = heard[case.clip.id, v]
                flags = "".join(flag if on else " " for flag, on in (
                    ("E", h.echoed), ("R", h.rejected), ("C", h.repeated), ("F", h.fell_back)))
                print(f"   {v:15} {h.elapsed_s * 1000:6.0f} ms {flags} {h.text!r}",
                      file=sys.stderr)
    section = "\n".join(lines).rstrip()
    print(section)
    if write:
        write_doc(SECTION, section)
    return {"benchmark": SECTION, "window": window, **results}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL, help="Whisper model directory")
    parser.add_argument("--window", choices=("fitted", "full"), default="fitted")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma-separated, first is the baseline ({', '.join(VARIANTS)})")
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help="comma-separated clip kinds to run (default: all)")
    parser.add_argument("--details", action="store_true",
                        help="every clip's transcripts on stderr")
    parser.add_argument("--write", action="store_true",
                        help=f"add or replace the {SECTION} section of docs/benchmarks.md")
    args = parser.parse_args()
    variants = tuple(v.strip() for v in args.variants.split(",") if v.strip())
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown or not variants:
        parser.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    if not kinds or any(k not in KINDS for k in kinds):
        parser.error(f"kinds are among: {', '.join(KINDS)}")
    summary = run(args.model, args.window, variants, args.write, args.details, kinds)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
