"""When is a caller's turn over? The end-of-turn rules on real human speech, offline.

Every labelled turn end of the human speech set (testkit/human_speech.py: after each part of
each clip, "complete" or "incomplete") is judged as the call path judges it at a pause: the
caller's audio from 0.3 s before the clip to 0.25 s after the part (`turn.judge_after_ms`),
through G.711 u-law and back at 8 kHz, heard by Smart Turn v3.2 (the probability that the
caller has finished) and by Whisper base (the words so far, for the transcript's own cues:
`turn/rules.py`'s number and phrase rules).

For each threshold of the model it counts:
- `complete_at_pause`: complete ends the model lets end at the pause (sooner than the
  600 ms silence rule);
- `incomplete_judged_complete`: incomplete ends the model calls complete;
- `premature`: of those, the ones the transcript rules do not catch (the turn would be
  answered while the caller still had more to say; the withdraw rule may still save some);
and the same with the silence rule alone for incomplete ends whose pause is longer than the
silence (those are cut whatever the model says, and only the transcript rules hold them).

Prints markdown and one JSON line last; `--write` puts the section into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ari_app.media.codecs import ulaw_decode, ulaw_encode  # noqa: E402
from ari_app.media.resample import resample  # noqa: E402
from ari_app.stt.whisper import WhisperOptions, WhisperStt  # noqa: E402
from ari_app.turn.rules import ends_mid_number, ends_mid_phrase, says_all  # noqa: E402
from ari_app.turn.smart_turn import SmartTurn, default_model_path  # noqa: E402
from testkit.human_speech import HumanClip, assemble  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import machine, write_doc  # noqa: E402  (scripts/bench.py)

SECTION = "turn_end"
CLIPS = REPO / "var" / "human-speech"
MODELS = REPO / "models"
RATE = 8000
PRE_S, TAIL_S = 0.3, 0.25
SILENCE_MS = 600  # turn.end_silence_ms
THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


@dataclass
class End:
    clip: HumanClip
    part: int
    label: str  # "complete" or "incomplete"
    pause_after_ms: int
    probability: float
    text: str

    @property
    def rules_hold(self) -> bool:
        """The transcript says more is coming: the turn waits for the rest."""
        return ends_mid_number(self.text) or ends_mid_phrase(self.text)

    @property
    def words_finish(self) -> bool:
        """The words end the turn at the pause whatever the model says (a whole question,
        a goodbye: `turn/rules.says_all`)."""
        return says_all(self.text, self.clip.language)

    def ends_at_pause(self, threshold: float) -> bool:
        """The call path ends the turn at this pause: the model or the words say the caller
        has finished, and the transcript rules do not hold it."""
        return (self.probability >= threshold or self.words_finish) and not self.rules_hold


def prefix(clip: HumanClip, part: int, tail_s: float = TAIL_S) -> bytes:
    """What the judge hears at the pause after `part` (`tail_s` after its last word): the
    phone path, 8 kHz."""
    pcm = clip.pcm()
    end = min(len(pcm) // 2, clip.parts[part].end_sample + round(tail_s * RATE))
    heard = ulaw_decode(ulaw_encode(pcm[: end * 2]))
    return bytes(2 * round(PRE_S * RATE)) + heard


async def judge(clips: list[HumanClip], tail_s: float = TAIL_S) -> list[End]:
    model = SmartTurn(default_model_path(MODELS))
    stt = WhisperStt(MODELS / "whisper-base", WhisperOptions())
    await stt.load()
    ends: list[End] = []
    for clip in clips:
        for i, span in enumerate(clip.parts):
            pcm = prefix(clip, i, tail_s)
            guess = model.predict(pcm, RATE)
            heard = await stt.transcribe(resample(pcm, RATE, stt.sample_rate), clip.language)
            ends.append(End(clip, i, span.end, span.pause_after_ms, guess.probability,
                            heard.text))
    return ends


def share(hits: list[bool]) -> float | None:
    return round(sum(hits) / len(hits), 3) if hits else None


def figures(ends: list[End]) -> dict[str, Any]:
    complete = [e for e in ends if e.label == "complete"]
    incomplete = [e for e in ends if e.label == "incomplete"]
    short_pause = [e for e in incomplete if e.pause_after_ms < SILENCE_MS]
    out: dict[str, Any] = {
        "ends": len(ends), "complete": len(complete), "incomplete": len(incomplete),
        "incomplete_short_pause": len(short_pause),
        "p_median_complete": round(statistics.median(e.probability for e in complete), 3)
        if complete else None,
        "p_median_incomplete": round(statistics.median(e.probability for e in incomplete), 3)
        if incomplete else None,
        # the silence rule alone cuts every pause longer than itself; only the rules hold
        "silence_cut_not_held": share([not e.rules_hold for e in incomplete
                                       if e.pause_after_ms >= SILENCE_MS]),
        "complete_held_by_rules": share([e.rules_hold for e in complete]),
        "by_threshold": {},
    }
    for t in THRESHOLDS:
        judged = [e for e in incomplete if e.probability >= t]
        out["by_threshold"][str(t)] = {
            "complete_at_pause": share([e.probability >= t and not e.rules_hold
                                        for e in complete]),
            "incomplete_judged_complete": share([e.probability >= t for e in incomplete]),
            "premature": share([e.probability >= t and not e.rules_hold for e in incomplete]),
            "premature_short_pause": share([e.probability >= t and not e.rules_hold
                                            for e in short_pause]),
            "caught_by_rules": share([e.rules_hold for e in judged]),
            # as the call path judges: the model, or the words' own cues
            "complete_at_pause_with_words": share([e.ends_at_pause(t) for e in complete]),
            "premature_with_words": share([e.ends_at_pause(t) for e in incomplete]),
        }
    return out


def markdown(result: dict[str, Any], seconds: float, sets: dict[str, dict[str, Any]],
             tail_s: float = TAIL_S) -> str:
    lines = [
        "## End of turn on real human speech (`scripts/bench_turn_end.py`)",
        "",
        f"Machine: {machine()}. Date: {dt.date.today().isoformat()}. Offline: every labelled "
        "turn end of the human speech set (after each part of each clip), heard as the call "
        f"path hears it at a pause: {PRE_S} s before, {tail_s} s after the part, G.711 u-law at "
        "8 kHz; "
        "Smart Turn v3.2's probability that the caller has finished, and Whisper base's words "
        "so far for the transcript rules (a trailing number, conjunction or preposition holds "
        "the turn; a whole question or a goodbye ends it at the pause, the last two columns). "
        f"{seconds:.0f} s.",
        "",
    ]
    for name, fig in sets.items():
        lines += [
            f"### {name}: {fig['ends']} ends ({fig['complete']} complete, "
            f"{fig['incomplete']} incomplete, {fig['incomplete_short_pause']} of them with a "
            f"pause under {SILENCE_MS} ms)",
            "",
            f"Median probability: complete {fig['p_median_complete']}, incomplete "
            f"{fig['p_median_incomplete']}. Incomplete ends with a longer pause cut by the "
            f"silence rule and not held by the transcript rules: "
            f"{fig['silence_cut_not_held']}. Complete ends the rules hold (wrongly): "
            f"{fig['complete_held_by_rules']}.",
            "",
            "| threshold | complete ends at the pause | incomplete judged complete | "
            "premature (not held by the rules) | premature, pauses under the silence | "
            "complete at the pause, model or words | premature, model or words |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for t, row in fig["by_threshold"].items():
            lines.append(f"| {t} | {row['complete_at_pause']} | "
                         f"{row['incomplete_judged_complete']} | {row['premature']} | "
                         f"{row['premature_short_pause']} | "
                         f"{row['complete_at_pause_with_words']} | "
                         f"{row['premature_with_words']} |")
        lines.append("")
    lines.append(f"Summary: `{json.dumps(result, ensure_ascii=False)}`")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="at most this many clips (0: all)")
    ap.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    ap.add_argument("--tail-ms", type=int, default=round(TAIL_S * 1000),
                    help="the pause the judge hears after each part (turn.judge_after_ms)")
    args = ap.parse_args()
    clips = sorted(assemble(CLIPS).values(), key=lambda c: c.id)
    if args.limit:
        clips = clips[: args.limit]
    started = time.perf_counter()
    ends = asyncio.run(judge(clips, args.tail_ms / 1000))
    seconds = time.perf_counter() - started
    sets = {
        "human, ru": figures([e for e in ends if e.clip.human and e.clip.language == "ru"]),
        "human, en": figures([e for e in ends if e.clip.human and e.clip.language == "en"]),
        "RHVoice": figures([e for e in ends if not e.clip.human]),
    }
    for e in ends:
        print(f"{e.clip.id}#{e.part} {e.label:10} p={e.probability:.2f} "
              f"hold={int(e.rules_hold)} words={int(e.words_finish)} {e.text!r}",
              file=sys.stderr)
    result = {name: {"p_median_complete": fig["p_median_complete"],
                     "p_median_incomplete": fig["p_median_incomplete"],
                     "at_0.5": fig["by_threshold"].get("0.5")}
              for name, fig in sets.items()}
    text = markdown(result, seconds, sets, args.tail_ms / 1000)
    print(text)
    if args.write:
        write_doc(SECTION, text)
    print(json.dumps({"turn_end": result}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
