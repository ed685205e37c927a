"""`bench.py turns`: does the call path hear every word of real human speech?

Each clip of the labelled human speech set (tests/data/human_speech: the Asterisk
announcers' recordings from Debian, 8 kHz) is said by a sipp caller on a call of its own,
after the greeting, into the real testbed and app. The call's caller turns (what the app
transcribed on the call path) are compared with the same Whisper engine, same settings,
run offline on the call's own recording of the caller (which holds that clip only), and
both with the clip's reference text.

Figures (JSON keys):
- `pipeline_wer_loss_ru` / `_en`: word error rate of the call path minus that of the same
  engine on each turn's audio cut from the recording (the span the record says the turn's
  audio took); `wer_recording_whole_*` is the engine on the whole recording of the caller,
  which also shows a turn whose span missed part of the speech (number clips are left to
  `number_exact_rate`; number words count as their digits);
- `short_utterance_accuracy`: clips under 1.5 s whose call-path transcript holds every
  reference word (compared by the first five letters, so endings may differ);
- `premature_cut_rate`: pauses labelled "incomplete" where the caller's turn was answered
  before they went on (the record shows more caller turns than the clip's one, with our
  reply between them; a withdrawn reply is not in the record);
- `number_exact_rate`: number clips whose call-path digits are exactly the clip's;
- `v2v_human_p50_ms_ru` / `_en` (and p95): voice to voice on the wire at the caller after
  the clip's last word (its last packet, less the silence the clip ends with) to the first
  non-silent packet of our reply: the end of turn judged on human speech, where the
  end-of-turn model hears what it was trained on (`bench.py call` has synthetic callers).
  Number clips are left out (a whole number waits out the digit rule).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
import tempfile
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ari_app.media.resample import resample  # noqa: E402
from ari_app.mind.phone import extract_digits  # noqa: E402
from ari_app.stt.whisper import WhisperOptions, WhisperStt  # noqa: E402
from testkit.human_speech import HumanClip, assemble  # noqa: E402
from testkit.local import LocalApp, write_config  # noqa: E402
from testkit.runner import place_call  # noqa: E402
from testkit.scenario import CallerLine  # noqa: E402
from testkit.transcripts import edits, holds_all, words  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import pct as percentile  # noqa: E402  (scripts/bench.py)

LINES = {"ru": "100", "en": "101"}
GREETING_MS = 6500  # the greeting lasts ~4.5-5 s
AFTER_MS = 6000  # the caller stays on this long after the clip, then hangs up
SHORT_S = 1.5
KINDS = ("greeting", "goodbye", "short", "question_pause", "sentence", "number_digits",
         "number_groups")


@dataclass
class Heard:
    clip: HumanClip
    call_path: list[str]  # the caller turns of the call, in order
    offline: str  # the same engine on each turn's span of the call's recording, joined
    whole: str  # the same engine on the whole recording of the caller
    replies_between: int  # our replies recorded between the clip's caller turns
    v2v_ms: float | None  # the clip's last word to our reply, at the caller


def trailing_silence_ms(clip: HumanClip) -> float:
    """The silence after the clip's last part (the caller's last packet comes after it)."""
    return (clip.samples - clip.parts[-1].end_sample) * 1000 / 8000 if clip.parts else 0.0


def pick(clips: dict[str, HumanClip], per_kind: int,
         kinds: tuple[str, ...] = KINDS) -> list[HumanClip]:
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise SystemExit(f"unknown clip kinds {sorted(unknown)} (known: {', '.join(KINDS)})")
    chosen: list[HumanClip] = []
    for lang in ("ru", "en"):
        for kind in kinds:
            same = [c for c in clips.values() if c.human and c.language == lang and c.kind == kind]
            chosen += sorted(same, key=lambda c: c.id)[: per_kind or None]
    return chosen


def caller_pcm(path: Path) -> bytes:
    with wave.open(str(path), "rb") as w:
        return w.readframes(w.getnframes())


def call_turns(db: Path) -> list[dict[str, Any]]:
    import sqlite3

    with sqlite3.connect(db) as con:
        con.row_factory = sqlite3.Row
        calls = [dict(r) for r in con.execute("SELECT * FROM calls ORDER BY started_at")]
        for call in calls:
            call["turns"] = [dict(r) for r in con.execute(
                "SELECT who, text, timings FROM turns WHERE call_id = ? ORDER BY id",
                (call["call_id"],))]
    return calls


async def offline_text(stt: WhisperStt, pcm: bytes, language: str) -> str:
    return (await stt.transcribe(resample(pcm, 8000, stt.sample_rate), language)).text


def span(pcm: bytes, timings: str) -> bytes:
    """A turn's audio, cut from the recording where the record says it lay."""
    t = json.loads(timings or "{}")
    if "audio_from_s" not in t:
        raise SystemExit("the record has no audio span for a caller turn (an older app?)")
    return pcm[2 * round(t["audio_from_s"] * 8000) : 2 * round(t["audio_to_s"] * 8000)]


def run_calls(clips: list[HumanClip], work: Path, log: Callable[[str], None],
              settings: dict[str, dict[str, Any]] | None = None) -> list[Heard]:
    v2v: list[float | None] = []
    with LocalApp(write_config(work, settings or {}), work / "secretary.log"):
        for i, clip in enumerate(clips):
            result = asyncio.run(place_call(
                exten=LINES[clip.language],
                utterances=[CallerLine(clip.ulaw, pause_before_ms=GREETING_MS)],
                workdir=work / f"call{i}", hangup="caller", hangup_wait_ms=AFTER_MS,
            ))  # fmt: skip
            wire = result.v2v_ms[0] if result.v2v_ms else None
            v2v.append(None if wire is None else wire + trailing_silence_ms(clip))
            log(f"call {i + 1}/{len(clips)} {clip.id}: sipp rc {result.sipp_rc}, v2v "
                f"{'-' if v2v[-1] is None else round(v2v[-1])} ms")
    calls = call_turns(work / "calls.sqlite3")
    if len(calls) != len(clips):
        raise SystemExit(f"{len(clips)} calls placed, {len(calls)} recorded; see {work}")
    stt = WhisperStt(REPO / "models" / "whisper-base", WhisperOptions(window="fitted"))
    heard: list[Heard] = []
    for clip, call, clip_v2v in zip(clips, calls, v2v, strict=True):
        turns = call["turns"]
        caller = [i for i, t in enumerate(turns) if t["who"] == "caller"]
        between = sum(1 for i in range(caller[0], caller[-1]) if turns[i]["who"] == "secretary"
                      ) if caller else 0
        recording = caller_pcm(Path(call["caller_wav"]))
        offline = " ".join(
            asyncio.run(offline_text(stt, span(recording, turns[i]["timings"]), clip.language))
            for i in caller)
        whole = asyncio.run(offline_text(stt, recording, clip.language))
        heard.append(Heard(clip, [turns[i]["text"] for i in caller], offline, whole, between,
                           clip_v2v))
    return heard


def figures(heard: list[Heard]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lang in ("ru", "en"):
        mine = [h for h in heard if h.clip.language == lang and not h.clip.digits]
        ref_words = sum(len(words(h.clip.text)) for h in mine)
        if not ref_words:
            continue
        call = sum(edits(words(h.clip.text), words(" ".join(h.call_path))) for h in mine)
        offline = sum(edits(words(h.clip.text), words(h.offline)) for h in mine)
        whole = sum(edits(words(h.clip.text), words(h.whole)) for h in mine)
        out[f"wer_call_path_{lang}"] = round(call / ref_words, 4)
        out[f"wer_recording_turns_{lang}"] = round(offline / ref_words, 4)
        out[f"wer_recording_whole_{lang}"] = round(whole / ref_words, 4)
        out[f"pipeline_wer_loss_{lang}"] = round((call - offline) / ref_words, 4)
    short = [h for h in heard if h.clip.duration_s < SHORT_S]
    if short:
        out["short_utterances"] = len(short)
        out["short_utterance_accuracy"] = round(
            sum(holds_all(h.clip.text, " ".join(h.call_path)) for h in short) / len(short), 4)
    pauses = sum(h.clip.ends.count("incomplete") for h in heard)
    cut = sum(min(h.replies_between, h.clip.ends.count("incomplete")) for h in heard)
    out["incomplete_pauses"] = pauses
    out["premature_cut_rate"] = round(cut / pauses, 4) if pauses else 0.0
    for lang in ("ru", "en"):
        replies = [h.v2v_ms for h in heard if h.clip.language == lang and not h.clip.digits
                   and h.v2v_ms is not None]
        if replies:
            out[f"v2v_human_p50_ms_{lang}"] = round(percentile(replies, 0.5), 1)
            out[f"v2v_human_p95_ms_{lang}"] = round(percentile(replies, 0.95), 1)
    numbers = [h for h in heard if h.clip.digits]
    if numbers:
        exact = sum(extract_digits(" ".join(h.call_path))[0] == h.clip.digits for h in numbers)
        out["number_clips"] = len(numbers)
        out["number_exact_rate"] = round(exact / len(numbers), 4)
        out["number_exact_rate_recording"] = round(sum(
            extract_digits(h.offline)[0] == h.clip.digits for h in numbers) / len(numbers), 4)
    return out


def run(per_kind: int, write: Callable[[str], None] | None, machine: str,
        kinds: tuple[str, ...] = KINDS,
        settings: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-turns-"))
    clips = pick(assemble(REPO / "var" / "human-speech"), per_kind, kinds)
    heard = run_calls(clips, work, lambda line: print(line, file=sys.stderr), settings)
    summary: dict[str, Any] = {"benchmark": "turns", "clips": len(heard), **figures(heard)}
    changed = "".join(f", {section}.{key}={value}" for section, values in (settings or {}).items()
                      for key, value in values.items())
    misses = [h for h in heard if not h.clip.digits
              and not holds_all(h.clip.text, " ".join(h.call_path))]
    lines = [
        f"## Turns: hearing real human speech ({dt.date.today().isoformat()})", "",
        f"Machine: {machine}. Settings: config/testbed.yaml{changed}. {len(heard)} clips of "
        "the human speech set (tests/data/human_speech), each said on a call of its own after the "
        "greeting (sipp -> Asterisk 22 testbed -> secretary). The call path's transcript is "
        "compared with the same Whisper engine on the call's own recording of the caller.",
        "", "| figure | value |", "|---|---|",
        *[f"| {k} | {v} |" for k, v in summary.items() if k != "benchmark"], "",
        f"Clips (numbers aside) whose call-path transcript misses a reference word "
        f"({len(misses)}):", "",
        *[f"- {h.clip.id}: {h.clip.text!r} -> call {' | '.join(h.call_path)!r}, "
          f"recording {h.offline!r}" for h in misses], "",
        "Numbers: " + ", ".join(
            f"{h.clip.id} {extract_digits(' '.join(h.call_path))[0]}"
            f"{'' if extract_digits(' '.join(h.call_path))[0] == h.clip.digits else ' (wrong)'}"
            for h in heard if h.clip.digits),
    ]  # fmt: skip
    print("\n".join(lines))
    if write is not None:
        write("\n".join(lines))
    return summary
