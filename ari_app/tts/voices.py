"""Reference voices for a voice-cloning TTS: check recordings, store them, list them.

A voice is a folder `VOICES_DIR/<name>/` holding mono 16-bit WAV clips (`clip-01.wav`, ...)
and `voice.json` (name, creation time, each clip's sha256, duration and rate, total duration).
`secretary voice add NAME FILE...` and `secretary voice list` call `main(argv)`.

Recordings of a person's voice are personal data: store them only with the speaker's consent,
and keep them out of git (see voices/README.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sys
import tempfile
import wave
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt

from ari_app.media.loudness import amplitude_dbfs

DEFAULT_VOICES_DIR = Path("voices")
VOICE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")

MIN_RATE_HZ = 16000
MIN_DURATION_S = 3.0
MAX_DURATION_S = 30.0
MIN_RMS_DBFS = -35.0
MAX_CLIPPED_FRACTION = 0.001  # samples within 1 LSB of full scale
SILENCE_FRAME_S = 0.02
SILENCE_DBFS = -50.0
MAX_SILENCE_FRACTION = 0.5
MIN_TOTAL_S = 6.0
DBFS_FLOOR = -120.0

NOT_PCM16 = "not a 16-bit PCM WAV file (convert with: sox in.xxx -b 16 out.wav)"

Samples = npt.NDArray[np.int16]


@dataclass
class ClipReport:
    """What `validate_clip` measured; `problems` is empty when the clip is usable."""

    path: Path
    ok: bool
    problems: list[str]
    duration_s: float = 0.0
    sample_rate: int = 0
    channels: int = 0
    rms_dbfs: float = DBFS_FLOOR
    peak_dbfs: float = DBFS_FLOOR
    clipped_fraction: float = 0.0
    silence_fraction: float = 0.0
    notes: list[str] = field(default_factory=list)  # accepted but worth knowing (stereo)


@dataclass
class VoiceReport:
    """What `add_voice` did: `ok` only when the voice was written to `voice_dir`."""

    name: str
    ok: bool
    clips: list[ClipReport]
    problems: list[str]
    voice_dir: Path | None = None
    total_duration_s: float = 0.0


class NotPcm16(Exception):
    """The file is not a 16-bit PCM WAV."""


def read_pcm16(path: Path) -> tuple[Samples, int, int]:
    """(interleaved int16 samples shaped (frames, channels), rate, channels); NotPcm16 else."""
    try:
        with wave.open(str(path), "rb") as wav:
            if wav.getsampwidth() != 2 or wav.getcomptype() != "NONE":
                raise NotPcm16
            channels = wav.getnchannels()
            rate = wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError, RuntimeError) as exc:  # RuntimeError: a seek past a chunk
        raise NotPcm16 from exc
    usable = len(raw) - len(raw) % (2 * channels)
    samples = np.frombuffer(raw[:usable], dtype="<i2").astype(np.int16)
    return samples.reshape(-1, channels), rate, channels


def _mono(samples: Samples) -> Samples:
    if samples.shape[1] == 1:
        return samples[:, 0].copy()
    mixed = np.rint(samples.astype(np.float64).mean(axis=1))
    return np.clip(mixed, -32768, 32767).astype(np.int16)


def _silence_fraction(mono: Samples, rate: int) -> float:
    frame = max(1, int(rate * SILENCE_FRAME_S))
    count = len(mono) // frame
    if count == 0:
        return 1.0
    frames = mono[: count * frame].astype(np.float64).reshape(count, frame)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    threshold = 32768.0 * 10 ** (SILENCE_DBFS / 20.0)
    return float(np.mean(rms < threshold))


def validate_clip(path: Path) -> ClipReport:
    """Measure a reference clip and list, in plain words, what makes it unfit for cloning."""
    path = Path(path)
    if not path.is_file():
        return ClipReport(path, False, [f"file not found: {path}"])
    try:
        samples, rate, channels = read_pcm16(path)
    except NotPcm16:
        return ClipReport(path, False, [NOT_PCM16])
    except OSError as exc:
        return ClipReport(path, False, [f"cannot read the file: {exc}"])
    mono = _mono(samples)
    duration = len(mono) / rate if rate else 0.0
    as_float = mono.astype(np.float64)
    rms = float(np.sqrt(np.mean(as_float * as_float))) if len(mono) else 0.0
    peak = float(np.max(np.abs(samples.astype(np.int32)))) if samples.size else 0.0
    clipped = (
        float(np.mean((samples >= 32766) | (samples <= -32767))) if samples.size else 0.0
    )
    report = ClipReport(
        path=path,
        ok=True,
        problems=[],
        duration_s=duration,
        sample_rate=rate,
        channels=channels,
        rms_dbfs=amplitude_dbfs(rms, DBFS_FLOOR),
        peak_dbfs=amplitude_dbfs(peak, DBFS_FLOOR),
        clipped_fraction=clipped,
        silence_fraction=_silence_fraction(mono, rate),
    )
    problems = report.problems
    if rate < MIN_RATE_HZ:
        problems.append(
            f"sample rate {rate} Hz is below {MIN_RATE_HZ} Hz (phone-quality 8 kHz clips make "
            "a muffled clone; record at 22050 or 24000 Hz)"
        )
    if duration < MIN_DURATION_S:
        problems.append(
            f"too short: {duration:.1f} s, need at least {MIN_DURATION_S:.0f} s of speech"
        )
    elif duration > MAX_DURATION_S:
        problems.append(
            f"too long: {duration:.1f} s, at most {MAX_DURATION_S:.0f} s "
            "(cut it into shorter clips)"
        )
    if report.rms_dbfs < MIN_RMS_DBFS:
        problems.append(
            f"too quiet: RMS {report.rms_dbfs:.1f} dBFS is below {MIN_RMS_DBFS:.0f} dBFS "
            "(record closer to the microphone or raise the gain)"
        )
    if clipped > MAX_CLIPPED_FRACTION:
        problems.append(
            f"clipped: {clipped:.2%} of samples are at full scale, more than "
            f"{MAX_CLIPPED_FRACTION:.1%} (lower the recording gain and record again)"
        )
    if report.silence_fraction > MAX_SILENCE_FRACTION:
        problems.append(
            f"mostly silence: {report.silence_fraction:.0%} of 20 ms frames are below "
            f"{SILENCE_DBFS:.0f} dBFS, more than {MAX_SILENCE_FRACTION:.0%} (trim the silence)"
        )
    if channels > 1:
        report.notes.append(f"{channels} channels: mixed down to mono")
    report.ok = not problems
    return report


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _write_mono(path: Path, mono: Samples, rate: int) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(mono.astype("<i2").tobytes())


def add_voice(
    name: str, files: list[Path], voices_dir: Path, *, replace: bool = False
) -> VoiceReport:
    """Validate `files` and store them as voice `name`; nothing is written unless all pass.

    Refuses a bad name, any failing clip, less than 6 s in total, the same audio twice, and an
    existing voice unless `replace` (which replaces the whole voice).
    """
    voices_dir = Path(voices_dir)
    report = VoiceReport(name=name, ok=False, clips=[], problems=[])
    if not VOICE_NAME.match(name):
        report.problems.append(
            f"invalid voice name {name!r}: use 1-40 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
        return report
    if not files:
        report.problems.append("no clips given")
        return report
    target = voices_dir / name
    if target.exists() and not replace:
        report.problems.append(
            f"voice {name!r} already exists in {target}; add --replace to replace it"
        )
    report.clips = [validate_clip(Path(f)) for f in files]
    bad = [c for c in report.clips if not c.ok]
    if bad:
        report.problems.append(
            f"{len(bad)} of {len(report.clips)} clips rejected: "
            + "; ".join(f"{c.path.name}: {', '.join(c.problems)}" for c in bad)
        )
    report.total_duration_s = sum(c.duration_s for c in report.clips if c.ok)
    if not bad and report.total_duration_s < MIN_TOTAL_S:
        report.problems.append(
            f"only {report.total_duration_s:.1f} s of good audio in total, need at least "
            f"{MIN_TOTAL_S:.0f} s (add more clips)"
        )
    if report.problems:
        return report

    voices_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=voices_dir))
    try:
        clips_meta: list[dict[str, Any]] = []
        seen: dict[str, str] = {}
        for i, clip in enumerate(report.clips, start=1):
            samples, rate, _channels = read_pcm16(clip.path)
            out = staging / f"clip-{i:02d}.wav"
            _write_mono(out, _mono(samples), rate)
            sha = _sha256(out)
            if sha in seen:
                report.problems.append(
                    f"{clip.path.name} is the same audio as {seen[sha]}; give each clip once"
                )
            seen[sha] = clip.path.name
            clips_meta.append(
                {
                    "file": out.name,
                    "source": clip.path.name,
                    "sha256": sha,
                    "duration_s": round(clip.duration_s, 3),
                    "sample_rate": rate,
                    "channels": 1,
                }
            )
        if report.problems:
            return report
        meta = {
            "name": name,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "clips": clips_meta,
            "total_duration_s": round(report.total_duration_s, 3),
        }
        (staging / "voice.json").write_text(
            json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        old: Path | None = None
        if target.exists():
            old = voices_dir / f".{name}.old"
            if old.exists():
                shutil.rmtree(old)
            target.rename(old)
        staging.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    report.ok = True
    report.voice_dir = target
    return report


def list_voices(voices_dir: Path) -> list[dict[str, Any]]:
    """Every voice under `voices_dir` (its voice.json plus "path"), sorted by name.

    A folder whose voice.json cannot be read is listed with an "error" key.
    """
    voices_dir = Path(voices_dir)
    if not voices_dir.is_dir():
        return []
    voices: list[dict[str, Any]] = []
    for meta_path in sorted(voices_dir.glob("*/voice.json")):
        folder = meta_path.parent
        if folder.name.startswith("."):
            continue
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if not isinstance(meta, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            voices.append({"name": folder.name, "path": str(folder), "error": str(exc)})
            continue
        meta["path"] = str(folder)
        voices.append(meta)
    return voices


def _print_clips(clips: list[ClipReport], out: TextIO) -> None:
    width = max([len("clip"), *(len(c.path.name) for c in clips)])
    out.write(f"{'clip':<{width}}  {'':4}  {'length':>7}  {'rate':>6}  {'RMS':>6}  problems\n")
    for c in clips:
        status = "ok" if c.ok else "FAIL"
        found = c.problems + c.notes if c.problems else (c.notes or ["-"])
        out.write(
            f"{c.path.name:<{width}}  {status:4}  {c.duration_s:6.1f}s  {c.sample_rate:>6}  "
            f"{c.rms_dbfs:6.1f}  {found[0]}\n"
        )
        for extra in found[1:]:
            out.write(f"{'':<{width}}  {'':4}  {'':7}  {'':6}  {'':6}  {extra}\n")


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # usage errors return 2 instead of exiting
        raise _UsageError(f"{self.format_usage()}{self.prog}: error: {message}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="secretary voice", description="Reference voices for voice cloning.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    add = sub.add_parser("add", help="check WAV clips and store them as a voice")
    add.add_argument("name", help="voice name: lower-case letters, digits, - and _")
    add.add_argument("files", nargs="+", type=Path, help="16-bit PCM WAV clips, 3-30 s each")
    add.add_argument("--replace", action="store_true", help="replace an existing voice")
    add.add_argument("--voices-dir", type=Path, default=DEFAULT_VOICES_DIR)
    lst = sub.add_parser("list", help="list the stored voices")
    lst.add_argument("--voices-dir", type=Path, default=DEFAULT_VOICES_DIR)
    return parser


def main(argv: list[str], out: TextIO | None = None) -> int:
    """`secretary voice ...`: 0 on success, 1 when refused (clips, name taken), 2 on usage."""
    out = out if out is not None else sys.stdout
    try:
        args = _parser().parse_args(argv)
    except _UsageError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    if args.command == "list":
        voices = list_voices(args.voices_dir)
        if not voices:
            out.write(f"no voices in {args.voices_dir}\n")
        for v in voices:
            if "error" in v:
                out.write(f"{v['name']}: unreadable voice.json ({v['error']})\n")
                continue
            clips = v.get("clips", [])
            out.write(
                f"{v['name']}: {len(clips)} clips, {float(v.get('total_duration_s', 0)):.1f} s, "
                f"created {v.get('created', '?')}\n"
            )
        return 0
    if not VOICE_NAME.match(args.name):
        sys.stderr.write(
            f"secretary voice: invalid voice name {args.name!r}: use 1-40 lower-case letters, "
            "digits, '-' or '_', starting with a letter or digit\n"
        )
        return 2
    report = add_voice(args.name, args.files, args.voices_dir, replace=args.replace)
    if report.clips:
        _print_clips(report.clips, out)
    if report.ok:
        out.write(
            f"voice {report.name!r} added: {len(report.clips)} clips, "
            f"{report.total_duration_s:.1f} s, in {report.voice_dir}\n"
        )
        return 0
    out.write(f"voice {report.name!r} NOT added; nothing was written. Fix this and try again:\n")
    for problem in report.problems:
        out.write(f"  - {problem}\n")
    return 1
