#!/usr/bin/env python3
"""Benchmarks on the real parts; each prints a table, writes it to docs/benchmarks.md
(machine and date included) and prints one JSON line last.

- `bench.py call [-n N]`: N real SIP calls into the testbed (alternating the Russian and
  English lines), each asking for the opening hours, then saying goodbye. Voice to voice is
  measured on the wire at the caller: its last RTP packet of the question -> the first
  non-silent reply packet. The app's own parts come from the call records.
- `bench.py turns [--per-kind K] [--kinds A,B]`: the labelled real human speech set said on
  real calls; word errors the call path adds to the engine's own, short answers, premature
  turn ends and dictated numbers (scripts/bench_turns.py). A part of the set (`--kinds`) is
  printed, not written to docs/benchmarks.md.
- `bench.py load [--levels 8,16,24]`: N callers asking within 300 ms of each other, for each
  level N: voice to voice p50/p95 at the callers, no_reply, the recogniser's deepest queue
  (scripts/bench_load.py).
- `bench.py cluster [-n N]`: N callers through the SIP load balancer to the cluster testbed's
  two boxes, then one box's Asterisk killed (scripts/bench_cluster.py).
- `bench.py remote-stt`: the human speech set heard in-process and by a shared
  OpenAI-compatible server (faster-whisper-server) on the same turns (scripts/bench_remote_stt.py).
- `bench.py storage [-n N]`: the console's queries on N recorded calls in SQLite and in a real
  PostgreSQL (scripts/bench_storage.py); needs no testbed.
- `bench.py speech [-n N] [-b B]`: TTS time to first audio per engine (after load), voice to
  voice per language over N calls, barge-in stop time over B calls where the caller talks
  over the greeting, RTP send jitter at the caller, and the app's own overhead per turn
  (voice to voice minus end-of-turn wait, STT, reply and the synthesiser's first audio).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ari_app.media.codecs import ulaw_decode  # noqa: E402
from ari_app.media.loudness import frame_dbfs  # noqa: E402
from ari_app.storage import CallStore  # noqa: E402
from testkit.local import LocalApp, caller_lines, write_config  # noqa: E402
from testkit.runner import CallResult, place_call  # noqa: E402
from testkit.scenario import CallerLine  # noqa: E402

TESTBED = REPO / "scripts" / "asterisk-testbed"
DOC = REPO / "docs" / "benchmarks.md"
PARTS = ("endpoint_ms", "stt_ms", "reply_ms", "tts_first_audio_ms", "v2v_ms")
TTS_ENGINES = (
    ("rhvoice", "anna", "Мы работаем с понедельника по четверг с девяти до восемнадцати."),
    ("festival", "msu_ru_nsh_clunits",
     "Мы работаем с понедельника по четверг с девяти до восемнадцати."),
    ("piper", "en_US-joe-medium", "We are open Monday to Thursday from nine a.m. to six p.m."),
    ("espeak", "ru", "Мы работаем с понедельника по четверг с девяти до восемнадцати."),
)  # fmt: skip


def pct(values: list[float], q: float) -> float:
    """Percentile by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def p50_p95(values: list[float]) -> tuple[float, float]:
    return round(pct(values, 0.5), 1), round(pct(values, 0.95), 1)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, no GPU"


def write_doc(name: str, section: str) -> None:
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = DOC.read_text() if DOC.exists() else (
        "# Benchmarks\n\nFigures written by `scripts/bench.py`; each section says its machine "
        "and date.\n"
    )
    block = f"{start}\n{section}\n{end}"
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)


async def call_records(db: Path) -> list[dict[str, Any]]:
    store = CallStore(db)
    await store.open()
    try:
        calls = []
        for summary in await store.list_calls(1000):
            call = await store.get_call(summary["call_id"])
            if call is not None:
                for turn in call["turns"]:
                    if isinstance(turn.get("timings"), str):
                        turn["timings"] = json.loads(turn["timings"])
                calls.append(call)
        return calls
    finally:
        await store.close()


def rtp_jitter_ms(result: CallResult) -> list[float]:
    """|inter-arrival - 20 ms| of consecutive reply packets at the caller (same talk spurt)."""
    packets = result.received_packets
    out = []
    for a, b in itertools.pairwise(packets):
        if (b.rtp.sequence - a.rtp.sequence) % 65536 == 1 and not b.rtp.marker:
            gap = (b.time - a.time) * 1000
            if gap < 100:  # a pause inside a spurt is not jitter
                out.append(abs(gap - 20.0))
    return out


class Testbed:
    """Start the testbed if needed; stop it afterwards only if we started it."""

    def __enter__(self) -> Testbed:
        self.was_running = subprocess.run([TESTBED, "status"], capture_output=True).returncode == 0
        subprocess.run([TESTBED, "start"], check=True, capture_output=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.was_running:
            subprocess.run([TESTBED, "stop"], check=False, capture_output=True)


def hours_call(audio: dict[str, Path], lang: str, workdir: Path, barge_in: bool = False
               ) -> CallResult:
    return asyncio.run(place_call(
        exten="100" if lang == "ru" else "101",
        utterances=[
            CallerLine(audio[f"{lang}_hours"], pause_before_ms=2500 if barge_in else 7000),
            CallerLine(audio[f"{lang}_bye"], pause_before_ms=15000),
        ],
        workdir=workdir,
        hangup="remote",
        hangup_wait_ms=15000,
    ))  # fmt: skip


def table(rows: list[tuple[str, tuple[float, float]]]) -> list[str]:
    lines = ["| figure | p50 ms | p95 ms |", "|---|---|---|"]
    lines += [f"| {name} | {a} | {b} |" for name, (a, b) in rows]
    return lines


def overrides(settings: list[str]) -> dict[str, dict[str, Any]]:
    """`--set turn.speculate_after_ms=0` -> {"turn": {"speculate_after_ms": 0}}."""
    out: dict[str, dict[str, Any]] = {}
    for item in settings:
        key, _, value = item.partition("=")
        section, _, name = key.partition(".")
        if not (section and name and value):
            raise SystemExit(f"--set wants SECTION.KEY=VALUE, got {item!r}")
        out.setdefault(section, {})[name] = json.loads(value) if value[0] in "-0123456789tfn[{" \
            else value
    return out


def bench_call(n: int, write: bool, settings: list[str]) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-call-"))
    wire: dict[str, list[float]] = {"ru": [], "en": []}
    with Testbed():
        audio = caller_lines(work / "audio")
        with LocalApp(write_config(work, overrides(settings)), work / "secretary.log"):
            for i in range(n):
                lang = "ru" if i % 2 == 0 else "en"
                result = hours_call(audio, lang, work / f"call{i}")
                v2v = [v for v in result.v2v_ms if v is not None]
                wire[lang].extend(v2v)
                print(f"call {i + 1}/{n} ({lang}): v2v at the caller {[round(v) for v in v2v]} ms",
                      file=sys.stderr)
    calls = asyncio.run(call_records(work / "calls.sqlite3"))
    turns = [t["timings"] for c in calls for t in c["turns"] if "v2v_ms" in t["timings"]]
    everything = wire["ru"] + wire["en"]
    if not everything:
        raise SystemExit(f"no reply was heard on any call; see {work / 'secretary.log'}")
    summary: dict[str, Any] = {"benchmark": "call", "calls": n, "turns": len(everything),
                               "settings": settings}
    summary["v2v_p50_ms"], summary["v2v_p95_ms"] = p50_p95(everything)
    rows = [(f"voice to voice at the caller, all turns (n={len(everything)})",
             p50_p95(everything))]
    for lang in ("ru", "en"):
        if wire[lang]:
            summary[f"v2v_p50_ms_{lang}"] = p50_p95(wire[lang])[0]
            rows.append((f"voice to voice, {lang} (n={len(wire[lang])})", p50_p95(wire[lang])))
    names = {"endpoint_ms": "end-of-turn wait", "stt_ms": "STT", "reply_ms": "reply",
             "tts_first_audio_ms": "TTS to first audio", "v2v_ms": "voice to voice inside the app"}
    for part in PARTS:
        values = [t[part] for t in turns if part in t]
        if values:
            key = part.removesuffix("_ms")
            summary[f"app_{key}_p50_ms"], summary[f"app_{key}_p95_ms"] = p50_p95(values)
            rows.append((names[part], p50_p95(values)))
    lines = [
        f"## Call: voice to voice ({dt.date.today().isoformat()})", "",
        f"Machine: {machine()}. Settings: config/testbed.yaml{''.join(' ' + x for x in settings)}. "
        f"{n} real SIP calls (sipp -> Asterisk 22 testbed -> secretary), "
        "alternating ru/en; each caller asks for the hours, then says goodbye. Voice to voice "
        "is measured on the wire at the caller: its last RTP packet of a question to the first "
        "non-silent reply packet. The parts come from the call records.", "",
        *table(rows),
    ]  # fmt: skip
    print("\n".join(lines))
    if write:
        write_doc("call", "\n".join(lines))
    return summary


async def tts_ttfa(runs: int) -> dict[str, list[float]]:
    from ari_app.tts.factory import build_tts

    out: dict[str, list[float]] = {}
    for engine, voice, text in TTS_ENGINES:
        tts = build_tts(engine, voice)
        try:
            await tts.load()
        except Exception as exc:  # an engine not installed is reported, not fatal
            print(f"{engine}: not available ({exc})", file=sys.stderr)
            continue
        values = []
        for _ in range(runs):
            started = time.perf_counter()
            first = None
            async for _chunk in tts.synthesize(text):
                if first is None:
                    first = time.perf_counter() - started
            if first is not None:
                values.append(first * 1000)
        out[f"{engine}:{voice}"] = values
    return out


class TimerFloor:
    """A thread that does nothing but sleep to absolute 20 ms deadlines (real-time priority
    when allowed) and note |gap - 20 ms|: what the machine itself gives a sleeping thread,
    to set our RTP sender's jitter against, measured in the same run."""

    def __init__(self) -> None:
        self.gaps_ms: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="timer-floor", daemon=True)

    def __enter__(self) -> TimerFloor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with contextlib.suppress(AttributeError, OSError):
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
        deadline = last = time.monotonic()
        while not self._stop.is_set():
            deadline += 0.02
            time.sleep(max(0.0, deadline - time.monotonic()))
            now = time.monotonic()
            self.gaps_ms.append(abs((now - last) * 1000 - 20.0))
            last = now


def bench_speech(n: int, b: int, write: bool) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-speech-"))
    ttfa = asyncio.run(tts_ttfa(5))
    wire: dict[str, list[float]] = {"ru": [], "en": []}
    jitter: list[float] = []
    barge_wire: list[float] = []
    with Testbed():
        audio = caller_lines(work / "audio")
        with LocalApp(write_config(work), work / "secretary.log"), TimerFloor() as floor:
            for i in range(n):
                lang = "ru" if i % 2 == 0 else "en"
                result = hours_call(audio, lang, work / f"call{i}")
                wire[lang].extend(v for v in result.v2v_ms if v is not None)
                jitter.extend(rtp_jitter_ms(result))
                print(f"call {i + 1}/{n} ({lang}) done", file=sys.stderr)
            for i in range(b):
                result = hours_call(audio, "ru", work / f"barge{i}", barge_in=True)
                jitter.extend(rtp_jitter_ms(result))
                onset = result.sent_packets[0].time if result.sent_packets else None
                loud = [p.time for p in result.received_packets
                        if onset is not None and onset <= p.time < onset + 2.0
                        and frame_dbfs(ulaw_decode(p.rtp.payload)) > -40]
                if onset is not None and loud:
                    barge_wire.append((max(loud) - onset) * 1000)
                print(f"barge-in call {i + 1}/{b} done", file=sys.stderr)
    calls = asyncio.run(call_records(work / "calls.sqlite3"))
    timings = [t["timings"] for c in calls for t in c["turns"]]
    v2v_turns = [t for t in timings if "v2v_ms" in t and "tts_engine_ms" in t]
    overhead = [
        t["v2v_ms"] - t["endpoint_ms"] - t["stt_ms"] - t["reply_ms"] - t["tts_engine_ms"]
        for t in v2v_turns
    ]
    barge_app = [t["bargein_stop_ms"] for t in timings if "bargein_stop_ms" in t]
    summary: dict[str, Any] = {"benchmark": "speech", "calls": n, "bargein_calls": b}
    rows: list[tuple[str, tuple[float, float]]] = []
    for lang in ("en", "ru"):
        if wire[lang]:
            summary[f"v2v_p50_ms_{lang}"], summary[f"v2v_p95_ms_{lang}"] = p50_p95(wire[lang])
            rows.append((f"voice to voice at the caller, {lang} (n={len(wire[lang])})",
                         p50_p95(wire[lang])))
    summary["tts_ttfa_ms"] = {k: p50_p95(v)[0] for k, v in ttfa.items() if v}
    rows += [(f"TTS first audio, {k} (n={len(v)})", p50_p95(v)) for k, v in ttfa.items() if v]
    if barge_app:
        summary["bargein_stop_ms_p50"], summary["bargein_stop_ms_p95"] = p50_p95(barge_app)
        rows.append((f"barge-in stop: caller speech onset -> our last frame (n={len(barge_app)})",
                     p50_p95(barge_app)))
    if barge_wire:
        summary["bargein_stop_wire_ms_p50"] = p50_p95(barge_wire)[0]
        rows.append((f"barge-in on the wire: caller's first packet -> last reply packet "
                     f"(n={len(barge_wire)})", p50_p95(barge_wire)))
    sends = [t["send_jitter_p99_ms"] for t in timings if "send_jitter_p99_ms" in t]
    if sends:
        summary["rtp_jitter_p99_ms"] = round(max(sends), 2)
        rows.append((f"our RTP send jitter abs(gap - 20 ms), p99 per reply (n={len(sends)}); "
                     f"worst {summary['rtp_jitter_p99_ms']}", p50_p95(sends)))
    gaps = sum(t.get("send_gaps", 0.0) for t in timings)
    pooled = ""
    if gaps:
        late = sum(t.get("send_gaps_over_2ms", 0.0) for t in timings)
        summary["rtp_send_gaps_over_2ms_share"] = round(late / gaps, 5)
        pooled = (f" Our RTP send, all {int(gaps)} gaps pooled: {late / gaps:.2%} were off "
                  "20 ms by more than 2 ms (the pooled p99 is within 2 ms while this is under "
                  "1%).")
    if floor.gaps_ms:
        summary["timer_floor_p99_ms"] = round(pct(floor.gaps_ms, 0.99), 2)
        summary["timer_floor_max_ms"] = round(max(floor.gaps_ms), 2)
        share = sum(g > 2.0 for g in floor.gaps_ms) / len(floor.gaps_ms)
        summary["timer_floor_gaps_over_2ms_share"] = round(share, 5)
        rows.append((f"this machine's timer floor: a bare thread sleeping to 20 ms deadlines "
                     f"in the bench process meanwhile (n={len(floor.gaps_ms)}), max "
                     f"{summary['timer_floor_max_ms']}, over 2 ms {share:.2%}",
                     p50_p95(floor.gaps_ms)))
    if jitter:
        summary["rtp_jitter_at_caller_p99_ms"] = round(pct(jitter, 0.99), 2)
        rows.append((f"RTP jitter at the caller, after Asterisk's mixing (n={len(jitter)}); "
                     f"p99 {summary['rtp_jitter_at_caller_p99_ms']}", p50_p95(jitter)))
    if overhead:
        summary["overhead_p50_ms"], summary["overhead_p95_ms"] = p50_p95(overhead)
        rows.append((f"own overhead per turn (n={len(overhead)})", p50_p95(overhead)))
    lines = [
        f"## Speech: turn taking and TTS ({dt.date.today().isoformat()})", "",
        f"Machine: {machine()}. TTS first audio after load, 5 runs per engine; {n} ordinary "
        f"calls alternating en/ru and {b} Russian calls where the caller talks over the "
        "greeting 2.5 s in (its first 1.5 s are protected). Own overhead = voice to voice in "
        f"the app minus end-of-turn wait, STT, reply and the synthesiser's first audio.{pooled}",
        "",
        *table(rows),
    ]  # fmt: skip
    print("\n".join(lines))
    if write:
        write_doc("speech", "\n".join(lines))
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="which", required=True)
    call = sub.add_parser("call", help="voice-to-voice latency over real SIP calls")
    call.add_argument("-n", "--calls", type=int, default=10)
    speech = sub.add_parser("speech", help="TTS, voice to voice, barge-in, jitter, overhead")
    speech.add_argument("-n", "--calls", type=int, default=6)
    speech.add_argument("-b", "--bargein-calls", type=int, default=4)
    mind = sub.add_parser("mind", help="LLM time to first token per provider, fallback hand-over")
    mind.add_argument("-n", "--requests", type=int, default=10)
    turns = sub.add_parser("turns", help="hearing real human speech on real calls")
    turns.add_argument("--per-kind", type=int, default=0,
                       help="clips of each kind and language (0: all)")
    turns.add_argument("--kinds", default="",
                       help="only these kinds of clip, comma-separated (e.g. "
                            "number_digits,number_groups; default: all)")
    load = sub.add_parser("load", help="many callers asking at once")
    load.add_argument("--levels", default="8,16,24", help="callers per wave, comma-separated")
    soak = sub.add_parser("soak", help="many callers for minutes, then what was left behind")
    soak.add_argument("--calls", type=int, default=40, help="callers calling at once")
    soak.add_argument("--minutes", type=float, default=10.0)
    storage = sub.add_parser("storage", help="the console's queries on many recorded calls")
    storage.add_argument("-n", "--calls", type=int, default=100_000)
    remote_stt = sub.add_parser("remote-stt", help="a shared STT server against in-process STT")
    cluster = sub.add_parser("cluster", help="two boxes behind the load balancer, one killed")
    cluster.add_argument("-n", "--calls", type=int, default=40)
    for p in (call, speech, mind, turns, load, soak, storage, remote_stt, cluster):
        p.add_argument("--no-write", action="store_true", help="leave docs/benchmarks.md")
    for p in (call, load, turns):
        p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                       help="override a config setting, e.g. turn.speculate_after_ms=0")
    args = parser.parse_args()
    if args.which == "call":
        summary = bench_call(args.calls, write=not args.no_write, settings=args.set)
    elif args.which == "mind":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import bench_mind  # scripts/bench_mind.py: it has no Asterisk part

        summary = bench_mind.run(args.requests, write=not args.no_write)
    elif args.which == "load":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import bench_load  # scripts/bench_load.py

        with Testbed():
            summary = bench_load.run(
                [int(x) for x in args.levels.split(",")],
                None if args.no_write else lambda s: write_doc("load", s), machine(),
                p50_p95, overrides(args.set),
            )
    elif args.which == "soak":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import bench_soak  # scripts/bench_soak.py

        with Testbed():
            summary = bench_soak.run(
                args.calls, args.minutes,
                None if args.no_write else lambda s: write_doc("soak", s), machine(),
            )
    elif args.which == "cluster":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import bench_cluster  # scripts/bench_cluster.py: its own Asterisk boxes

        summary = bench_cluster.run(
            args.calls, None if args.no_write else lambda s: write_doc("cluster", s), machine(),
            p50_p95)
    elif args.which == "remote-stt":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import bench_remote_stt  # scripts/bench_remote_stt.py: no Asterisk part

        summary = bench_remote_stt.run(
            None if args.no_write else lambda s: write_doc("remote-stt", s), machine(), p50_p95)
    elif args.which == "storage":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import bench_storage  # scripts/bench_storage.py: no Asterisk part

        summary = bench_storage.run(
            args.calls, None if args.no_write else lambda s: write_doc("storage", s),
            machine(), p50_p95)
    elif args.which == "turns":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import bench_turns  # scripts/bench_turns.py

        with Testbed():
            kinds = tuple(k for k in args.kinds.split(",") if k) or bench_turns.KINDS
            write = None if args.no_write or kinds != bench_turns.KINDS or args.set else (
                lambda s: write_doc("turns", s))  # a part of the set is not the figure
            summary = bench_turns.run(args.per_kind, write, machine(), kinds,
                                      overrides(args.set))
    else:
        summary = bench_speech(args.calls, args.bargein_calls, write=not args.no_write)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
